"""What the record edit pages (details, facilities, staff, evidence) share: the office of a
posted form, why a user may not edit, the audit event a save wrote, and the notice read back
from that event.

A saved form redirects with `?saved=<audit event id>`; the notice is that event as the audit
trail holds it (what changed, when, by whom), and only if it is about this office — a crafted
link cannot make a page announce a save that did not happen. Nothing of the notice's text
comes from the URL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.accounts.permissions import Action
from service.accounts.roles import ROLE_LABELS_ZH
from service.accounts.scope import Scope
from service.core.errors import Invalid
from service.offices import service as offices
from service.offices.dependencies import MAX_ID
from service.offices.models import Office
from service.pages.record_labels import FACILITY_LABELS_ZH, OFFICE_LABELS_ZH, STAFF_LABELS_ZH

BEIJING = timezone(timedelta(hours=8))  # (China keeps one time, with no daylight saving)
STAFF_ENTITIES = ("office_staff", "office_staff_personal")
WHAT_ZH = {"offices": "基本情况", "office_facilities": "设施装备和管理记录"}
CHANGE_LABELS_ZH: dict[str, Mapping[str, str]] = {
    "offices": OFFICE_LABELS_ZH,
    "office_facilities": FACILITY_LABELS_ZH,
    "office_staff": STAFF_LABELS_ZH,
    "office_staff_personal": STAFF_LABELS_ZH,
}


class PostedForm:
    """A posted form: `one` is a field's value (stripped; "" when absent), `all` every value
    of a field that repeats (checkboxes)."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def one(self, name: str) -> str:
        value = self._data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self._data.getlist(name) if isinstance(v, str)]

    def singles(self) -> dict[str, str]:
        """Every text field's value, to show the form again as it was typed."""
        return {k: self.one(k) for k in self._data if k != "csrf"}


async def posted_form(request: Request) -> PostedForm:
    """The posted form (parsed once by Starlette; `form_scope` read its token from it)."""
    return PostedForm(await request.form())


def saved_id(raw: str | None) -> int | None:
    """The `?saved=` event id, or None for anything but a number (the notice is looked up)."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 19 else None


def edit_refusal(scope: Scope, office: Office) -> str | None:
    """Why this user may not change the office's records, in Chinese (None: they may) — the
    same two conditions as `records.service.require_editor`, said to a person."""
    if office.closed_at is not None:
        return "该司法所已撤销,记录只能查看,不能再更改。"
    if not scope.can(Action.update_office):
        return (
            f"您的角色({ROLE_LABELS_ZH[scope.role]})只能查看记录;"
            "记录由县(市、区)司法局或本所工作人员填报。"
        )
    return None


def posted_office(session: Session, scope: Scope, office_id: int) -> Office:
    """The office of a posted form, checked as `valid_office` checks it (404 outside)."""
    if not 1 <= office_id <= MAX_ID:
        raise Invalid("office_id out of range", {"field": "office_id"})
    return offices.get_office(session=session, scope=scope, office_id=office_id)


def last_event_id(
    session: Session, *, tenant_id: int, entities: Iterable[str], entity_id: int
) -> int:
    """The newest audit event of one entity (0: none) — taken before and after a save, the
    difference says whether the save wrote one (an unchanged record writes none)."""
    return int(
        session.scalar(
            text(
                "SELECT coalesce(max(id), 0) FROM audit_events WHERE tenant_id = :t"
                " AND entity_type = ANY(:e) AND entity_id = :id"
            ),
            {"t": tenant_id, "e": list(entities), "id": str(entity_id)},
        )
        or 0
    )


@dataclass(frozen=True)
class Notice:
    """A save as the audit trail records it, for the top of a page."""

    what: str
    changed: list[str] = field(default_factory=list)
    at: str = ""
    who: str = ""


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> set[str]:
    if after is None:
        return set()
    if before is None:  # a first record: what it records
        return {k for k, v in after.items() if v is not None}
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def _staff_name(session: Session, tenant_id: int, staff_id: int) -> str:
    """The staff member's name where the user's role may see it (row-level policy), else ""."""
    return str(
        session.scalar(
            text("SELECT name FROM office_staff_personal WHERE tenant_id = :t AND staff_id = :s"),
            {"t": tenant_id, "s": staff_id},
        )
        or ""
    )


def saved_notice(
    *, session: Session, scope: Scope, office: Office, event_id: int | None
) -> Notice | None:
    """The notice of audit event `event_id` if it records a change of this office's details,
    facilities or staff; None for any other id (another office's, a user's, none at all)."""
    if event_id is None or not 1 <= event_id <= MAX_ID:
        return None
    row = session.execute(
        text(
            "SELECT id, occurred_at, username, role, action, entity_type, entity_id,"
            " before, after, request_id FROM audit_events WHERE tenant_id = :t AND id = :id"
        ),
        {"t": scope.tenant_id, "id": event_id},
    ).one_or_none()
    if row is None or row.entity_type not in CHANGE_LABELS_ZH:
        return None
    doc = row.after or row.before or {}
    if row.entity_type in ("offices", "office_facilities"):
        if row.entity_id != str(office.id):
            return None
        what = WHAT_ZH[row.entity_type]
    else:
        staff_id = int(row.entity_id)
        owner = session.scalar(
            text("SELECT office_id FROM office_staff WHERE tenant_id = :t AND id = :s"),
            {"t": scope.tenant_id, "s": staff_id},
        )
        if owner != office.id:
            return None
        name = _staff_name(session, scope.tenant_id, staff_id)
        what = f"工作人员{name}" if name else "工作人员信息"
    # the other events of the same save (a staff member's row and personal data are two)
    rows: Sequence[Any] = [row]
    if row.request_id and row.entity_type in STAFF_ENTITIES:
        rows = session.execute(
            text(
                "SELECT action, before, after FROM audit_events WHERE tenant_id = :t"
                " AND request_id = :r AND entity_type = ANY(:e) AND entity_id = :id"
            ),
            {
                "t": scope.tenant_id,
                "r": row.request_id,
                "e": list(STAFF_ENTITIES),
                "id": row.entity_id,
            },
        ).all()
    labels = CHANGE_LABELS_ZH[row.entity_type]
    changed: set[str] = set()
    for r in rows:
        changed |= _changes(r.before, r.after)
    if row.action == "insert" and row.entity_type in STAFF_ENTITIES:
        what = f"已添加{what}"
    elif row.entity_type == "office_staff" and "left_on" in changed and doc.get("left_on"):
        what = f"已登记{what}离岗(离岗日期 {doc['left_on']})"
    else:
        what = f"已保存{what}"
    role = ROLE_LABELS_ZH.get(row.role or "")
    when: datetime = row.occurred_at
    return Notice(
        what=what,
        changed=[]
        if row.action == "insert" and row.entity_type in STAFF_ENTITIES
        else sorted({labels[k] for k in changed if k in labels}),
        at=when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        who=f"{row.username}({role})" if role else str(row.username),
    )
