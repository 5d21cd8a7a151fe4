"""Writing service-level audit events and reading the trail (office history, region log).

Row changes of offices and users are recorded by database triggers; bulk operations
(division imports) record one summary event here, and a division correction one event per
corrected division. Who acts comes from the transaction's bound context (app.user_id,
app.username, app.role, app.request_id).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.audit.schemas import EventOut
from service.core.db import plan_for_values

_INSERT = text(
    "INSERT INTO audit_events (tenant_id, user_id, username, role, action, entity_type,"
    " entity_id, region_code, before, after, request_id) VALUES (:t,"
    " NULLIF(current_setting('app.user_id', true), '')::bigint,"
    " coalesce(NULLIF(current_setting('app.username', true), ''), 'db:' || session_user),"
    " NULLIF(current_setting('app.role', true), ''), :action, :entity_type, :entity_id,"
    " :region, CAST(:before AS jsonb), CAST(:after AS jsonb),"
    " NULLIF(current_setting('app.request_id', true), ''))"
)

_EVENTS = AuditEvent.__table__
_SELECT = select(
    _EVENTS.c.id,
    _EVENTS.c.occurred_at,
    _EVENTS.c.username,
    _EVENTS.c.role,
    _EVENTS.c.action,
    _EVENTS.c.entity_type,
    _EVENTS.c.entity_id,
    _EVENTS.c.region_code,
    _EVENTS.c.before,
    _EVENTS.c.after,
    _EVENTS.c.request_id,
)


@dataclass(frozen=True)
class Change:
    """One entity's change, for `record_many`."""

    entity_id: str
    region_code: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _json(doc: dict[str, Any] | None) -> str | None:
    return json.dumps(doc, ensure_ascii=False, default=str) if doc else None


def record(
    session: Session,
    *,
    tenant_id: int,
    action: str,
    entity_type: str,
    entity_id: str | None,
    region_code: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.execute(
        _INSERT,
        {
            "t": tenant_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "region": region_code,
            "before": _json(before),
            "after": _json(after),
        },
    )


def record_tenant_update(
    session: Session,
    *,
    tenant_id: int,
    tenant_code: str,
    entity_type: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """A change to a setting of the whole tenant (its policy, its targets): recorded under
    the tenant's code, which is also the region it concerns."""
    record(
        session,
        tenant_id=tenant_id,
        action="update",
        entity_type=entity_type,
        entity_id=tenant_code,
        region_code=tenant_code,
        before=before,
        after=after,
    )


def record_many(
    session: Session, *, tenant_id: int, action: str, entity_type: str, changes: list[Change]
) -> None:
    """One event per change, in one batched statement (a bulk operation's own rows)."""
    if not changes:
        return
    session.execute(
        _INSERT,
        [
            {
                "t": tenant_id,
                "action": action,
                "entity_type": entity_type,
                "entity_id": c.entity_id,
                "region": c.region_code,
                "before": _json(c.before),
                "after": _json(c.after),
            }
            for c in changes
        ],
    )


def _event(row: Any) -> EventOut:
    before, after = row.before, row.after
    changes = None
    if before is not None and after is not None:
        changes = {
            k: {"before": before.get(k), "after": after.get(k)}
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k) and k not in ("updated_at", "version")
        }
    return EventOut.model_validate({**row._mapping, "changes": changes})


def event(*, session: Session, tenant_id: int, event_id: int) -> EventOut | None:
    """One event by id (None when the tenant has no such event)."""
    e = _EVENTS.c
    row = session.execute(_SELECT.where(e.tenant_id == tenant_id, e.id == event_id)).one_or_none()
    return _event(row) if row is not None else None


def events_of_request(
    *,
    session: Session,
    tenant_id: int,
    request_id: str,
    entity_types: Sequence[str],
    entity_id: str | None,
) -> list[EventOut]:
    """The events one request wrote about one entity (a save can write several rows: a staff
    member's record and their personal data), oldest first."""
    e = _EVENTS.c
    rows = session.execute(
        _SELECT.where(
            e.tenant_id == tenant_id,
            e.request_id == request_id,
            e.entity_type.in_(entity_types),
            e.entity_id == entity_id,
        ).order_by(e.id)
    ).all()
    return [_event(r) for r in rows]


def last_event_id(
    session: Session, *, tenant_id: int, entities: Iterable[str], entity_id: int
) -> int:
    """The newest event of one entity (0: none) — taken before and after a save, the
    difference says whether the save wrote one (an unchanged record writes none)."""
    e = _EVENTS.c
    newest = select(func.coalesce(func.max(e.id), 0)).where(
        e.tenant_id == tenant_id, e.entity_type.in_(list(entities)), e.entity_id == str(entity_id)
    )
    return int(session.scalar(newest) or 0)


def entity_history(
    *, session: Session, tenant_id: int, entity_type: str, entity_id: str
) -> list[EventOut]:
    """Every event of one entity, oldest first."""
    rows = session.execute(
        _SELECT.where(
            _EVENTS.c.tenant_id == tenant_id,
            _EVENTS.c.entity_type == entity_type,
            _EVENTS.c.entity_id == entity_id,
        ).order_by(_EVENTS.c.id)
    ).all()
    return [_event(r) for r in rows]


def list_events(
    *,
    session: Session,
    tenant_id: int,
    region: str,
    since: datetime | None,
    until: datetime | None,
    entity_type: str | None,
    action: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[EventOut]]:
    """Events about things inside `region` (newest first), and how many there are."""
    plan_for_values(session)  # a region prefix: one county or the whole tenant
    e = _EVENTS.c
    where = [e.tenant_id == tenant_id, func.starts_with(func.coalesce(e.region_code, ""), region)]
    if since is not None:
        where.append(e.occurred_at >= since)
    if until is not None:
        where.append(e.occurred_at < until)
    if entity_type is not None:
        where.append(e.entity_type == entity_type)
    if action is not None:
        where.append(e.action == action)
    total = int(session.scalar(select(func.count()).select_from(_EVENTS).where(*where)) or 0)
    page = _SELECT.where(*where).order_by(e.id.desc()).limit(limit).offset(offset)
    rows = session.execute(page).all()
    return total, [_event(r) for r in rows]
