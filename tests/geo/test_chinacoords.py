"""GCJ-02 and BD-09 conversions against published reference pairs, and round trips."""

import numpy as np
import pytest

from geo.chinacoords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (wgs lon, wgs lat, gcj lon, gcj lat): googollee/eviltransform test suite (Shanghai,
# Shenzhen, Beijing) and wandergis/coordtransform's README example (Beijing).
WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]
# (gcj lon, gcj lat, bd lon, bd lat): wandergis/coordtransform (Beijing) and Alibaba Cloud's
# address API documentation example (Hangzhou, published to 6 decimals).
GCJ_BD = [
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    (120.026268, 30.279164, 120.032768, 30.285238),
]


# (conversion, its tolerance in metres, the pairs it is checked on, read forward or back)
REFERENCE_CASES = [
    *[(wgs84_to_gcj02, 0.01, (wlon, wlat), (glon, glat)) for wlon, wlat, glon, glat in WGS_GCJ],
    *[(gcj02_to_wgs84, 1.0, (glon, glat), (wlon, wlat)) for wlon, wlat, glon, glat in WGS_GCJ],
    *[(gcj02_to_bd09, 1.0, (glon, glat), (blon, blat)) for glon, glat, blon, blat in GCJ_BD],
    *[(bd09_to_gcj02, 1.0, (blon, blat), (glon, glat)) for glon, glat, blon, blat in GCJ_BD],
]


@pytest.mark.parametrize(
    ("convert", "tolerance_m", "source", "expected"),
    REFERENCE_CASES,
    ids=[f"{case[0].__name__.lstrip('_')}-{case[2][0]}" for case in REFERENCE_CASES],
)
def test_conversion_matches_or_recovers_reference(convert, tolerance_m, source, expected):
    """The forward formulas match the published pairs to a centimetre (BD-09's to a metre: its
    reference is published to 6 decimals); the iterated inverses recover them within 1 m."""
    assert haversine_m(*convert(*source), *expected) < tolerance_m


def test_bd09_to_wgs84_chains_through_gcj02():
    wlon, wlat, glon, glat = WGS_GCJ[3]
    blon, blat = gcj02_to_bd09(glon, glat)
    assert haversine_m(*bd09_to_wgs84(blon, blat), wlon, wlat) < 1.0
    assert haversine_m(*wgs84_to_bd09(wlon, wlat), blon, blat) < 0.01


def test_shift_is_hundreds_of_metres_inside_china():
    # The obfuscation moves points by roughly 100–700 m: a converted point is not a no-op.
    lon, lat = 113.665, 34.757  # Zhengzhou
    assert 100 < haversine_m(*wgs84_to_gcj02(lon, lat), lon, lat) < 1000
    assert 100 < haversine_m(*wgs84_to_bd09(lon, lat), lon, lat) < 2000


def test_round_trip_below_a_millimetre_over_china():
    lon, lat = np.meshgrid(np.linspace(74, 134, 25), np.linspace(4, 53, 25))
    lon, lat = lon.ravel(), lat.ravel()
    inside = ~out_of_china(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    err = np.hypot((back_lon - lon) * 111320 * np.cos(np.radians(lat)), (back_lat - lat) * 110540)
    assert inside.all()
    assert err.max() < 0.001
    b_lon, b_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    err_bd = np.hypot((b_lon - lon) * 111320 * np.cos(np.radians(lat)), (b_lat - lat) * 110540)
    assert err_bd.max() < 0.001


def test_outside_china_is_untouched():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_scalars_in_scalars_out():
    out = gcj02_to_wgs84(116.4, 39.9)
    assert isinstance(out[0], float) and isinstance(out[1], float)
