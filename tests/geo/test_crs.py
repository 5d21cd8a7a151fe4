"""CRS parsing and reprojection of Gauss-Krüger and Web Mercator coordinates."""

import numpy as np
import pytest
import shapely

from geo.chinacoords import haversine_m
from geo.crs import UnsupportedCRS, epsg_of, parse_epsg, point_to_wgs84, to_wgs84


@pytest.mark.parametrize(
    ("given", "code"),
    [("EPSG:4326", 4326), ("epsg:4490", 4490), ("4547", 4547), (4491, 4491), ("EPSG:3857", 3857)],
)
def test_parse_supported(given, code):
    assert parse_epsg(given) == code


@pytest.mark.parametrize("given", ["EPSG:32650", "EPSG:4214", "", "not a crs", 4555])
def test_parse_unsupported(given):
    with pytest.raises(UnsupportedCRS):
        parse_epsg(given)


def test_epsg_of_urn_and_wkt():
    assert epsg_of("urn:ogc:def:crs:EPSG::4490") == 4490
    from pyproj import CRS

    assert epsg_of(CRS.from_epsg(4546).to_wkt()) == 4546


def test_gauss_kruger_3_degree_zone_to_wgs84():
    # EPSG:4547 is CGCS2000 / 3-degree Gauss-Kruger CM 114E (no zone prefix): a point on the
    # central meridian at false easting 500000 m has longitude 114°.
    lon, lat = point_to_wgs84(500000.0, 3846000.0, 4547)
    assert lon == pytest.approx(114.0, abs=1e-9)
    assert 34.6 < lat < 34.8
    # EPSG:4526 is the same zone with the zone number 38 prefixed to the easting.
    lon2, lat2 = point_to_wgs84(38500000.0, 3846000.0, 4526)
    assert haversine_m(lon, lat, lon2, lat2) < 0.001


def test_web_mercator_polygon_to_wgs84():
    x0, y0 = 12653000.0, 4130000.0
    poly = shapely.box(x0, y0, x0 + 1000, y0 + 1000)
    (out,) = to_wgs84(np.array([poly], dtype=object), 3857)
    minx, miny, maxx, maxy = out.bounds
    assert 113.6 < minx < maxx < 113.7
    assert 34.7 < miny < maxy < 34.8


def test_geographic_crs_pass_through_is_identity():
    poly = shapely.box(113, 34, 114, 35)
    (out,) = to_wgs84(np.array([poly], dtype=object), 4490)
    assert out.equals_exact(poly, 0)
