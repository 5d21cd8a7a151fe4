"""The coverage reports as set-based SQL: gaps, conflicts, misplaced offices, summaries.

Each list report first computes its whole result set as a materialized step (so the
planner answers the question set-based — hash anti-joins and aggregates — instead of
being tempted by LIMIT into row-by-row loops), then takes one page and only then adds the
names, distances and geometries of that page's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.core.db import fetch_dicts
from service.coverage.query import (
    CoverageFilter,
    located_cte,
    names_join,
    of_kinds,
    townships_cte,
    valid,
)
from service.divisions.kinds import LEVEL_WIDTH

Page = tuple[int, list[dict[str, Any]]]
GEOMETRY = ", ST_AsGeoJSON(w.geom, 6) AS geometry"
_PAGE = "ORDER BY {order} LIMIT :limit OFFSET :offset"


def _run(
    session: Session, sql: str, f: CoverageFilter, limit: int | None, offset: int, **extra: Any
) -> Page:
    """Rows of one page plus the total (carried as `_total` on every row)."""
    params = {**f.params(), **extra, "limit": limit, "offset": offset}
    rows = fetch_dicts(session, sql, params)
    total = int(rows[0]["_total"]) if rows else 0
    for r in rows:
        r.pop("_total")
    if not rows and offset:  # a page past the end: still say how many there are
        rows_all = fetch_dicts(session, sql, {**params, "limit": 1, "offset": 0})
        total = int(rows_all[0]["_total"]) if rows_all else 0
    return total, rows


def _paged(order: str) -> str:
    """The page CTE over a materialized `core` CTE, with the total of the whole set."""
    return f"""page AS (SELECT core.*, count(*) OVER () AS _total FROM core
                         {_PAGE.format(order=order)})"""


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
        ctes = townships_cte(f)
    else:
        no_office = "NOT EXISTS (SELECT 1 FROM located l WHERE l.code = w.code)"
        ctes = f"{townships_cte(f)}, {located_cte(f)}"
    sql = f"""WITH {ctes},
        core AS MATERIALIZED (SELECT w.id, w.code FROM towns w
                               WHERE w.required = :want_required AND {no_office}),
        {_paged("core.code")}
        SELECT w.code, w.name, w.kind, w.kind = ANY(CAST(:required AS text[])) AS required,
               left(w.code, 6) AS county_code, cty.name AS county_name,
               left(w.code, 4) AS city_code, cit.name AS city_name,
               page._total{GEOMETRY if with_geometry else ""}
          FROM page JOIN divisions w ON w.tenant_id = :t AND w.id = page.id
          {names_join("w", f)}
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
    if f.as_of is None:  # counted straight from the index over the active offices' townships
        crowded = f"""core AS MATERIALIZED (
          SELECT o.located_code AS code, count(*) AS n FROM offices o
           WHERE o.tenant_id = :t AND o.closed_at IS NULL AND starts_with(o.located_code, :region)
           {of_kinds("o.located_code", f)}
           GROUP BY o.located_code HAVING count(*) > 1)"""
        members = "o.closed_at IS NULL AND o.located_code = w.code"
        ctes = crowded
    else:
        crowded = f"""core AS MATERIALIZED (
          SELECT l.code, count(*) AS n FROM located l WHERE starts_with(l.code, :region)
           {of_kinds("l.code", f)}
           GROUP BY l.code HAVING count(*) > 1)"""
        members = "o.id IN (SELECT l.id FROM located l WHERE l.code = w.code)"
        ctes = f"{located_cte(f)}, {crowded}"
    sql = f"""WITH {ctes},
        {_paged("core.code")}
        SELECT w.code, w.name, w.kind, w.kind = ANY(CAST(:required AS text[])) AS required,
               left(w.code, 6) AS county_code, cty.name AS county_name,
               left(w.code, 4) AS city_code, cit.name AS city_name, page.n AS office_count,
               (SELECT json_agg(json_build_object('id', o.id, 'name', o.name,
                                 'division_code', o.division_code,
                                 'exception_reason', o.exception_reason) ORDER BY o.id)
                  FROM offices o WHERE o.tenant_id = :t AND {members}) AS offices,
               page._total{GEOMETRY if with_geometry else ""}
          FROM page
          JOIN divisions w ON w.tenant_id = :t AND w.code = page.code AND w.level = 'township'
                          AND {valid("w", f)}
          {names_join("w", f)}
         ORDER BY w.code"""
    return _run(session, sql, f, limit, offset)


def misplaced(session: Session, f: CoverageFilter, *, limit: int | None, offset: int) -> Page:
    """Active offices registered in the region whose point is not in their registered township:
    where the point is instead, and how far it is from the registered township."""
    if f.as_of is None:  # the partial index ix_offices_misplaced holds exactly these
        core = f"""core AS MATERIALIZED (
          SELECT o.id, o.division_code, o.located_code AS code FROM offices o
           WHERE o.tenant_id = :t AND o.closed_at IS NULL AND starts_with(o.division_code, :region)
             AND o.located_code IS DISTINCT FROM o.division_code {of_kinds("o.division_code", f)})"""
        ctes = core
    else:
        core = f"""core AS MATERIALIZED (
          SELECT l.id, l.division_code, l.code FROM located l
           WHERE starts_with(l.division_code, :region) AND l.code IS DISTINCT FROM l.division_code
           {of_kinds("l.division_code", f)})"""
        ctes = f"{located_cte(f)}, {core}"
    sql = f"""WITH {ctes},
        {_paged("core.division_code, core.id")}
        SELECT o.id AS office_id, o.name AS office_name, o.division_code AS registered_code,
               reg.name AS registered_name, page.code AS located_code, loc.name AS located_name,
               round(ST_X(o.geom)::numeric, 7)::float8 AS lon,
               round(ST_Y(o.geom)::numeric, 7)::float8 AS lat,
               CASE WHEN abs(ST_Y(o.geom)) <= 90 AND abs(ST_X(o.geom)) <= 180  -- (swapped axes)
                    THEN round(ST_Distance(reg.geom::geography, o.geom::geography)::numeric, 1)::float8
               END AS distance_m,
               page._total
          FROM page
          JOIN offices o ON o.tenant_id = :t AND o.id = page.id
          LEFT JOIN divisions reg ON reg.tenant_id = :t AND reg.code = o.division_code
                                 AND {valid("reg", f)}
          LEFT JOIN divisions loc ON loc.tenant_id = :t AND loc.code = page.code
                                 AND {valid("loc", f)}
         ORDER BY o.division_code, o.id"""
    return _run(session, sql, f, limit, offset)


def summary(
    session: Session, f: CoverageFilter, *, level: str, with_geometry: bool = False
) -> list[dict[str, Any]]:
    """Per province, city, county or township of the region: required townships, covered, gaps,
    conflicts, misplaced offices, optional townships and their gaps; coverage rate."""
    width = LEVEL_WIDTH[level]
    if f.as_of is None:
        present = """present AS (SELECT o.located_code AS code, count(*) AS n FROM offices o
                      WHERE o.tenant_id = :t AND o.closed_at IS NULL
                        AND starts_with(o.located_code, :region) GROUP BY 1)"""
        astray = f"""astray AS (SELECT left(o.division_code, :width) AS part, count(*) AS n
                     FROM offices o WHERE o.tenant_id = :t AND o.closed_at IS NULL
                      AND starts_with(o.division_code, :region)
                      AND o.located_code IS DISTINCT FROM o.division_code
                      {of_kinds("o.division_code", f)} GROUP BY 1)"""
        ctes = f"{townships_cte(f)}, {present}, {astray}"
    else:
        present = """present AS (SELECT l.code, count(*) AS n FROM located l
                      WHERE starts_with(l.code, :region) GROUP BY l.code)"""
        astray = f"""astray AS (SELECT left(l.division_code, :width) AS part, count(*) AS n
                     FROM located l WHERE starts_with(l.division_code, :region)
                      AND l.code IS DISTINCT FROM l.division_code
                      {of_kinds("l.division_code", f)} GROUP BY 1)"""
        ctes = f"{townships_cte(f)}, {located_cte(f)}, {present}, {astray}"
    # parts is materialized so the planner sees a few thousand parts, not one per township,
    # and looks each part's name up by index instead of hashing every division.
    sub = f"""divisions sub WHERE sub.tenant_id = :t AND sub.code = parts.part AND {valid("sub", f)}"""
    geometry = (
        f""", (SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(sub.geom, 0.001), 5)
                FROM {sub}) AS geometry"""
        if with_geometry
        else ""
    )
    sql = f"""WITH {ctes},
        parts AS MATERIALIZED (
          SELECT left(w.code, :width) AS part,
                 count(*) FILTER (WHERE w.required) AS required,
                 count(*) FILTER (WHERE w.required AND p.n >= 1) AS covered,
                 count(*) FILTER (WHERE w.required AND p.n IS NULL) AS gaps,
                 count(*) FILTER (WHERE p.n > 1) AS conflicts,
                 count(*) FILTER (WHERE NOT w.required) AS optional,
                 count(*) FILTER (WHERE NOT w.required AND p.n IS NULL) AS optional_gaps
            FROM towns w LEFT JOIN present p ON p.code = w.code
           GROUP BY 1)
        SELECT parts.part AS code, (SELECT sub.name FROM {sub}) AS name,
               parts.required, parts.covered, parts.gaps, parts.conflicts,
               coalesce(astray.n, 0) AS misplaced, parts.optional, parts.optional_gaps{geometry}
          FROM parts LEFT JOIN astray ON astray.part = parts.part
         ORDER BY parts.part"""
    rows = fetch_dicts(session, sql, {**f.params(), "width": width})
    for r in rows:
        r["coverage_rate"] = round(r["covered"] / r["required"], 4) if r["required"] else None
    return rows


def totals(rows: list[dict[str, Any]], code: str, name: str | None) -> dict[str, Any]:
    """The region as a whole, from its parts."""
    keys = ("required", "covered", "gaps", "conflicts", "misplaced", "optional", "optional_gaps")
    out: dict[str, Any] = {"code": code, "name": name, **{k: sum(r[k] for r in rows) for k in keys}}
    out["coverage_rate"] = round(out["covered"] / out["required"], 4) if out["required"] else None
    return out
