"""Display geometry of a region's divisions: simplified together for the map's scale (so that
neighbours still meet), cached per region, level, date and boundary version."""

from __future__ import annotations

import hashlib
import json
from time import perf_counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.simplify import simplify_coverage
from service.coverage.derived import cached, fingerprint, store
from service.coverage.query import CoverageFilter, valid

# metres of simplification by the code length of the region shown (its map's usual zoom)
TOLERANCE_M = {0: 4000.0, 2: 800.0, 4: 150.0, 6: 40.0, 9: 15.0}
# decimals of a degree kept (4 ≈ 11 m, 3 ≈ 110 m): below what the map's scale can show
DIGITS = {0: 3, 2: 4, 4: 5, 6: 5, 9: 5}


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
    rows = session.execute(
        text(
            f"SELECT d.code, ST_AsBinary(d.geom) AS wkb FROM divisions d"
            f" WHERE d.tenant_id = :t AND d.level = :level AND starts_with(d.code, :region)"
            f" AND {valid('d', f)} ORDER BY d.code"
        ),
        {**f.params(), "level": level, "region": region},
    ).all()
    geometries = simplify_coverage([bytes(r.wkb) for r in rows], tolerance, digits)
    result = {r.code: g for r, g in zip(rows, geometries, strict=True)}
    store(session, f.tenant_id, key, stamp, round(perf_counter() - started, 3), result)
    return result


def bounds(session: Session, f: CoverageFilter, region: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the region's townships."""
    row = session.execute(
        text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
            f" ST_Extent(d.geom) AS e FROM divisions d WHERE d.tenant_id = :t"
            f" AND d.level = 'township' AND starts_with(d.code, :region) AND {valid('d', f)}) q"
        ),
        {**f.params(), "region": region},
    ).one()
    if row[0] is None:
        return None
    return [[float(row[1]), float(row[0])], [float(row[3]), float(row[2])]]
