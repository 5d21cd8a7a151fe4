"""Seeded partition of a real county polygon into synthetic township cells.

Real township boundaries of China are not public, so the demo data set splits every
county polygon into as many cells as the county has township-level units:

1. the first ``n_core`` ("street", 街道) cells live in a wiggly urban-core blob around
   ``area.point_on_surface()``, sized so that a street cell is about
   ``CORE_CELL_RATIO`` of an average cell; the other cells share the rest of the area;
2. each group's seed points are scattered over its region and relaxed by a few Lloyd
   iterations;
3. the groups' Voronoi edges are wiggled by deterministic midpoint displacement
   (:mod:`geo.fractal`), so the cells get a realistic vertex density;
4. wiggled edges, the core blob's outline and the county boundary are noded together
   and polygonized; each face goes to the seed holding it, else to the seed whose
   straight Voronoi cell covers most of it; a cell is the coverage union of its faces.

Because every cell is built from the same noded faces, neighbouring cells share their
edges vertex for vertex, there are no gaps or overlaps, and the cells' union is the
county. All randomness comes from ``seed`` and from coordinates, so the output is
byte-identical on every run. Coordinates are EPSG:4326 lon/lat degrees; seeds and
wiggles are computed in a locally equal-scaled frame (x multiplied by cos(lat)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.fractal import (
    FloatArray,
    key_of,
    ring_through,
    sample_points,
    uniforms,
    wiggle_ring,
    wiggle_segments,
)

LLOYD_ITERATIONS = 4
CORE_CELL_RATIO = 0.15  # area of a street cell relative to an average cell
CORE_CORNERS = 12  # corners of the urban-core blob before wiggling
WIGGLE_AMPLITUDE = 0.16  # first-level push, as a fraction of the edge length
WIGGLE_ROUGHNESS = 0.55  # how fast the push shrinks per level (Hurst-like exponent)
EDGE_SPACING = 0.8  # edges longer than this many cell sizes get an extra level (up to 2)


def count_vertices(geom: BaseGeometry) -> int:
    """Number of distinct vertices: coordinates, not counting each ring's closing point."""
    n = int(shapely.get_num_coordinates(geom))
    if isinstance(geom, Polygon | MultiPolygon) and not geom.is_empty:
        parts = shapely.get_parts(geom)
        n -= int(np.sum(shapely.get_num_interior_rings(parts) + 1))
    return n


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """The polygonal parts of ``geom`` as one MultiPolygon (empty when there are none)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon | MultiPolygon):
            polys.extend(as_multipolygon(part).geoms)
    return MultiPolygon(polys)


@dataclass(frozen=True)
class _Group:
    """Seeds of one zone (urban core or the rest) and their straight Voronoi diagram."""

    offset: int  # index of the group's first cell
    seeds: FloatArray  # local coordinates
    cells: np.ndarray  # straight Voronoi cells, local coordinates, seed order
    edges: FloatArray  # (k, 2, 2) straight edges, cut a little outside the zone
    size: float  # typical cell size


def partition_polygon(
    area: Polygon | MultiPolygon,
    n_cells: int,
    *,
    n_core: int = 0,
    seed: int,
    edge_levels: int = 5,
) -> list[MultiPolygon]:
    """Split ``area`` into ``n_cells`` MultiPolygons that tile it exactly.

    The first ``n_core`` cells are small cells clustered around
    ``area.point_on_surface()``; the others spread over the rest of the area. Internal
    edges are wiggled ``edge_levels`` levels deep. Same arguments → identical output.
    An invalid ``area`` (or a collection) is first repaired to its polygonal parts.
    """
    if not isinstance(area, Polygon | MultiPolygon) or not area.is_valid:
        area = as_multipolygon(shapely.make_valid(area))  # keep the polygonal parts
    if n_cells < 1:
        raise ValueError("n_cells must be at least 1")
    if not 0 <= n_core <= n_cells:
        raise ValueError("n_core must be between 0 and n_cells")
    if area.is_empty or area.area <= 0.0:
        raise ValueError("area must be a non-empty polygon")
    if n_cells == 1:
        return [as_multipolygon(area)]
    if n_core == n_cells:
        n_core = 0  # all streets: nothing to cluster, spread them all
    lat0 = (area.bounds[1] + area.bounds[3]) / 2.0
    scale = np.array([max(math.cos(math.radians(lat0)), 0.05), 1.0])
    local = shapely.transform(area, lambda c: c * scale)
    size = math.sqrt(local.area / n_cells)
    core = _core_blob(local, n_core, n_cells, seed, edge_levels) if n_core else None
    if core is None:
        groups = [_group(local, local, n_cells, 0, seed)]
    else:
        groups = [
            _group(shapely.intersection(local, core), core, n_core, 0, seed),
            _group(shapely.difference(local, core), local, n_cells - n_core, n_core, seed),
        ]
    for attempt in range(4):
        amplitude = WIGGLE_AMPLITUDE * (0.5**attempt if attempt < 3 else 0.0)
        lines = [_wiggled_lines(g, amplitude, edge_levels) for g in groups]
        if core is not None:
            lines[0] = _parts(shapely.intersection(lines[0], core))
            lines[1] = _parts(shapely.difference(lines[1], core))
            ends = shapely.get_coordinates(shapely.boundary(np.concatenate(lines)))
            ring = ring_through(np.asarray(core.exterior.coords), ends, 1e-9 * size)
            lines.append(np.array([shapely.linestrings(ring)], dtype=object))
        faces, reps = _faces(area, shapely.transform(np.concatenate(lines), lambda c: c / scale))
        zone = np.zeros(len(faces), dtype=np.int64)
        if core is not None:
            blob = shapely.polygons(lines[-1][0].coords)
            in_core = shapely.contains(shapely.transform(blob, lambda c: c / scale), reps)
            zone = np.where(in_core, 0, 1)
        owner = np.full(len(faces), -1, dtype=np.int64)
        for index, group in enumerate(groups):
            mine = np.flatnonzero(zone == index)
            cells_ll = shapely.transform(group.cells, lambda c: c / scale)
            seeds_ll = group.seeds / scale
            first = _assign(faces[mine], cells_ll, seeds_ll)
            got = _fill_empty(faces[mine], first, cells_ll, seeds_ll, len(group.seeds))
            if got is None:
                break
            owner[mine] = got + group.offset
        else:
            seeds_ll = np.concatenate([g.seeds for g in groups]) / scale
            return _merge_strays(_union_cells(faces, owner, n_cells), seeds_ll)
    raise RuntimeError(f"could not give every one of {n_cells} cells a face")


def _parts(geoms: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(geoms)
    return parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)]


def _grown_box(geom: BaseGeometry, margin: float) -> Polygon:
    x0, y0, x1, y1 = geom.bounds
    return box(x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def _core_blob(local: BaseGeometry, n_core: int, n: int, seed: int, levels: int) -> Polygon | None:
    """A wiggly blob around the area's inner point holding ~n_core small cells' area."""
    centre = local.point_on_surface()
    target = min(n_core * CORE_CELL_RATIO / n, 0.5) * local.area
    coarse = shapely.simplify(local, 0.02 * math.sqrt(target))
    radius = math.sqrt(target / math.pi)
    for _ in range(4):  # grow the disc where it sticks out of the area
        got = shapely.intersection(coarse, centre.buffer(radius, quad_segs=8)).area
        if got <= 0.0:
            break
        radius *= min(max(math.sqrt(target / got), 0.8), 2.0)
    u = uniforms(key_of(seed, 7), 2 * CORE_CORNERS).reshape(2, CORE_CORNERS)
    angles = 2 * math.pi * (np.arange(CORE_CORNERS) + 0.6 * u[0]) / CORE_CORNERS
    radii = radius * (0.85 + 0.3 * u[1])
    corners = np.c_[centre.x + radii * np.cos(angles), centre.y + radii * np.sin(angles)]
    for amplitude in (WIGGLE_AMPLITUDE, WIGGLE_AMPLITUDE / 2, 0.0):
        blob = Polygon(wiggle_ring(corners, amplitude, levels, WIGGLE_ROUGHNESS))
        if blob.is_valid:
            inside = shapely.intersection(local, blob).area
            return blob if 0.0 < inside < local.area else None
    return None


def _group(region: BaseGeometry, zone: BaseGeometry, count: int, offset: int, seed: int) -> _Group:
    """Relaxed seeds in ``region`` and their Voronoi diagram, edges cut near ``zone``."""
    size = math.sqrt(region.area / count)
    seeds = _relaxed_seeds(region, count, key_of(seed, offset + 1), size)
    env = _grown_box(zone, 2 * size)
    if count == 1:
        return _Group(offset, seeds, np.array([env]), np.empty((0, 2, 2)), size)
    points = shapely.multipoints(seeds)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=env, ordered=True))
    if len(cells) != count:
        raise RuntimeError("Voronoi diagram lost a seed")
    edges = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=env, only_edges=True))
    return _Group(offset, seeds, cells, _clip_edges(edges, zone, 0.02 * size), size)


def _clip_edges(edges: np.ndarray, zone: BaseGeometry, margin: float) -> FloatArray:
    """End points (n, 2, 2) of the edge pieces within ``margin`` of ``zone``.

    Cut ends lie ``margin`` outside the zone, so after wiggling every piece still
    crosses the zone's boundary cleanly and no vertices are wasted far outside it.
    """
    grown = shapely.buffer(shapely.simplify(zone, margin / 2), margin, quad_segs=4)
    shapely.prepare(grown)
    edges = edges[shapely.intersects(grown, edges)]
    pieces = _parts(shapely.intersection(edges, grown))
    pieces = pieces[shapely.get_num_coordinates(pieces) == 2]
    return shapely.get_coordinates(pieces).reshape(-1, 2, 2)


def _wiggled_lines(group: _Group, amplitude: float, levels: int) -> np.ndarray:
    """The group's edges as wiggled LineStrings; long edges get up to 2 extra levels."""
    ends = group.edges
    lengths = np.hypot(*(ends[:, 1] - ends[:, 0]).T)
    if amplitude <= 0.0 or not len(ends):
        return shapely.linestrings(ends) if len(ends) else np.empty(0, dtype=object)
    extra = np.ceil(np.log2(np.maximum(lengths, 1e-300) / (EDGE_SPACING * group.size)))
    depth = levels + np.clip(extra, 0, 2).astype(np.int64)
    out = np.empty(len(ends), dtype=object)
    for d in np.unique(depth):
        sel = depth == d
        push = amplitude * np.minimum(lengths[sel], group.size)
        pts = wiggle_segments(ends[sel, 0], ends[sel, 1], push, int(d), WIGGLE_ROUGHNESS)
        out[sel] = shapely.linestrings(pts)
    return out


def _dedupe(points: FloatArray, size: float) -> FloatArray:
    """Nudge exactly coincident points apart (Voronoi would merge them)."""
    _, first = np.unique(points, axis=0, return_index=True)
    if len(first) == len(points):
        return points
    out = points.copy()
    for i in np.setdiff1d(np.arange(len(points)), first):
        out[i] += size * 1e-6 * (1 + i) * np.array([1.0, 0.618])
    return out


def _relaxed_seeds(region: BaseGeometry, count: int, key: int, size: float) -> FloatArray:
    """``count`` seed points in ``region`` spread by Lloyd relaxation (local coordinates)."""
    if count == 1:
        p = region.point_on_surface()
        return np.array([[p.x, p.y]])
    pts = sample_points(region, count, key)
    coarse = shapely.simplify(region, 0.05 * size)
    shapely.prepare(coarse)
    env = _grown_box(region, 2 * size)
    for _ in range(LLOYD_ITERATIONS):
        pts = _dedupe(pts, size)
        points = shapely.multipoints(pts)
        cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=env, ordered=True))
        if len(cells) != count:
            break
        clipped = shapely.intersection(cells, coarse)
        cent = shapely.centroid(clipped)
        empty = shapely.is_empty(cent)
        stray = ~empty & ~shapely.contains(coarse, cent)
        if stray.any():
            cent[stray] = shapely.point_on_surface(clipped[stray])
        pts[~empty] = shapely.get_coordinates(cent[~empty])
    pts = _dedupe(pts, size)
    shapely.prepare(region)
    inside = shapely.contains_xy(region, pts[:, 0], pts[:, 1])
    if not inside.all():  # relaxed in the simplified region: pull stray seeds back in
        pts[~inside] = sample_points(region, int((~inside).sum()), key_of(key, 3))
        pts = _dedupe(pts, size)
    return pts


def _faces(area: BaseGeometry, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces of the lines noded with the area's boundary that lie inside ``area``."""
    boundary = shapely.get_parts(shapely.boundary(area))
    noded = shapely.node(shapely.multilinestrings(np.concatenate([lines, boundary])))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0.0]
    reps = shapely.point_on_surface(faces)
    shapely.prepare(area)
    inside = shapely.contains(area, reps)
    return faces[inside], reps[inside]


def _assign(faces: np.ndarray, cells: np.ndarray, seeds: FloatArray) -> np.ndarray:
    """Owner seed of each face.

    A face holding exactly one seed belongs to it; any other face goes to the straight
    Voronoi cell that covers most of it (ties: lowest index), else the nearest seed.
    """
    owner = np.full(len(faces), -1, dtype=np.int64)
    if not len(faces):
        return owner
    si, fi = shapely.STRtree(faces).query(shapely.points(seeds), predicate="within")
    holders, counts = np.unique(fi, return_counts=True)
    single = np.isin(fi, holders[counts == 1])
    owner[fi[single]] = si[single]
    rest = np.flatnonzero(owner < 0)
    if len(rest):
        fi, ci = shapely.STRtree(cells).query(faces[rest], predicate="intersects")
        overlap = shapely.area(shapely.intersection(faces[rest][fi], cells[ci]))
        order = np.lexsort((ci, -overlap, fi))
        fi, ci = fi[order], ci[order]
        first = np.ones(len(fi), dtype=bool)
        first[1:] = fi[1:] != fi[:-1]
        owner[rest[fi[first]]] = ci[first]
    missing = np.flatnonzero(owner < 0)
    if len(missing):
        reps = shapely.get_coordinates(shapely.point_on_surface(faces[missing]))
        dist = np.hypot(*(reps[:, None, :] - seeds[None, :, :]).transpose(2, 0, 1))
        owner[missing] = np.argmin(dist, axis=1)
    return owner


def _fill_empty(
    faces: np.ndarray, owner: np.ndarray, cells: np.ndarray, seeds: FloatArray, n: int
) -> np.ndarray | None:
    """Give seeds that got no face one from a seed owning several; None if impossible."""
    owner = owner.copy()
    counts = np.bincount(owner, minlength=n)
    for i in np.flatnonzero(counts == 0):
        donors = counts[owner] >= 2
        if not donors.any():
            return None
        candidates = np.flatnonzero(donors)
        overlap = shapely.area(shapely.intersection(faces[candidates], cells[i]))
        reps = shapely.get_coordinates(shapely.point_on_surface(faces[candidates]))
        dist = np.hypot(reps[:, 0] - seeds[i, 0], reps[:, 1] - seeds[i, 1])
        pick = candidates[np.lexsort((candidates, dist, -overlap))[0]]
        counts[owner[pick]] -= 1
        owner[pick] = i
        counts[i] = 1
    return owner


def _union_cells(faces: np.ndarray, owner: np.ndarray, n: int) -> list[MultiPolygon]:
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    out: list[MultiPolygon] = []
    for i in range(n):
        group = faces[order[bounds[i] : bounds[i + 1]]]
        merged = group[0] if len(group) == 1 else shapely.coverage_union_all(group)
        out.append(as_multipolygon(merged))
    return out


def _merge_strays(cells: list[MultiPolygon], seeds: FloatArray) -> list[MultiPolygon]:
    """Hand detached pieces of a cell to the neighbour sharing most boundary with them.

    The piece holding the cell's seed (else its largest piece) stays; islands touching
    no other cell stay too. Pieces share edges exactly, so coverage unions stay exact.
    """
    multi = [i for i, c in enumerate(cells) if len(c.geoms) > 1]
    arr = np.array(cells, dtype=object)
    for i in multi:
        tree = shapely.STRtree(arr)  # cells change as pieces move
        parts = list(shapely.get_parts(arr[i]))
        holds = shapely.contains_xy(np.array(parts), seeds[i, 0], seeds[i, 1])
        main = int(np.argmax(holds)) if holds.any() else int(np.argmax(shapely.area(parts)))
        keep = [parts[main]]
        for j, part in enumerate(parts):
            if j == main:
                continue
            near = [int(k) for k in tree.query(part, predicate="intersects") if k != i]
            shared = [
                shapely.length(shapely.intersection(part.boundary, arr[k].boundary)) for k in near
            ]
            if not near or max(shared) <= 0.0:
                keep.append(part)
                continue
            k = near[int(np.argmax(shared))]
            arr[k] = as_multipolygon(shapely.coverage_union_all(np.array([*arr[k].geoms, part])))
        arr[i] = MultiPolygon(keep)
    return list(arr)
