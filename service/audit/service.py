"""Writing service-level audit events and reading the trail (office history, region log).

Row changes of offices and users are recorded by database triggers; bulk operations
(division imports) record one summary event here, and a division correction one event per
corrected division. Who acts comes from the transaction's bound context (app.user_id,
app.username, app.role, app.request_id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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

_SELECT = (
    "SELECT id, occurred_at, username, role, action, entity_type, entity_id, region_code,"
    " before, after, request_id FROM audit_events"
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
    return EventOut(
        id=row.id,
        occurred_at=row.occurred_at,
        username=row.username,
        role=row.role,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        region_code=row.region_code,
        changes=changes,
        before=before,
        after=after,
        request_id=row.request_id,
    )


def entity_history(
    *, session: Session, tenant_id: int, entity_type: str, entity_id: str
) -> list[EventOut]:
    """Every event of one entity, oldest first."""
    rows = session.execute(
        text(
            _SELECT + " WHERE tenant_id = :t AND entity_type = :e AND entity_id = :id ORDER BY id"
        ),
        {"t": tenant_id, "e": entity_type, "id": entity_id},
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
    where = ["tenant_id = :t", "starts_with(coalesce(region_code, ''), :region)"]
    params: dict[str, Any] = {"t": tenant_id, "region": region}
    for column, value, op in (
        ("occurred_at", since, ">="),
        ("occurred_at", until, "<"),
        ("entity_type", entity_type, "="),
        ("action", action, "="),
    ):
        if value is not None:
            key = f"p{len(params)}"
            where.append(f"{column} {op} :{key}")
            params[key] = value
    clause = " WHERE " + " AND ".join(where)
    total = int(session.scalar(text("SELECT count(*) FROM audit_events" + clause), params) or 0)
    rows = session.execute(
        text(_SELECT + clause + " ORDER BY id DESC LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return total, [_event(r) for r in rows]
