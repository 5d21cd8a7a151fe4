"""Boundary quality of the township polygons: overlaps between townships, parts of a county
covered by none of its townships, townships reaching outside their county. Areas are m² in
an Albers equal-area projection (ESRI:102025); findings below the tolerance are noise.

The expensive geometry runs only where a cheap test points at a problem:
- each county's townships are certified as a clean coverage (no overlaps, matched edges) by
  GEOS's CoverageValidator (`geo.coverage`, streamed county by county); only townships of a
  county that fails are tested pairwise (DE-9IM 2********) in SQL; across counties, only
  townships of neighbouring counties whose own polygons overlap beyond the tolerance are;
- outside: townships not covered by their county (1 cm of slack for floating-point noise),
  and only those get their outside part measured;
- uncovered: for a certified county, area(county) − Σ area(townships) + their parts outside
  it, exactly; a county that is not certified has its townships unioned.
Results are cached per question and per fingerprint of the tenant's divisions (any import
changes it), so a second look at unchanged boundaries is instant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from itertools import groupby
from time import perf_counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage import Group, invalid_groups
from service.core.db import fetch_dicts
from service.coverage.derived import cached, fingerprint, store
from service.coverage.query import CoverageFilter, valid

# ESRI:102025 Asia North Albers Equal Area Conic, shipped in PostGIS's spatial_ref_sys. By
# SRID, PostGIS caches the transformation; a PROJ string is rebuilt on every call (250x slower).
EQUAL_AREA_SRID = 102025
NOISE_DEG = 1e-7  # ≈ 1 cm


def _area(expr: str) -> str:
    return f"ST_Area(ST_Transform({expr}, {EQUAL_AREA_SRID}))"


def _townships(f: CoverageFilter, alias: str = "divisions") -> str:
    return (
        f"{alias}.tenant_id = :t AND {alias}.level = 'township'"
        f" AND starts_with({alias}.code, :region) AND {valid(alias, f)}"
    )


def uncertified_counties(session: Session, f: CoverageFilter) -> set[str]:
    """Counties whose townships are not a clean coverage (GEOS CoverageValidator)."""
    result = session.execute(
        text(
            f"SELECT parent_code, ST_AsBinary(geom) AS wkb FROM divisions"
            f" WHERE {_townships(f)} ORDER BY parent_code"
        ).execution_options(yield_per=2000),
        f.params(),
    )

    def groups() -> Iterator[Group]:
        for county, rows in groupby(result, key=lambda r: r.parent_code):
            yield county, [bytes(r.wkb) for r in rows]

    return {str(k) for k in invalid_groups(groups())}


def _overlaps(session: Session, f: CoverageFilter, tol: float, suspects: set[str]) -> list[dict]:
    counties = f"""SELECT code, geom FROM divisions WHERE tenant_id = :t AND level = 'county'
                     AND starts_with(code, :region) AND {valid("divisions", f)}"""
    sql = f"""
    WITH county_pairs AS MATERIALIZED (
      SELECT a.code AS ca, b.code AS cb FROM ({counties}) a JOIN ({counties}) b
        ON a.geom && b.geom AND a.code < b.code
       WHERE ST_Relate(a.geom, b.geom, '2********')
         AND {_area("ST_Intersection(a.geom, b.geom)")} > :tol),
    towns AS MATERIALIZED (
      SELECT id, code, name, parent_code, geom FROM divisions
       WHERE {_townships(f)}
         AND (parent_code = ANY(CAST(:suspects AS text[]))
              OR parent_code IN (SELECT ca FROM county_pairs UNION SELECT cb FROM county_pairs))),
    pairs AS (
      SELECT a.id AS ia, b.id AS ib FROM towns a JOIN towns b
        ON a.parent_code = b.parent_code AND a.id < b.id AND a.geom && b.geom
       WHERE a.parent_code = ANY(CAST(:suspects AS text[]))
      UNION ALL
      SELECT a.id, b.id FROM county_pairs cp
        JOIN towns a ON a.parent_code = cp.ca JOIN towns b ON b.parent_code = cp.cb
       WHERE a.geom && b.geom),
    hits AS (
      SELECT a.code AS a_code, a.name AS a_name, b.code AS b_code, b.name AS b_name,
             ST_Intersection(a.geom, b.geom) AS g
        FROM pairs p JOIN towns a ON a.id = p.ia JOIN towns b ON b.id = p.ib
       WHERE ST_Relate(a.geom, b.geom, '2********'))
    SELECT a_code, a_name, b_code, b_name, round({_area("g")}::numeric, 1)::float8 AS area_m2,
           ST_AsGeoJSON(g, 7) AS geometry
      FROM hits WHERE {_area("g")} > :tol ORDER BY a_code, b_code"""
    params = {**f.params(), "tol": tol, "suspects": sorted(suspects)}
    return fetch_dicts(session, sql, params)


def _outside(session: Session, f: CoverageFilter, tol: float) -> list[dict]:
    sql = f"""
    WITH c AS MATERIALIZED (
      SELECT code, name, geom, ST_Buffer(geom, {NOISE_DEG}, 'quad_segs=1 join=mitre') AS loose
        FROM divisions WHERE tenant_id = :t AND level = 'county'
         AND starts_with(code, :region) AND {valid("divisions", f)}),
    poking AS (
      SELECT t.code, t.name, t.parent_code, c.name AS county_name,
             ST_Difference(t.geom, c.geom) AS g
        FROM divisions t JOIN c ON c.code = t.parent_code
       WHERE {_townships(f, "t")} AND NOT (t.geom @ c.loose AND ST_CoveredBy(t.geom, c.loose)))
    SELECT code, name, parent_code AS county_code, county_name,
           round({_area("g")}::numeric, 1)::float8 AS area_m2, ST_AsGeoJSON(g, 7) AS geometry
      FROM poking WHERE {_area("g")} > :tol ORDER BY code"""
    return fetch_dicts(session, sql, {**f.params(), "tol": tol})


def _uncovered(
    session: Session,
    f: CoverageFilter,
    tol: float,
    suspects: set[str],
    outside: list[dict],
    with_geometry: bool,
) -> list[dict]:
    spill: dict[str, float] = {}
    for o in outside:
        spill[o["county_code"]] = spill.get(o["county_code"], 0.0) + float(o["area_m2"])
    sums = session.execute(
        text(
            f"""WITH t AS (SELECT parent_code, sum({_area("geom")}) AS area FROM divisions
                            WHERE {_townships(f)} GROUP BY parent_code)
                SELECT c.code, c.name, {_area("c.geom")} AS county_area,
                       coalesce(t.area, 0) AS towns_area
                  FROM divisions c LEFT JOIN t ON t.parent_code = c.code
                 WHERE c.tenant_id = :t AND c.level = 'county' AND starts_with(c.code, :region)
                   AND {valid("c", f)}"""
        ),
        f.params(),
    ).all()
    found = []
    exact_needed = []
    for r in sums:
        estimate = r.county_area - r.towns_area + spill.get(r.code, 0.0)
        if r.code in suspects:
            exact_needed.append(r.code)  # overlaps inside the county spoil the accounting
        elif estimate > tol:
            found.append(
                {"county_code": r.code, "county_name": r.name, "area_m2": round(estimate, 1)}
            )
    if exact_needed or (with_geometry and found):
        codes = exact_needed + [x["county_code"] for x in found]
        sql = f"""
        SELECT c.code AS county_code, c.name AS county_name,
               round({_area("g.g")}::numeric, 1)::float8 AS area_m2, ST_AsGeoJSON(g.g, 7) AS geometry
          FROM divisions c, LATERAL (SELECT ST_Difference(c.geom, coalesce(
                 (SELECT ST_Union(t.geom) FROM divisions t WHERE t.tenant_id = :t
                     AND t.level = 'township' AND t.parent_code = c.code AND {valid("t", f)}),
                 'MULTIPOLYGON EMPTY'::geometry)) AS g) g
         WHERE c.tenant_id = :t AND c.level = 'county' AND c.code = ANY(CAST(:codes AS text[]))
           AND {valid("c", f)}"""
        exact = {
            r["county_code"]: r for r in fetch_dicts(session, sql, {**f.params(), "codes": codes})
        }
        found = [exact.get(x["county_code"], x) for x in found]
        found += [exact[c] for c in exact_needed if c in exact and float(exact[c]["area_m2"]) > tol]
    return sorted(found, key=lambda x: x["county_code"])


def boundary_quality(
    session: Session, f: CoverageFilter, *, tolerance_m2: float, with_geometry: bool = False
) -> dict[str, Any]:
    """The three findings for the region at the date, computed or from the cache."""
    key_text = json.dumps([f.region, str(f.as_of), tolerance_m2, with_geometry])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:32]
    stamp = fingerprint(session, f.tenant_id)
    hit = cached(session, f.tenant_id, key)
    if hit is not None and hit[0] == stamp:
        return {**hit[1], "cached": True}
    started = perf_counter()
    suspects = uncertified_counties(session, f)
    overlaps = _overlaps(session, f, tolerance_m2, suspects)
    outside = _outside(session, f, tolerance_m2)
    uncovered = _uncovered(session, f, tolerance_m2, suspects, outside, with_geometry)
    seconds = round(perf_counter() - started, 3)
    if not with_geometry:
        for item in (*overlaps, *outside):
            item.pop("geometry", None)
    result = {
        "region": f.region,
        "as_of": str(f.as_of) if f.as_of else None,
        "tolerance_m2": tolerance_m2,
        "seconds": seconds,
        "counties_not_clean": sorted(suspects),
        "overlaps": overlaps,
        "uncovered": uncovered,
        "outside": outside,
    }
    store(session, f.tenant_id, key, stamp, seconds, result)
    return {**result, "cached": False}
