"""Reading divisions: locate a point, look up or resolve a code, list a region, a code's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import Numeric, String, any_, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.core.db import plan_for_values
from service.core.errors import DivisionNotFound, Invalid
from service.divisions.codes import NOT_A_CODE, readings
from service.divisions.models import Division
from service.divisions.predicates import version_valid

_D = Division.__table__
_REF = select(_D.c.id, _D.c.code, _D.c.name, _D.c.kind, _D.c.level)
_LISTED = [
    _D.c.code,
    _D.c.name,
    _D.c.kind,
    _D.c.level,
    _D.c.parent_code,
    _D.c.valid_from,
    _D.c.valid_to,
    _D.c.source,
    func.round(cast(func.ST_Area(cast(_D.c.geom, Geography)) / 1e6, Numeric), 3).label("area_km2"),
]


@dataclass(frozen=True)
class DivisionRef:
    """The few columns of a division that other domains need."""

    id: int
    code: str
    name: str
    kind: str
    level: str


def _ref(row: Any) -> DivisionRef:
    return DivisionRef(row.id, row.code, row.name, row.kind, row.level)


def locate_township(
    *, session: Session, tenant_id: int, lon: float, lat: float, prefer: str | None = None
) -> DivisionRef | None:
    """The current township whose polygon covers (lon, lat).

    On a shared boundary two townships cover the point: `prefer` (the declared code) wins,
    else the lower code, so the answer is deterministic.
    """
    row = session.execute(
        text(
            "SELECT id, code, name, kind, level FROM divisions"
            " WHERE tenant_id = :t AND level = 'township' AND valid_to IS NULL"
            " AND geom ~ ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"  # leakproof: drives the index
            " AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            " ORDER BY (code = :prefer) DESC, code LIMIT 1"
        ),
        {"t": tenant_id, "lon": lon, "lat": lat, "prefer": prefer or ""},
    ).one_or_none()
    return _ref(row) if row else None


def nearest_township(
    *, session: Session, tenant_id: int, lon: float, lat: float
) -> tuple[DivisionRef, float] | None:
    """The current township nearest to a point outside all of them, and the distance in metres."""
    row = session.execute(
        text(
            "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)"
            " SELECT d.id, d.code, d.name, d.kind, d.level,"
            "        ST_Distance(d.geom::geography, p.g::geography) AS metres"
            " FROM divisions d, p WHERE d.tenant_id = :t AND d.level = 'township'"
            " AND d.valid_to IS NULL ORDER BY d.geom <-> p.g LIMIT 1"
        ),
        {"t": tenant_id, "lon": lon, "lat": lat},
    ).one_or_none()
    return (_ref(row), float(row.metres)) if row else None


def get_current(*, session: Session, tenant_id: int, code: str) -> DivisionRef | None:
    row = session.execute(
        _REF.where(_D.c.tenant_id == tenant_id, _D.c.code == code, version_valid(_D, None))
    ).one_or_none()
    return _ref(row) if row else None


def current_codes(*, session: Session, tenant_id: int, codes: set[str]) -> set[str]:
    """Which of `codes` have a current version."""
    if not codes:
        return set()
    return set(
        session.scalars(
            select(_D.c.code).where(
                _D.c.tenant_id == tenant_id,
                version_valid(_D, None),
                _D.c.code == any_(cast(sorted(codes), ARRAY(String))),
            )
        )
    )


def resolve_code(*, session: Session, tenant_id: int, written: str, field: str) -> str:
    """The canonical code a request means by `written`, read as an import reads it
    (`codes.readings`); Invalid names `field` when it is not a code.

    A padded code with two readings is its conventional one (410100 → the city 4101), unless
    the registry holds a division coded exactly as written: 东莞's county-level 441900.
    """
    options = readings(written)
    if not options:
        raise Invalid(
            f"{field} {written!r} is not a division code",
            [{"field": field, "problem": f"not a division code: {NOT_A_CODE}"}],
        )
    exact = [r.code for r in options[1:] if r.code == written.strip()]
    if exact and session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM divisions WHERE tenant_id = :t AND code = :c)"),
        {"t": tenant_id, "c": exact[0]},
    ):
        return exact[0]
    return options[0].code


def require_current(*, session: Session, tenant_id: int, code: str) -> DivisionRef:
    found = get_current(session=session, tenant_id=tenant_id, code=code)
    if found is None:
        raise DivisionNotFound(f"no current division with code {code}", {"code": code})
    return found


def list_divisions(
    *,
    session: Session,
    tenant_id: int,
    prefix: str,
    level: str | None,
    kind: str | None,
    as_of: date | None,
    limit: int,
    offset: int,
    with_geometry: bool,
) -> tuple[int, list[dict[str, Any]]]:
    """Divisions under `prefix` (valid today or at `as_of`), ordered by code; and the total."""
    plan_for_values(session)  # a region prefix: one county or the whole tenant
    where = [
        _D.c.tenant_id == tenant_id,
        func.starts_with(_D.c.code, prefix),
        version_valid(_D, as_of),
    ]
    if level:
        where.append(_D.c.level == level)
    if kind:
        where.append(_D.c.kind == kind)
    total = int(session.scalar(select(func.count()).select_from(_D).where(*where)) or 0)
    columns = (
        [*_LISTED, func.ST_AsGeoJSON(_D.c.geom, 7).label("geometry")] if with_geometry else _LISTED
    )
    page = select(*columns).where(*where).order_by(_D.c.code).limit(limit).offset(offset)
    rows = session.execute(page).mappings()
    return total, [dict(r) for r in rows]


def division_history(*, session: Session, tenant_id: int, code: str) -> list[dict[str, Any]]:
    """Every version of a code, oldest first."""
    rows = session.execute(
        select(*_LISTED)
        .where(_D.c.tenant_id == tenant_id, _D.c.code == code)
        .order_by(_D.c.valid_from)
    ).mappings()
    return [dict(r) for r in rows]
