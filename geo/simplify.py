"""Simplifying a set of polygons for display so that neighbours still meet: GEOS's coverage
simplification (shared edges simplified once, the same for both sides), with coordinates
rounded for compact GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

METRES_PER_DEGREE = 111_320.0


def simplify_coverage(
    wkbs: list[bytes], tolerance_m: float, digits: int = 5
) -> list[dict[str, Any]]:
    """GeoJSON geometries of the polygons, simplified together by `tolerance_m` (shared
    edges stay shared). If the input is not a clean coverage, GEOS may refuse: then each
    polygon is simplified on its own (topology-preserving), which can open slivers between
    neighbours that already did not meet."""
    if not wkbs:
        return []
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
    tolerance = tolerance_m / METRES_PER_DEGREE
    try:
        simple = shapely.coverage_simplify(geoms, tolerance)
    except GEOSException:
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    simple = shapely.transform(simple, lambda xy: np.round(xy, digits))
    return [json.loads(g) for g in shapely.to_geojson(simple)]
