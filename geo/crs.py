"""Coordinate reference systems we accept, and reprojection to WGS-84 with cached transformers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84 = 4326
CGCS2000 = 4490
WEB_MERCATOR = 3857
# CGCS2000 Gauss-Krüger: 6° zones 13–23 (with/without zone prefix), 3° zones 25–45 (both forms).
CGCS2000_GK = range(4491, 4555)
# CGCS2000 and WGS-84 agree to a few centimetres in China; PROJ itself treats the
# transformation between them as a null (ballpark) one, so we pass coordinates through.
GEOGRAPHIC_PASS_THROUGH = frozenset({WGS84, CGCS2000})
SUPPORTED_EPSG = frozenset({WGS84, CGCS2000, WEB_MERCATOR, *CGCS2000_GK})
# Asia North Albers Equal Area Conic: where areas are measured (also PostGIS SRID 102025)
EQUAL_AREA = "ESRI:102025"


class UnsupportedCRS(ValueError):
    """A CRS we cannot read or do not accept."""


def supported_description() -> str:
    return "EPSG:4326 (WGS-84), EPSG:4490 (CGCS2000), EPSG:4491–4554 (CGCS2000 Gauss-Krüger), EPSG:3857"


def parse_epsg(value: str | int) -> int:
    """EPSG code of a user-given CRS ("EPSG:4490", "4490", WKT, a PROJ string); must be supported."""
    if isinstance(value, int):
        code = value
    else:
        text = value.strip()
        if not text:
            raise UnsupportedCRS("empty CRS")
        upper = text.upper()
        if upper.startswith("EPSG:") and upper[5:].isdigit():
            code = int(upper[5:])
        elif text.isdigit():
            code = int(text)
        else:
            code = epsg_of(text)
    if code not in SUPPORTED_EPSG:
        raise UnsupportedCRS(f"EPSG:{code} is not supported; use {supported_description()}")
    return code


@lru_cache(maxsize=256)
def epsg_of(definition: str) -> int:
    """EPSG code of a CRS definition read from a file (WKT, PROJJSON, URN ...)."""
    try:
        crs = CRS.from_user_input(definition)
    except CRSError as exc:
        raise UnsupportedCRS(f"unreadable CRS: {exc}") from exc
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        # Some writers emit CGCS2000 without an authority; recognise it by its datum.
        datum = crs.datum.name if crs.datum else ""
        if crs.is_geographic and "China Geodetic Coordinate System 2000" in datum:
            return CGCS2000
        raise UnsupportedCRS(f"CRS {crs.name!r} has no EPSG code; pass crs=EPSG:xxxx")
    return int(code)


@lru_cache(maxsize=128)
def transformer_to_wgs84(epsg: int) -> Transformer:
    """A cached lon/lat-ordered transformer from `epsg` to WGS-84."""
    return Transformer.from_crs(CRS.from_epsg(epsg), CRS.from_epsg(WGS84), always_xy=True)


@lru_cache(maxsize=1)
def transformer_to_equal_area() -> Transformer:
    """A cached lon/lat-ordered transformer from WGS-84 to ESRI:102025 (metres, equal-area)."""
    return Transformer.from_crs(
        CRS.from_epsg(WGS84), CRS.from_user_input(EQUAL_AREA), always_xy=True
    )


def to_wgs84(geoms: np.ndarray, epsg: int) -> np.ndarray:
    """Reproject an array of shapely geometries to WGS-84 lon/lat (vectorised over coordinates)."""
    if epsg in GEOGRAPHIC_PASS_THROUGH:
        return geoms
    transformer = transformer_to_wgs84(epsg)

    def _project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, _project))


def point_to_wgs84(x: float, y: float, epsg: int) -> tuple[float, float]:
    """Reproject one point to WGS-84 (lon, lat)."""
    if epsg in GEOGRAPHIC_PASS_THROUGH:
        return x, y
    lon, lat = transformer_to_wgs84(epsg).transform(x, y)
    return float(lon), float(lat)


# OGC API (Features Part 2, Tiles): CRS named by URI. CRS84 is WGS-84 with longitude first —
# the default of every OGC API and the order our geometries are stored in (SRID 4326, x=lon).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
# the CRS an OGC client may ask for: CRS84 (None here) and the supported EPSG codes
OGC_CRS: tuple[int | None, ...] = (None, WGS84, CGCS2000, WEB_MERCATOR, *CGCS2000_GK)


def crs_uri(epsg: int | None) -> str:
    """The OGC URI of an EPSG code; None is CRS84."""
    return CRS84 if epsg is None else f"{_EPSG_URI}{epsg}"


def parse_crs_uri(value: str) -> int | None:
    """The EPSG code a client's CRS names (an OGC URI, a safe CURIE `[EPSG:4490]`, or
    `EPSG:4490`); None for CRS84. UnsupportedCRS for anything else."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text in (CRS84, "OGC:CRS84", "CRS84", "http://www.opengis.net/def/crs/OGC/0/CRS84"):
        return None
    for prefix in (_EPSG_URI, "http://www.opengis.net/def/crs/EPSG/0.0/", "EPSG:"):
        if text.startswith(prefix) and text[len(prefix) :].isdigit():
            code = int(text[len(prefix) :])
            if code in SUPPORTED_EPSG:
                return code
            break
    raise UnsupportedCRS(
        f"{value[:200]!r} is not a CRS this service offers; use {CRS84} or one of"
        f" {_EPSG_URI}{{4326, 4490, 3857, 4491…4554}}"
    )


@lru_cache(maxsize=128)
def northing_first(epsg: int) -> bool:
    """Whether the CRS's first axis points north (latitude or northing first): EPSG:4326 and
    EPSG:4490 are lat,lon, the CGCS2000 Gauss-Krüger CRSs northing,easting. Coordinates in
    such a CRS are written in that order (OGC API Features Part 2), not x,y."""
    return CRS.from_epsg(epsg).axis_info[0].direction.lower() == "north"
