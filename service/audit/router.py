"""HTTP routes of the audit trail: an office's history and the region's event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query

from service.accounts.permissions import Action
from service.audit import service
from service.audit.schemas import EventOut, EventPage
from service.http.deps import CurrentScope, SessionDep
from service.http.params import Offset, RegionParam
from service.http.routing import Router
from service.offices.dependencies import ValidOffice

router = Router(prefix="/api/v1", tags=["audit"])


@router.get("/offices/{office_id}/history", response_model=list[EventOut])
def office_history(office: ValidOffice, scope: CurrentScope, session: SessionDep) -> list[EventOut]:
    """Every change of an office, oldest first: who, role, when, before → after."""
    return service.entity_history(
        session=session, tenant_id=scope.tenant_id, entity_type="offices", entity_id=str(office.id)
    )


@router.get("/audit", response_model=EventPage)
def audit_log(
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entity_type: Literal[
        "offices",
        "users",
        "divisions",
        "tenants",
        "office_facilities",
        "office_staff",
        "office_staff_personal",
        "standards",
        "targets",
    ]
    | None = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> EventPage:
    """Changes in a region, newest first (province admins, city and county bureaus)."""
    scope.require(Action.read_audit)
    total, items = service.list_events(
        session=session,
        tenant_id=scope.tenant_id,
        region=scope.region(region),
        since=since,
        until=until,
        entity_type=entity_type,
        action=action,
        limit=limit,
        offset=offset,
    )
    return EventPage(items=items, total=total, limit=limit, offset=offset)
