"""The coverage reports as set-based SQL: gaps, conflicts, misplaced offices, summaries.

Each list function returns (total, rows) for one page (limit None: every row, for exports).
Rows are plain dicts whose keys are the API's field names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.coverage.query import CoverageFilter, located_cte, names_join, townships_cte, valid

Page = tuple[int, list[dict[str, Any]]]


def _page(sql: str, limit: int | None, offset: int) -> str:
    return sql + (" LIMIT :limit OFFSET :offset" if limit is not None else " OFFSET :offset")


def _run(
    session: Session, sql: str, f: CoverageFilter, limit: int | None, offset: int, **extra: Any
) -> Page:
    """Rows of one page plus the total, in one round trip (count(*) OVER ())."""
    params = {**f.params(), **extra, "limit": limit, "offset": offset}
    rows = [dict(r) for r in session.execute(text(_page(sql, limit, offset)), params).mappings()]
    total = int(rows[0].pop("_total")) if rows else 0
    for r in rows[1:]:
        r.pop("_total")
    if not rows and offset:  # a page past the end: still say how many there are
        total = int(session.scalar(text(f"SELECT count(*) FROM ({sql}) q"), params) or 0)
    return total, rows


GEOMETRY = ", ST_AsGeoJSON(w.geom, 6) AS geometry"
SUB_GEOMETRY = ", ST_AsGeoJSON(ST_SimplifyPreserveTopology(sub.geom, 0.001), 5) AS geometry"


def gaps(
    session: Session,
    f: CoverageFilter,
    *,
    required: bool,
    limit: int | None,
    offset: int,
    with_geometry: bool = False,
) -> Page:
    """Townships (required ones, or the optional kinds) with no active office standing in them."""
    if f.as_of is None:
        no_office = """NOT EXISTS (SELECT 1 FROM offices o WHERE o.tenant_id = :t
                                   AND o.closed_at IS NULL AND o.located_code = w.code)"""
        ctes = f"WITH {townships_cte(f)}"
    else:
        no_office = "NOT EXISTS (SELECT 1 FROM located l WHERE l.code = w.code)"
        ctes = f"WITH {townships_cte(f)}, {located_cte(f)}"
    sql = f"""{ctes}
        SELECT w.code, w.name, w.kind, w.required, left(w.code, 6) AS county_code,
               cty.name AS county_name, left(w.code, 4) AS city_code, cit.name AS city_name,
               count(*) OVER () AS _total{GEOMETRY if with_geometry else ""}
          FROM towns w {names_join("w", f)}
         WHERE w.required = :want_required AND {no_office}
         ORDER BY w.code"""
    return _run(session, sql, f, limit, offset, want_required=required)


def conflicts(
    session: Session,
    f: CoverageFilter,
    *,
    limit: int | None,
    offset: int,
    with_geometry: bool = False,
) -> Page:
    """Townships with two or more active offices, with those offices and exception reasons."""
    sql = f"""WITH {townships_cte(f)}, {located_cte(f)},
        crowded AS (SELECT l.code, count(*) AS n FROM located l
                     WHERE starts_with(l.code, :region) GROUP BY l.code HAVING count(*) > 1)
        SELECT w.code, w.name, w.kind, w.required, left(w.code, 6) AS county_code,
               cty.name AS county_name, left(w.code, 4) AS city_code, cit.name AS city_name,
               c.n AS office_count,
               (SELECT json_agg(json_build_object(
                         'id', o.id, 'name', o.name, 'division_code', o.division_code,
                         'exception_reason', o.exception_reason) ORDER BY o.id)
                  FROM located l JOIN offices o ON o.tenant_id = :t AND o.id = l.id
                 WHERE l.code = c.code) AS offices,
               count(*) OVER () AS _total{GEOMETRY if with_geometry else ""}
          FROM crowded c JOIN towns w ON w.code = c.code {names_join("w", f)}
         ORDER BY w.code"""
    return _run(session, sql, f, limit, offset)


def misplaced(session: Session, f: CoverageFilter, *, limit: int | None, offset: int) -> Page:
    """Active offices registered in the region whose point is not in their registered township:
    where the point is instead, and how far it is from the registered township."""
    sql = f"""WITH {located_cte(f)}
        SELECT o.id AS office_id, o.name AS office_name, o.division_code AS registered_code,
               reg.name AS registered_name, l.code AS located_code, loc.name AS located_name,
               round(ST_X(o.geom)::numeric, 7) AS lon, round(ST_Y(o.geom)::numeric, 7) AS lat,
               CASE WHEN abs(ST_Y(o.geom)) <= 90 AND abs(ST_X(o.geom)) <= 180  -- (swapped axes)
                    THEN round(ST_Distance(reg.geom::geography, o.geom::geography)::numeric, 1)
               END AS distance_m,
               count(*) OVER () AS _total
          FROM located l
          JOIN offices o ON o.tenant_id = :t AND o.id = l.id
          LEFT JOIN divisions reg ON reg.tenant_id = :t AND reg.code = o.division_code
                                 AND {valid("reg", f)}
          LEFT JOIN divisions loc ON loc.tenant_id = :t AND loc.code = l.code AND {valid("loc", f)}
         WHERE starts_with(o.division_code, :region)
           AND l.code IS DISTINCT FROM o.division_code
         ORDER BY o.division_code, o.id"""
    return _run(session, sql, f, limit, offset)


def summary(
    session: Session, f: CoverageFilter, *, level: str, with_geometry: bool = False
) -> list[dict[str, Any]]:
    """Per city or county of the region: required townships, covered, gaps, conflicts,
    misplaced offices, optional townships and their gaps; coverage rate."""
    width = {"city": 4, "county": 6, "township": 9}[level]
    sql = f"""WITH {townships_cte(f)}, {located_cte(f)},
        present AS (SELECT l.code, count(*) AS n FROM located l
                     WHERE starts_with(l.code, :region) GROUP BY l.code),
        astray AS (SELECT left(l.division_code, :width) AS part, count(*) AS n FROM located l
                    WHERE starts_with(l.division_code, :region)
                      AND l.code IS DISTINCT FROM l.division_code GROUP BY 1),
        parts AS (
          SELECT left(w.code, :width) AS part,
                 count(*) FILTER (WHERE w.required) AS required,
                 count(*) FILTER (WHERE w.required AND p.n >= 1) AS covered,
                 count(*) FILTER (WHERE w.required AND p.n IS NULL) AS gaps,
                 count(*) FILTER (WHERE p.n > 1) AS conflicts,
                 count(*) FILTER (WHERE NOT w.required) AS optional,
                 count(*) FILTER (WHERE NOT w.required AND p.n IS NULL) AS optional_gaps
            FROM towns w LEFT JOIN present p ON p.code = w.code
           GROUP BY 1)
        SELECT parts.part AS code, sub.name, parts.required, parts.covered, parts.gaps,
               parts.conflicts, coalesce(astray.n, 0) AS misplaced, parts.optional,
               parts.optional_gaps{SUB_GEOMETRY if with_geometry else ""}
          FROM parts
          LEFT JOIN astray ON astray.part = parts.part
          LEFT JOIN divisions sub ON sub.tenant_id = :t AND sub.code = parts.part
                                 AND {valid("sub", f)}
         ORDER BY parts.part"""
    rows = [dict(r) for r in session.execute(text(sql), {**f.params(), "width": width}).mappings()]
    for r in rows:
        r["coverage_rate"] = round(r["covered"] / r["required"], 4) if r["required"] else None
    return rows


def totals(rows: list[dict[str, Any]], code: str, name: str | None) -> dict[str, Any]:
    """The region as a whole, from its parts."""
    keys = ("required", "covered", "gaps", "conflicts", "misplaced", "optional", "optional_gaps")
    out: dict[str, Any] = {"code": code, "name": name, **{k: sum(r[k] for r in rows) for k in keys}}
    out["coverage_rate"] = round(out["covered"] / out["required"], 4) if out["required"] else None
    return out
