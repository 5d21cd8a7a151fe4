"""The systematic errors that can carry an office's point out of its township, as geometry.

A point typed from 高德/腾讯 (GCJ-02) or 百度 (BD-09) but stored as WGS-84 stands a few
hundred metres (GCJ-02) or about a kilometre (BD-09) from the office; one with longitude and
latitude swapped stands thousands of kilometres away. `corrections` undoes each of them for
arrays of stored points; `crossing_chance` says how often a shift of a given size carries a
point of a township across its boundary. No database, no web: the coverage diagnosis
(service/coverage/diagnosis.py) tests the corrected points against the townships in SQL.
"""

from __future__ import annotations

import math

import numpy as np

from geo.chinacoords import bd09_to_wgs84, gcj02_to_wgs84

EARTH_RADIUS_M = 6371008.8  # mean radius, as geo.chinacoords.haversine_m
SHIFTS = ("gcj02", "bd09")  # the shifts whose size is a few hundred metres
CORRECTIONS = (*SHIFTS, "swapped")

Pair = tuple[np.ndarray, np.ndarray]


def corrections(lon: np.ndarray, lat: np.ndarray) -> dict[str, Pair]:
    """Where each stored point would be if it were really GCJ-02, BD-09 or swapped."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return {
        "gcj02": gcj02_to_wgs84(lon, lat),
        "bd09": bd09_to_wgs84(lon, lat),
        "swapped": (lat.copy(), lon.copy()),
    }


def distances_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distances in metres between paired points (vectorised haversine)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def crossing_chance(shift_m: float, perimeter_m: float, area_m2: float) -> float:
    """The share of a township's points that a shift of `shift_m` metres, in a direction
    unrelated to the township's shape, carries out of it: shift x mean width / area, where
    the mean width of a region is its perimeter / pi (Cauchy's formula, exact for convex
    regions and an upper bound otherwise). Capped at 1."""
    if area_m2 <= 0:
        return 1.0
    return min(1.0, shift_m * perimeter_m / (math.pi * area_m2))


def azimuth_gap_deg(a: float | None, b: float | None) -> float | None:
    """The angle in degrees (0–180) between two azimuths given in radians (None if either is)."""
    if a is None or b is None:
        return None
    gap = abs(math.degrees(a - b)) % 360.0
    return min(gap, 360.0 - gap)
