"""What the record edit pages (details, facilities, staff, evidence) share: the request a page
answers (its office, checked, with the session, the user and the settings), the page drawn
with its header, notice, refusal and token, a save tried in a savepoint with its refusals by
field, why a user may not edit, the audit event a save wrote, and the notice read back from
that event.

A saved form redirects with `?saved=<audit event id>`; the notice is that event as the audit
trail holds it (what changed, when, by whom), and only if it is about this office — a crafted
link cannot make a page announce a save that did not happen. Nothing of the notice's text
comes from the URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.accounts.permissions import Action
from service.accounts.roles import ROLE_LABELS_ZH
from service.accounts.scope import Scope
from service.audit import service as audit
from service.core.errors import DomainError, Invalid
from service.core.settings import Settings
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.offices import service as offices
from service.offices.dependencies import MAX_ID, ValidOffice
from service.offices.models import Office
from service.offices.queries import office_out
from service.pages.form_errors import field_errors, summary
from service.pages.forms import csrf_token, form_scope
from service.pages.record_labels import FACILITY_LABELS_ZH, OFFICE_LABELS_ZH, STAFF_LABELS_ZH
from service.pages.templating import render

BEIJING = timezone(timedelta(hours=8))  # (China keeps one time, with no daylight saving)
STAFF_ENTITIES = ("office_staff", "office_staff_personal")
WHAT_ZH = {"offices": "基本情况", "office_facilities": "设施装备和管理记录"}
CHANGE_LABELS_ZH: dict[str, Mapping[str, str]] = {
    "offices": OFFICE_LABELS_ZH,
    "office_facilities": FACILITY_LABELS_ZH,
    "office_staff": STAFF_LABELS_ZH,
    "office_staff_personal": STAFF_LABELS_ZH,
}
REFUSED = "未能保存,请按提示修改后再提交"
T = TypeVar("T")


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


PostedFormDep = Annotated[PostedForm, Depends(posted_form)]


@dataclass(frozen=True)
class RecordRequest:
    """What a record page works with: the session, who asks, the settings, and the office."""

    session: Session
    scope: Scope
    settings: Settings
    office: Office

    def last_event(self, entities: Iterable[str], entity_id: int) -> int:
        """`last_event_id` of one entity of this tenant."""
        return audit.last_event_id(
            self.session, tenant_id=self.scope.tenant_id, entities=entities, entity_id=entity_id
        )


def viewed_record(
    office: ValidOffice, scope: CurrentScope, session: SessionDep, settings: SettingsDep
) -> RecordRequest:
    """A record page asked for: the office loaded and checked by `valid_office`."""
    return RecordRequest(session=session, scope=scope, settings=settings, office=office)


@dataclass(frozen=True)
class PostedRecordRequest(RecordRequest):
    """A record form posted: its request, and what was typed."""

    form: PostedForm


def posted_record(
    office_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: PostedFormDep,
) -> PostedRecordRequest:
    """A record form posted: the user whose token the form carries (checked first), the
    office checked by `posted_office`, and the form."""
    office = posted_office(session, scope, office_id)
    return PostedRecordRequest(
        session=session, scope=scope, settings=settings, office=office, form=form
    )


ViewedRecord = Annotated[RecordRequest, Depends(viewed_record)]
PostedRecord = Annotated[PostedRecordRequest, Depends(posted_record)]


def form_value(value: Any) -> str:
    """A stored value as a form field shows and posts it: "" for not recorded, true/false
    for a yes or no, a decimal without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Refusal:
    """Why a form was not stored: at the top of the page, the page's status, by field."""

    why: str
    status: int = 422
    errors: dict[str, str] = field(default_factory=dict)


def try_save(
    session: Session,
    save: Callable[[], T],
    *,
    refused: Callable[[DomainError], Refusal],
    invalid: Callable[[ValidationError], dict[str, str]] = field_errors,
) -> T | Refusal:
    """What `save` returns, or why the form was refused: the schema's errors by field
    (`invalid`), or the page's reading of a domain error (`refused`). The save runs in a
    savepoint: a refusal undoes the attempt and keeps the request's transaction, with its
    tenant and region binding, for showing the page again."""
    try:
        with session.begin_nested():
            return save()
    except ValidationError as exc:
        return Refusal(REFUSED, 422, invalid(exc))
    except DomainError as exc:
        return refused(exc)


def record_page(
    template: str,
    record: RecordRequest,
    *,
    section: str,
    labels: Mapping[str, str],
    refusal: Refusal | None = None,
    notice: Notice | None = None,
    **context: Any,
) -> HTMLResponse:
    """A record page: the office's header with `section` current, the notice of a save, the
    refusal with each field's problem by its label (`labels`, the page's labels too), why the
    user may only read, and the forms' token. A page that has read the office already passes
    it as `office`."""
    session, scope, office = record.session, record.scope, record.office
    if "office" not in context:
        context["office"] = office_out(session=session, scope=scope, office_id=office.id)
    errors = refusal.errors if refusal else {}
    response = render(
        template,
        scope,
        session,
        section=section,
        errors=errors,
        problems=summary(errors, labels),
        labels=labels,
        refusal=refusal.why if refusal else None,
        notice=notice,
        readonly=edit_refusal(scope, office),
        csrf=csrf_token(record.settings, scope),
        **context,
    )
    response.status_code = refusal.status if refusal else 200
    return response


@dataclass(frozen=True)
class RecordPage:
    """A record page with one form: its template, its section, the labels of its fields, and
    what it shows besides the shared parts (`shows`, read each time it is drawn)."""

    template: str
    section: str
    labels: Mapping[str, str]
    shows: Callable[[RecordRequest], dict[str, Any]]

    def __call__(
        self,
        record: RecordRequest,
        *,
        form: Mapping[str, Any],
        refusal: Refusal | None = None,
        notice: Notice | None = None,
    ) -> HTMLResponse:
        """The page with `form` in its fields, and the refusal or the notice at the top."""
        return record_page(
            self.template,
            record,
            section=self.section,
            labels=self.labels,
            refusal=refusal,
            notice=notice,
            form=form,
            **self.shows(record),
        )

    def after_save(
        self,
        record: RecordRequest,
        entities: Iterable[str],
        before: int,
        stored: Callable[[RecordRequest], Mapping[str, Any]],
    ) -> Response:
        """After a save the page did not refuse: the office page with the save's notice
        (`?saved=`, the audit event it wrote after `before`), or — it wrote nothing — this
        page again with what is `stored`, saying nothing changed."""
        office_id = record.office.id
        after = record.last_event(entities, office_id)
        if after > before:
            return RedirectResponse(f"/offices/{office_id}?saved={after}", status_code=303)
        return self(record, form=stored(record), notice=UNCHANGED)


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


@dataclass(frozen=True)
class Notice:
    """A save as the audit trail records it, for the top of a page."""

    what: str
    changed: list[str] = field(default_factory=list)
    at: str = ""
    who: str = ""


UNCHANGED = Notice(what="未作更改:填写的内容与已保存的相同")


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
    row = audit.event(session=session, tenant_id=scope.tenant_id, event_id=event_id)
    if row is None or row.entity_type not in CHANGE_LABELS_ZH:
        return None
    doc = row.after or row.before or {}
    if row.entity_type in ("offices", "office_facilities"):
        if row.entity_id != str(office.id):
            return None
        what = WHAT_ZH[row.entity_type]
    else:
        staff_id = int(row.entity_id or 0)
        owner = session.scalar(
            text("SELECT office_id FROM office_staff WHERE tenant_id = :t AND id = :s"),
            {"t": scope.tenant_id, "s": staff_id},
        )
        if owner != office.id:
            return None
        name = _staff_name(session, scope.tenant_id, staff_id)
        what = f"工作人员{name}" if name else "工作人员信息"
    # the other events of the same save (a staff member's row and personal data are two)
    rows = [row]
    if row.request_id and row.entity_type in STAFF_ENTITIES:
        rows = audit.events_of_request(
            session=session,
            tenant_id=scope.tenant_id,
            request_id=row.request_id,
            entity_types=list(STAFF_ENTITIES),
            entity_id=row.entity_id,
        )
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


def notice_of_save(
    record: ViewedRecord, saved: Annotated[str | None, Query(max_length=20)] = None
) -> Notice | None:
    """The notice of the save a record page was sent back with (`?saved=`)."""
    return saved_notice(
        session=record.session, scope=record.scope, office=record.office, event_id=saved_id(saved)
    )


SavedNotice = Annotated[Notice | None, Depends(notice_of_save)]
