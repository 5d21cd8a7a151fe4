"""Deterministic randomness, sampling and fractal edges for the synthetic township partition.

Everything here is keyed by integers or by coordinates, never by Python's ``hash()`` or
a global random state, so the same input gives bit-identical output on every run and
on every machine: a counter-based SplitMix64 hash supplies the "random" numbers.

:func:`wiggle_segments` turns straight segments into midpoint-displacement polylines.
Each segment is seeded from its two end points taken in canonical (lexicographic)
order, so a segment shared by two neighbouring cells is wiggled identically no matter
which cell, or which direction, it is seen from.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]
UIntArray = npt.NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_EDGE_SALT = 0x5EED_ED6E


def mix64(values: npt.ArrayLike) -> UIntArray:
    """SplitMix64 finaliser applied element-wise (wrapping uint64 arithmetic)."""
    z = np.array(values, dtype=np.uint64, ndmin=1) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


def key_of(*parts: int) -> int:
    """A 64-bit key from a sequence of integers (order matters)."""
    acc = np.zeros(1, dtype=np.uint64)
    for part in parts:
        acc = mix64(acc ^ np.array([part & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    return int(acc[0])


def uniforms(key: int, count: int, stream: int = 0) -> FloatArray:
    """``count`` deterministic numbers in [0, 1) for ``key`` (and an optional ``stream``)."""
    base = mix64([key_of(key, stream)])
    counters = np.arange(count, dtype=np.uint64) * _GOLDEN + base
    return (mix64(counters) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _point_keys(xy: FloatArray) -> UIntArray:
    """One key per row of an (n, 2) array of coordinates, from the floats' bit patterns."""
    bits = np.ascontiguousarray(xy + 0.0, dtype=np.float64).view(np.uint64)  # -0.0 → 0.0
    return mix64(mix64(bits[:, 0] ^ np.uint64(_EDGE_SALT)) ^ bits[:, 1])


def wiggle_segments(
    starts: FloatArray,
    ends: FloatArray,
    amplitude: FloatArray,
    levels: int,
    roughness: float = 0.7,
) -> FloatArray:
    """Midpoint-displacement polylines for straight segments ``starts[i] → ends[i]``.

    Returns an array of shape ``(n, 2**levels + 1, 2)``; row ``i`` runs between the
    segment's end points in canonical order (the lexicographically smaller point first),
    with both end points kept exactly. At subdivision level ``k`` every sub-segment's
    midpoint is pushed along the sub-segment's normal by up to
    ``amplitude[i] * 2**(-k * roughness)``; the pushes are drawn from a hash of the
    end points, so identical segments always give identical polylines.
    """
    a = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(ends, dtype=np.float64).reshape(-1, 2)
    swap = (b[:, 0] < a[:, 0]) | ((b[:, 0] == a[:, 0]) & (b[:, 1] < a[:, 1]))
    first = np.where(swap[:, None], b, a)
    last = np.where(swap[:, None], a, b)
    n = first.shape[0]
    keys = mix64(_point_keys(first) ^ (_point_keys(last) * _GOLDEN))
    amp = np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (n,))
    pts = np.stack([first, last], axis=1)
    for level in range(max(0, levels)):
        p0 = pts[:, :-1, :]
        p1 = pts[:, 1:, :]
        d = p1 - p0
        length = np.hypot(d[..., 0], d[..., 1])
        safe = np.where(length > 0.0, length, 1.0)
        normal = np.stack([-d[..., 1] / safe, d[..., 0] / safe], axis=-1)
        m = p0.shape[1]
        # heap index of the new point: unique per (edge, level, position)
        node = np.arange(m, dtype=np.uint64) + np.uint64(1 << level)
        u = mix64(keys[:, None] ^ (node[None, :] * _MUL1))
        r = (u >> np.uint64(11)).astype(np.float64) * (2.0 / (1 << 53)) - 1.0
        scale = amp * 2.0 ** (-level * roughness)
        mid = (p0 + p1) * 0.5 + normal * (r * scale[:, None])[..., None]
        out = np.empty((n, 2 * m + 1, 2), dtype=np.float64)
        out[:, 0::2, :] = pts
        out[:, 1::2, :] = mid
        pts = out
    return pts


def wiggle_ring(corners: FloatArray, amplitude: float, levels: int, roughness: float) -> FloatArray:
    """Closed midpoint-displacement ring through ``corners`` (m, 2), first point repeated."""
    starts = np.asarray(corners, dtype=np.float64)
    ends = np.roll(starts, -1, axis=0)
    lengths = np.hypot(*(ends - starts).T)
    pts = wiggle_segments(starts, ends, amplitude * lengths, levels, roughness)
    # wiggle_segments returns canonical order: put each piece back in ring order
    flip = ~np.all(pts[:, 0, :] == starts, axis=1)
    pts[flip] = pts[flip, ::-1, :]
    return np.concatenate([pts[:, :-1, :].reshape(-1, 2), starts[:1]])


def sample_points(region: shapely.Geometry, count: int, key: int) -> FloatArray:
    """``count`` points uniformly inside polygonal ``region`` (via a constrained triangulation)."""
    if count == 0:
        return np.empty((0, 2))
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(region))
    areas = shapely.area(tris)
    keep = areas > 0
    if not keep.any():
        p = region.point_on_surface() if not region.is_empty else shapely.Point(0, 0)
        jitter = (uniforms(key, 2 * count).reshape(count, 2) - 0.5) * 1e-9
        return np.array([p.x, p.y]) + jitter
    tris, areas = tris[keep], areas[keep]
    corners = shapely.get_coordinates(tris).reshape(len(tris), 4, 2)[:, :3]
    cum = np.cumsum(areas)
    u = uniforms(key, 3 * count).reshape(3, count)
    idx = np.minimum(np.searchsorted(cum, u[0] * cum[-1], side="right"), len(tris) - 1)
    s = np.sqrt(u[1])
    w = np.stack([1.0 - s, s * (1.0 - u[2]), s * u[2]], axis=1)
    return np.asarray(np.einsum("nk,nkd->nd", w, corners[idx]), dtype=np.float64)


def ring_through(ring: FloatArray, points: FloatArray, tol: float) -> FloatArray:
    """``ring`` (closed, (m+1, 2)) with the ``points`` lying within ``tol`` of it inserted.

    Lines clipped by the ring's polygon end a rounding error off the ring; inserting
    their end points makes the ring pass exactly through them, so noding joins them.
    """
    line = shapely.linestrings(ring)
    pts = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    pts = pts[shapely.distance(line, shapely.points(pts)) <= tol]
    known = {(float(x), float(y)) for x, y in ring}
    pts = np.array([p for p in pts if (float(p[0]), float(p[1])) not in known]).reshape(-1, 2)
    if not len(pts):
        return ring
    pos = shapely.line_locate_point(line, shapely.points(pts))
    pos = np.where(pos >= line.length, 0.0, pos)
    steps = np.hypot(*np.diff(ring, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    cum[-1] = max(cum[-1], line.length)
    order = np.argsort(np.concatenate([cum, pos]), kind="stable")
    return np.concatenate([ring, pts])[order]
