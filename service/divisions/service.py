"""Reading divisions: locate a point, look up or resolve a code, list a region, a code's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.db import plan_for_values
from service.core.errors import DivisionNotFound, Invalid
from service.divisions.codes import NOT_A_CODE, readings

_CURRENT = "valid_to IS NULL"
_AS_OF = "valid_from <= :as_of AND (valid_to IS NULL OR valid_to > :as_of)"


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
        text(
            f"SELECT id, code, name, kind, level FROM divisions"
            f" WHERE tenant_id = :t AND code = :code AND {_CURRENT}"
        ),
        {"t": tenant_id, "code": code},
    ).one_or_none()
    return _ref(row) if row else None


def current_codes(*, session: Session, tenant_id: int, codes: set[str]) -> set[str]:
    """Which of `codes` have a current version."""
    if not codes:
        return set()
    return set(
        session.scalars(
            text(
                f"SELECT code FROM divisions WHERE tenant_id = :t AND {_CURRENT}"
                " AND code = ANY(:codes)"
            ),
            {"t": tenant_id, "codes": sorted(codes)},
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
        "tenant_id = :t",
        "starts_with(code, :prefix)",
        _AS_OF if as_of else _CURRENT,
    ]
    params: dict[str, Any] = {"t": tenant_id, "prefix": prefix, "as_of": as_of}
    if level:
        where.append("level = :level")
        params["level"] = level
    if kind:
        where.append("kind = :kind")
        params["kind"] = kind
    clause = " AND ".join(where)
    total = int(session.scalar(text(f"SELECT count(*) FROM divisions WHERE {clause}"), params) or 0)
    geometry = ", ST_AsGeoJSON(geom, 7) AS geometry" if with_geometry else ""
    rows = session.execute(
        text(
            "SELECT code, name, kind, level, parent_code, valid_from, valid_to, source,"
            " round((ST_Area(geom::geography) / 1e6)::numeric, 3) AS area_km2"
            f"{geometry} FROM divisions WHERE {clause} ORDER BY code LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    ).mappings()
    return total, [dict(r) for r in rows]


def division_history(*, session: Session, tenant_id: int, code: str) -> list[dict[str, Any]]:
    """Every version of a code, oldest first."""
    rows = session.execute(
        text(
            "SELECT code, name, kind, level, parent_code, valid_from, valid_to, source,"
            " round((ST_Area(geom::geography) / 1e6)::numeric, 3) AS area_km2"
            " FROM divisions WHERE tenant_id = :t AND code = :code ORDER BY valid_from"
        ),
        {"t": tenant_id, "code": code},
    ).mappings()
    return [dict(r) for r in rows]
