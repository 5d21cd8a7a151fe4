"""Geometry checks for imported boundaries and submitted points, vectorised over arrays."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon

# Rough envelope of China's territory (with its islands), in WGS-84 degrees.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.0, 53.6)

_POLYGONAL = {"Polygon", "MultiPolygon"}


def shape_problems(geoms: np.ndarray) -> dict[int, str]:
    """Cheap checks: missing, not polygonal (a polygon-only collection passes), empty."""
    problems: dict[int, str] = {}
    missing = shapely.is_missing(geoms)
    for i in np.flatnonzero(missing):
        problems[int(i)] = "missing geometry"
    present = ~missing
    type_ids = np.full(len(geoms), -1)
    type_ids[present] = shapely.get_type_id(geoms[present])
    for i in np.flatnonzero(present & ~np.isin(type_ids, [3, 6])):
        problem = _type_problem(geoms[i])
        if problem:
            problems[int(i)] = problem
    empty = np.zeros(len(geoms), dtype=bool)
    empty[present] = shapely.is_empty(geoms[present])
    for i in np.flatnonzero(empty):
        problems.setdefault(int(i), "empty polygon")
    return problems


def validity_problems(geoms: np.ndarray) -> dict[int, str]:
    """OGC validity of non-missing polygons (GEOS also flags NaN/infinite coordinates)."""
    valid = shapely.is_valid(geoms)
    problems = {}
    for i in np.flatnonzero(~valid):
        reason = shapely.is_valid_reason(geoms[i])
        if reason.startswith("Invalid Coordinate"):
            problems[int(i)] = "coordinates contain NaN or infinity"
        else:
            problems[int(i)] = f"invalid polygon: {reason}"
    return problems


def polygon_problems(geoms: np.ndarray) -> dict[int, str]:
    """Index → problem for every geometry that is not a valid, non-empty (Multi)Polygon."""
    problems = shape_problems(geoms)
    rest = np.array([i for i in range(len(geoms)) if i not in problems], dtype=int)
    if len(rest):
        for j, problem in validity_problems(geoms[rest]).items():
            problems[int(rest[j])] = problem
    return dict(sorted(problems.items()))


def _type_problem(geom: shapely.Geometry) -> str:
    kind = geom.geom_type
    if kind == "GeometryCollection":
        parts = {g.geom_type for g in shapely.get_parts(geom)}
        if parts and parts <= _POLYGONAL:
            return ""  # a collection of polygons is fine; as_multipolygons merges it
        return f"mixed geometry types in a GeometryCollection ({', '.join(sorted(parts))})"
    return f"{kind} is not a polygon"


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons and polygon-only collections as MultiPolygons (the column type)."""
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        if isinstance(g, MultiPolygon):
            out[i] = g
        elif isinstance(g, Polygon):
            out[i] = MultiPolygon([g])
        else:
            polys: list[Polygon] = []
            for part in shapely.get_parts(g):
                polys.extend(shapely.get_parts(part) if isinstance(part, MultiPolygon) else [part])
            out[i] = MultiPolygon(polys)
    return out


def lonlat_problems(geoms: np.ndarray) -> dict[int, str]:
    """Geometries whose coordinates are not plausible WGS-84 degrees inside China."""
    problems: dict[int, str] = {}
    bounds = shapely.bounds(geoms)
    for i, (minx, miny, maxx, maxy) in enumerate(bounds):
        if not np.isfinite([minx, miny, maxx, maxy]).all():
            continue
        if (
            CHINA_LAT[0] <= minx
            and maxx <= CHINA_LAT[1]
            and CHINA_LON[0] <= miny
            and maxy <= CHINA_LON[1]
        ):
            problems[i] = "longitude and latitude look swapped (x holds latitudes)"
        elif abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90 or abs(maxy) > 90:
            problems[i] = (
                "coordinates are not longitude/latitude degrees (projected metres?): "
                "the file's CRS is missing or wrong; pass crs=EPSG:xxxx"
            )
        elif not (
            CHINA_LON[0] <= minx
            and maxx <= CHINA_LON[1]
            and CHINA_LAT[0] <= miny
            and maxy <= CHINA_LAT[1]
        ):
            problems[i] = (
                f"outside China (bounds {minx:.4f},{miny:.4f},{maxx:.4f},{maxy:.4f}): "
                "wrong CRS or wrong data"
            )
    return problems


def point_problem(lon: float, lat: float) -> str | None:
    """Why (lon, lat) cannot be a location in China, or None when it plausibly is."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "coordinates must be finite numbers"
    in_china = CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]
    swapped = CHINA_LON[0] <= lat <= CHINA_LON[1] and CHINA_LAT[0] <= lon <= CHINA_LAT[1]
    if not in_china and swapped:
        return (
            "longitude and latitude look swapped: lon is east-west (73–135), lat north-south (3–54)"
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return "longitude must be within ±180 and latitude within ±90 degrees"
    if not in_china:
        return "the point is outside China"
    return None
