"""The corrections of a misplaced point, and the geometry the diagnosis weighs them with."""

import math

import numpy as np
import pytest

from geo.chinacoords import haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from geo.offsets import azimuth_gap_deg, corrections, crossing_chance, distances_m

ZHENGZHOU = (113.6, 34.7)


def test_corrections_undo_each_error():
    lon, lat = ZHENGZHOU
    g, b = wgs84_to_gcj02(lon, lat), wgs84_to_bd09(lon, lat)
    stored_lon = np.array([g[0], b[0], lat])
    stored_lat = np.array([g[1], b[1], lon])
    fixed = corrections(stored_lon, stored_lat)
    assert haversine_m(*ZHENGZHOU, fixed["gcj02"][0][0], fixed["gcj02"][1][0]) < 0.001
    assert haversine_m(*ZHENGZHOU, fixed["bd09"][0][1], fixed["bd09"][1][1]) < 0.001
    assert (fixed["swapped"][0][2], fixed["swapped"][1][2]) == ZHENGZHOU


def test_distances_match_the_scalar_haversine():
    a = np.array([113.6, 87.6, 126.6])
    b = np.array([34.7, 43.8, 45.7])
    got = distances_m(a, b, a + 0.01, b - 0.01)
    want = [haversine_m(x, y, x + 0.01, y - 0.01) for x, y in zip(a, b, strict=True)]
    assert got == pytest.approx(want, abs=1e-6)


def test_crossing_chance_is_shift_times_mean_width_over_area():
    # a 4 km square: perimeter 16 km, area 16 km²; a 500 m shift in a random direction
    # carries out 500 · (16000 / π) / 16e6 of its points
    assert crossing_chance(500.0, 16_000.0, 16e6) == pytest.approx(500 / (math.pi * 1000))
    assert crossing_chance(5_000.0, 4_000.0, 1e6) == 1.0  # capped
    assert crossing_chance(500.0, 0.0, 0.0) == 1.0  # a degenerate township


def test_azimuth_gap_wraps_around_north():
    assert azimuth_gap_deg(math.radians(350), math.radians(10)) == pytest.approx(20)
    assert azimuth_gap_deg(0.0, math.pi) == pytest.approx(180)
    assert azimuth_gap_deg(None, 1.0) is None
