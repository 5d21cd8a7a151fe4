"""GCJ-02 (高德/腾讯) and BD-09 (百度) coordinates to and from WGS-84.

The forward WGS-84 → GCJ-02 formula is the published one; there is no closed-form inverse,
so GCJ-02 → WGS-84 is solved by fixed-point iteration to below a millimetre. BD-09 is a
further closed-form shift of GCJ-02 whose inverse is iterated the same way. Outside China
(the conventional rough bounding box) GCJ-02 equals WGS-84. Functions accept floats or
numpy arrays (lon, lat) and return the same shape.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses it
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-11  # ~1 micrometre
_MAX_ITERATIONS = 30

Pair = tuple[np.ndarray, np.ndarray]


def out_of_china(lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
    """True where the conventional GCJ-02 bounding box says the point is outside China."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> Pair:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _shape(fn: Callable[[np.ndarray, np.ndarray], Pair]) -> Callable[..., tuple]:
    """Let a vectorised (lon, lat) function also take and return plain floats."""

    def wrapper(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple:
        scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
        out_lon, out_lat = fn(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        if scalar:
            return float(out_lon), float(out_lat)
        return out_lon, out_lat

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], Pair], lon: np.ndarray, lat: np.ndarray
) -> Pair:
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration (the shift is smooth)."""
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(w_lon, w_lat)
        e_lon, e_lat = lon - f_lon, lat - f_lat
        w_lon, w_lat = w_lon + e_lon, w_lat + e_lat
        if np.all(np.abs(e_lon) < _TOLERANCE_DEG) and np.all(np.abs(e_lat) < _TOLERANCE_DEG):
            break
    return w_lon, w_lat


def _wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> Pair:
    dlon, dlat = _delta(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> Pair:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> Pair:
    return _invert(_wgs84_to_gcj02, lon, lat)


def _bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> Pair:
    return _invert(_gcj02_to_bd09, lon, lat)


def _wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> Pair:
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> Pair:
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


wgs84_to_gcj02 = _shape(_wgs84_to_gcj02)
gcj02_to_wgs84 = _shape(_gcj02_to_wgs84)
gcj02_to_bd09 = _shape(_gcj02_to_bd09)
bd09_to_gcj02 = _shape(_bd09_to_gcj02)
wgs84_to_bd09 = _shape(_wgs84_to_bd09)
bd09_to_wgs84 = _shape(_bd09_to_wgs84)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (mean Earth radius), for checks and hints."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * 6371008.8 * np.arcsin(np.sqrt(h)))
