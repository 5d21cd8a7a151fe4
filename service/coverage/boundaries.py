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
from functools import cache
from itertools import groupby
from time import perf_counter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from geo.coverage import Group, invalid_groups
from service.core.db import fetch_dicts
from service.coverage.derived import cached, fingerprint, store
from service.coverage.predicates import Shape, T, divisions_as, of_level, valid_at
from service.coverage.query import CoverageFilter

# ESRI:102025 Asia North Albers Equal Area Conic, shipped in PostGIS's spatial_ref_sys. By
# SRID, PostGIS caches the transformation; a PROJ string is rebuilt on every call (250x slower).
EQUAL_AREA_SRID = 102025
NOISE_DEG = 1e-7  # ≈ 1 cm

TOL = bindparam("tol", type_=Float)
SUSPECTS = bindparam("suspects", type_=ARRAY(String))
CODES = bindparam("codes", type_=ARRAY(String))


def _area(g: Any) -> ColumnElement[float]:
    return func.ST_Area(func.ST_Transform(g, literal_column(str(EQUAL_AREA_SRID))))


def _area_m2(g: Any) -> ColumnElement[float]:
    return cast(func.round(cast(_area(g), Numeric), 1), Float).label("area_m2")


def _geojson(g: Any) -> ColumnElement[str]:
    return func.ST_AsGeoJSON(g, 7).label("geometry")


@cache
def _township_shapes(shape: Shape) -> Select:
    d = divisions_as("d")
    return (
        select(d.c.parent_code, func.ST_AsBinary(d.c.geom).label("wkb"))
        .where(of_level(d, "township", shape))
        .order_by(d.c.parent_code)
    )


def uncertified_counties(session: Session, f: CoverageFilter) -> set[str]:
    """Counties whose townships are not a clean coverage (GEOS CoverageValidator)."""
    result = session.execute(
        _township_shapes(Shape.of(f)).execution_options(yield_per=2000), f.params()
    )

    def groups() -> Iterator[Group]:
        for county, rows in groupby(result, key=lambda r: r.parent_code):
            yield county, [bytes(r.wkb) for r in rows]

    return {str(k) for k in invalid_groups(groups())}


@cache
def _overlaps_stmt(shape: Shape) -> Select:
    # neighbouring counties whose own polygons overlap beyond the tolerance
    ca, cb = divisions_as("ca"), divisions_as("cb")
    shared = func.ST_Intersection(ca.c.geom, cb.c.geom)
    county_pairs = (
        select(ca.c.code.label("ca"), cb.c.code.label("cb"))
        .select_from(ca.join(cb, and_(ca.c.geom.op("&&")(cb.c.geom), ca.c.code < cb.c.code)))
        .where(
            of_level(ca, "county", shape),
            of_level(cb, "county", shape),
            func.ST_Relate(ca.c.geom, cb.c.geom, "2********"),
            _area(shared) > TOL,
        )
        .cte("county_pairs")
        .prefix_with("MATERIALIZED")
    )
    d = divisions_as("d")
    paired = union(select(county_pairs.c.ca), select(county_pairs.c.cb))
    towns = (
        select(d.c.id, d.c.code, d.c.name, d.c.parent_code, d.c.geom)
        .where(
            of_level(d, "township", shape),
            or_(d.c.parent_code == any_(SUSPECTS), d.c.parent_code.in_(paired)),
        )
        .cte("towns")
        .prefix_with("MATERIALIZED")
    )
    a, b = towns.alias("a"), towns.alias("b")
    within = (
        select(a.c.id.label("ia"), b.c.id.label("ib"))
        .select_from(
            a.join(
                b,
                and_(
                    a.c.parent_code == b.c.parent_code,
                    a.c.id < b.c.id,
                    a.c.geom.op("&&")(b.c.geom),
                ),
            )
        )
        .where(a.c.parent_code == any_(SUSPECTS))
    )
    across = (
        select(a.c.id, b.c.id)
        .select_from(
            county_pairs.join(a, a.c.parent_code == county_pairs.c.ca).join(
                b, b.c.parent_code == county_pairs.c.cb
            )
        )
        .where(a.c.geom.op("&&")(b.c.geom))
    )
    pairs = within.union_all(across).cte("pairs")
    hits = (
        select(
            a.c.code.label("a_code"),
            a.c.name.label("a_name"),
            b.c.code.label("b_code"),
            b.c.name.label("b_name"),
            func.ST_Intersection(a.c.geom, b.c.geom).label("g"),
        )
        .select_from(pairs.join(a, a.c.id == pairs.c.ia).join(b, b.c.id == pairs.c.ib))
        .where(func.ST_Relate(a.c.geom, b.c.geom, "2********"))
        .cte("hits")
    )
    return (
        select(
            hits.c.a_code,
            hits.c.a_name,
            hits.c.b_code,
            hits.c.b_name,
            _area_m2(hits.c.g),
            _geojson(hits.c.g),
        )
        .where(_area(hits.c.g) > TOL)
        .order_by(hits.c.a_code, hits.c.b_code)
    )


def _overlaps(session: Session, f: CoverageFilter, tol: float, suspects: set[str]) -> list[dict]:
    params = {**f.params(), "tol": tol, "suspects": sorted(suspects)}
    return fetch_dicts(session, _overlaps_stmt(Shape.of(f)), params)


@cache
def _outside_stmt(shape: Shape) -> Select:
    d = divisions_as("d")
    loose = func.ST_Buffer(d.c.geom, literal_column(repr(NOISE_DEG)), "quad_segs=1 join=mitre")
    c = (
        select(d.c.code, d.c.name, d.c.geom, loose.label("loose"))
        .where(of_level(d, "county", shape))
        .cte("c")
        .prefix_with("MATERIALIZED")
    )
    t = divisions_as("t")
    covered = and_(t.c.geom.op("@")(c.c.loose), func.ST_CoveredBy(t.c.geom, c.c.loose))
    poking = (
        select(
            t.c.code,
            t.c.name,
            t.c.parent_code,
            c.c.name.label("county_name"),
            func.ST_Difference(t.c.geom, c.c.geom).label("g"),
        )
        .select_from(t.join(c, c.c.code == t.c.parent_code))
        .where(of_level(t, "township", shape), ~covered)
        .cte("poking")
    )
    return (
        select(
            poking.c.code,
            poking.c.name,
            poking.c.parent_code.label("county_code"),
            poking.c.county_name,
            _area_m2(poking.c.g),
            _geojson(poking.c.g),
        )
        .where(_area(poking.c.g) > TOL)
        .order_by(poking.c.code)
    )


def _outside(session: Session, f: CoverageFilter, tol: float) -> list[dict]:
    return fetch_dicts(session, _outside_stmt(Shape.of(f)), {**f.params(), "tol": tol})


@cache
def _sums_stmt(shape: Shape) -> Select:
    """Each county's area and the sum of its townships' areas."""
    d = divisions_as("d")
    t = (
        select(d.c.parent_code, func.sum(_area(d.c.geom)).label("area"))
        .where(of_level(d, "township", shape))
        .group_by(d.c.parent_code)
        .subquery("t")
    )
    c = divisions_as("c")
    return (
        select(
            c.c.code,
            c.c.name,
            _area(c.c.geom).label("county_area"),
            func.coalesce(t.c.area, 0).label("towns_area"),
        )
        .select_from(c.outerjoin(t, t.c.parent_code == c.c.code))
        .where(of_level(c, "county", shape))
    )


@cache
def _exact_stmt(shape: Shape) -> Select:
    """The part of each county in `codes` that none of its townships covers."""
    c, t = divisions_as("c"), divisions_as("t")
    towns = (
        select(func.ST_Union(t.c.geom))
        .where(
            t.c.tenant_id == T,
            t.c.level == "township",
            t.c.parent_code == c.c.code,
            valid_at(t, shape),
        )
        .correlate(c)
        .scalar_subquery()
    )
    empty: ColumnElement[Any] = literal_column("'MULTIPOLYGON EMPTY'::geometry")
    g = (
        select(func.ST_Difference(c.c.geom, func.coalesce(towns, empty)).label("g"))
        .correlate(c)
        .lateral("g")
    )
    return (
        select(
            c.c.code.label("county_code"),
            c.c.name.label("county_name"),
            _area_m2(g.c.g),
            _geojson(g.c.g),
        )
        .select_from(c.join(g, true()))
        .where(
            c.c.tenant_id == T,
            c.c.level == "county",
            c.c.code == any_(CODES),
            valid_at(c, shape),
        )
    )


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
    shape = Shape.of(f)
    sums = session.execute(_sums_stmt(shape), f.params()).all()
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
        exact = {
            r["county_code"]: r
            for r in fetch_dicts(session, _exact_stmt(shape), {**f.params(), "codes": codes})
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
