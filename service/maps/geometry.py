"""Display geometry of a region's divisions: simplified together for the map's scale (so that
neighbours still meet), cached per region, level, date and boundary version."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from time import perf_counter
from typing import Any

from sqlalchemy import Select, String, bindparam, func, select, text
from sqlalchemy.orm import Session

from geo.simplify import simplify_coverage
from service.coverage.derived import cached, fingerprint, store
from service.coverage.predicates import Shape, divisions_as, of_level
from service.coverage.query import CoverageFilter

# metres of simplification by the code length of the region shown (its map's usual zoom)
TOLERANCE_M = {0: 4000.0, 2: 800.0, 4: 150.0, 6: 40.0, 9: 15.0}
# decimals of a degree kept (4 ≈ 11 m, 3 ≈ 110 m): below what the map's scale can show
DIGITS = {0: 3, 2: 4, 4: 5, 6: 5, 9: 5}


@cache
def _shapes(shape: Shape) -> Select:
    """The polygons of one level's divisions in the region, by code."""
    d = divisions_as("d")
    return (
        select(d.c.code, func.ST_AsBinary(d.c.geom).label("wkb"))
        .where(of_level(d, bindparam("level", type_=String), shape))
        .order_by(d.c.code)
    )


@cache
def _extent(shape: Shape) -> Select:
    """The bounding box of the region's townships."""
    d = divisions_as("d")
    e = (
        select(func.ST_Extent(d.c.geom).label("e"))
        .where(of_level(d, "township", shape))
        .subquery("q")
    )
    return select(
        func.ST_XMin(e.c.e), func.ST_YMin(e.c.e), func.ST_XMax(e.c.e), func.ST_YMax(e.c.e)
    )


def display_geometry(
    session: Session, f: CoverageFilter, level: str, region: str
) -> dict[str, dict[str, Any]]:
    """code → GeoJSON geometry of the divisions of `level` inside `region` (at f.as_of)."""
    tolerance = TOLERANCE_M[len(region)]
    digits = DIGITS[len(region)]
    key_text = json.dumps(["map", region, level, str(f.as_of), tolerance, digits])
    key = "map:" + hashlib.sha256(key_text.encode()).hexdigest()[:28]
    stamp = fingerprint(session, f.tenant_id)
    hit = cached(session, f.tenant_id, key)
    if hit is not None and hit[0] == stamp:
        return dict(hit[1])
    started = perf_counter()
    result: dict[str, dict[str, Any]] = {}
    # the nation province by province: GEOS's coverage simplification of its 41,000
    # township polygons at once held 1.3 GB; apart, one province's at a time. A provincial
    # border is then simplified on each side alone: the two may part by up to the
    # tolerance (4 km, 0.16 mm on a national map of 1:25,000,000)
    for part in _provinces(session, f, level) if len(region) < 2 else [region]:
        rows = session.execute(
            _shapes(Shape.of(f)), {**f.params(), "level": level, "region": part}
        ).all()
        geometries = simplify_coverage([bytes(r.wkb) for r in rows], tolerance, digits)
        result.update({r.code: g for r, g in zip(rows, geometries, strict=True)})
        del rows, geometries
    store(session, f.tenant_id, key, stamp, round(perf_counter() - started, 3), result)
    return result


_PROVINCES = text(
    "SELECT DISTINCT left(code, 2) FROM divisions WHERE tenant_id = :t AND level = :level"
    " ORDER BY 1"
)


def _provinces(session: Session, f: CoverageFilter, level: str) -> list[str]:
    """The province codes the tenant's divisions of `level` start with (any version)."""
    return list(session.scalars(_PROVINCES, {"t": f.tenant_id, "level": level}))


def bounds(session: Session, f: CoverageFilter, region: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the region's townships."""
    row = session.execute(_extent(Shape.of(f)), {**f.params(), "region": region}).one()
    if row[0] is None:
        return None
    return [[float(row[1]), float(row[0])], [float(row[3]), float(row[2])]]
