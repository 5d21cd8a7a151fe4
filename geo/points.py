"""Office points as clients send them: which coordinate systems we take, and their conversion
to WGS-84 with the reason each point cannot be a place in China.

One module for the single-office API and the bulk roster import, so that a point refused by
one is refused by the other (the roster once stored 1e308 and took no Gauss-Krüger zones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.chinacoords import bd09_to_wgs84, gcj02_to_wgs84
from geo.crs import CGCS2000_GK, transformer_to_wgs84
from geo.validate import point_problem

# what people write → the name we keep
POINT_CRS_ALIASES = {
    "EPSG:4326": "EPSG:4326",
    "WGS84": "EPSG:4326",
    "WGS-84": "EPSG:4326",
    "4326": "EPSG:4326",
    "EPSG:4490": "EPSG:4490",
    "CGCS2000": "EPSG:4490",
    "4490": "EPSG:4490",
    "GCJ02": "GCJ02",
    "GCJ-02": "GCJ02",
    "BD09": "BD09",
    "BD-09": "BD09",
    "BD09LL": "BD09",
}
POINT_CRS_HELP = "EPSG:4326 (WGS84), EPSG:4490 (CGCS2000), GCJ02, BD09 or EPSG:4491–4554"
GEOGRAPHIC = frozenset({"EPSG:4326", "EPSG:4490", "GCJ02", "BD09"})


def point_crs(value: str) -> str:
    """The name we keep for a point CRS as written; ValueError for one we do not take."""
    key = value.strip().upper().replace(" ", "")
    if key in POINT_CRS_ALIASES:
        return POINT_CRS_ALIASES[key]
    number = key.removeprefix("EPSG:")
    if number.isdigit() and int(number) in CGCS2000_GK:
        return f"EPSG:{int(number)}"
    raise ValueError(f"must be {POINT_CRS_HELP}")


@dataclass(frozen=True)
class Converted:
    """WGS-84 lon/lat of each point (NaN where refused) and why each was refused (or None)."""

    lon: np.ndarray
    lat: np.ndarray
    problems: list[str | None]


def points_to_wgs84(crs: str, x: np.ndarray, y: np.ndarray) -> Converted:
    """Convert points given in `crs` (a name from `point_crs`) to WGS-84 lon/lat, checking
    each: geographic input must be a plausible place in China before conversion (1e308,
    999/-999 and swapped axes are caught here), projected input after it."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lon, lat = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    if crs in GEOGRAPHIC:
        problems = [point_problem(float(a), float(b)) for a, b in zip(x, y, strict=True)]
        ok = np.array([p is None for p in problems], dtype=bool)
        if crs == "GCJ02":
            lon[ok], lat[ok] = gcj02_to_wgs84(x[ok], y[ok])
        elif crs == "BD09":
            lon[ok], lat[ok] = bd09_to_wgs84(x[ok], y[ok])
        else:  # CGCS2000 and WGS-84 differ by centimetres here (see geo/crs.py)
            lon[ok], lat[ok] = x[ok], y[ok]
        return Converted(lon, lat, problems)
    finite = np.isfinite(x) & np.isfinite(y)
    with np.errstate(all="ignore"):
        px, py = transformer_to_wgs84(int(crs.split(":")[1])).transform(x[finite], y[finite])
    lon[finite], lat[finite] = px, py
    problems = []
    for i in range(len(x)):
        problem = point_problem(float(lon[i]), float(lat[i])) if finite[i] else None
        if not finite[i]:
            problems.append("coordinates must be finite numbers")
        elif problem:
            problems.append(f"in {crs} this point is at ({lon[i]:.5f}, {lat[i]:.5f}): {problem}")
        else:
            problems.append(None)
    bad = np.array([p is not None for p in problems], dtype=bool)
    lon[bad], lat[bad] = np.nan, np.nan
    return Converted(lon, lat, problems)
