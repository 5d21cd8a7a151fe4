"""Reading offices for the API: one office or a filtered page, with division and county names.

Join conditions use plain column equality (`c.code = d.parent_code`), never a function of a
column such as left(code, 6): under row-level security only leakproof operations may drive
an index, and a non-leakproof one turns the join into a scan of every division.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.db import plan_for_values
from service.deps import Scope
from service.offices.schemas import DivisionOut, OfficeOut, PointOut

_SELECT = """
SELECT o.id, o.name, o.division_code, o.located_code, o.address, o.phone,
       o.staff_total, o.staff_formal, o.staff_civil_servants, o.area_m2,
       o.acceptance_state, o.exception_reason, o.external_id, o.opened_on, o.version,
       o.created_at, o.updated_at, o.closed_at, o.closed_reason,
       ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat,
       d.name AS division_name, d.kind AS division_kind, c.name AS county_name
  FROM offices o
  JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
  LEFT JOIN divisions c ON c.tenant_id = o.tenant_id AND c.code = d.parent_code
                       AND c.valid_to IS NULL
"""


@dataclass(frozen=True)
class OfficeFilter:
    """List filters: a region (code prefix), division kind, acceptance state, name text."""

    region: str
    kind: str | None = None
    state: str | None = None
    q: str | None = None
    include_closed: bool = False


def _out(row: Any) -> OfficeOut:
    return OfficeOut(
        id=row.id,
        name=row.name,
        division=DivisionOut(
            code=row.division_code,
            name=row.division_name,
            kind=row.division_kind,
            county_code=row.division_code[:6],
            county_name=row.county_name,
        ),
        located_code=row.located_code,
        location=PointOut(lon=round(row.lon, 7), lat=round(row.lat, 7)),
        address=row.address,
        phone=row.phone,
        staff_total=row.staff_total,
        staff_formal=row.staff_formal,
        staff_civil_servants=row.staff_civil_servants,
        area_m2=float(row.area_m2) if row.area_m2 is not None else None,
        acceptance_state=row.acceptance_state,
        exception_reason=row.exception_reason,
        external_id=row.external_id,
        opened_on=row.opened_on,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        closed_reason=row.closed_reason,
    )


def office_out(*, session: Session, scope: Scope, office_id: int) -> OfficeOut:
    row = session.execute(
        text(_SELECT + " WHERE o.tenant_id = :t AND o.id = :id"),
        {"t": scope.tenant_id, "id": office_id},
    ).one()
    return _out(row)


def list_offices(
    *, session: Session, scope: Scope, filters: OfficeFilter, limit: int, offset: int
) -> tuple[int, list[OfficeOut]]:
    """A page of offices matching `filters`, ordered by division code; and the total count."""
    plan_for_values(session)  # a region prefix: one county or the whole tenant
    where = ["o.tenant_id = :t", "starts_with(o.division_code, :region)"]
    params: dict[str, Any] = {"t": scope.tenant_id, "region": filters.region}
    if not filters.include_closed:
        where.append("o.closed_at IS NULL")
    if filters.state:
        where.append("o.acceptance_state = :state")
        params["state"] = filters.state
    if filters.kind:
        where.append("d.kind = :kind")
        params["kind"] = filters.kind
    if filters.q:
        where.append("strpos(o.name, :q) > 0")
        params["q"] = filters.q
    clause = " WHERE " + " AND ".join(where)
    count_sql = (
        "SELECT count(*) FROM offices o"
        + (
            " JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id"
            if filters.kind
            else ""
        )
        + clause
    )
    total = int(session.scalar(text(count_sql), params) or 0)
    rows = session.execute(
        text(_SELECT + clause + " ORDER BY o.division_code, o.id LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return total, [_out(r) for r in rows]
