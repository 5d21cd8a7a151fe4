"""Seeded county partition (geo.partition, geo.fractal): exact tiling, determinism, density."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.fractal import ring_through, uniforms, wiggle_ring, wiggle_segments
from geo.partition import _fill_empty, count_vertices, partition_polygon
from service.demo.builder import read_polygons, read_tables


@pytest.fixture(scope="module")
def counties() -> dict[str, tuple[str, MultiPolygon]]:
    return read_polygons("district")


def blob() -> Polygon:
    """An irregular, concave polygon near Zhengzhou (lon/lat degrees)."""
    angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    radius = 0.3 * (1 + 0.35 * np.sin(3 * angles) + 0.15 * np.cos(7 * angles))
    ring = np.c_[113.6 + radius * np.cos(angles), 34.7 + radius * np.sin(angles)]
    hole = Point(113.55, 34.72).buffer(0.03)
    return Polygon(ring).difference(hole)


def assert_tiles(area: Polygon | MultiPolygon, cells: list[MultiPolygon], n: int) -> None:
    assert len(cells) == n
    arr = np.array(cells, dtype=object)
    assert all(isinstance(c, MultiPolygon) for c in cells)
    assert shapely.is_valid(arr).all()
    assert not shapely.is_empty(arr).any()
    assert shapely.coverage_is_valid(arr)
    union = shapely.union_all(arr)
    assert shapely.symmetric_difference(union, area).area / area.area < 1e-9
    assert abs(sum(c.area for c in cells) - area.area) / area.area < 1e-9


def neighbour_pairs(cells: list[MultiPolygon]) -> list[tuple[int, int]]:
    arr = np.array(cells, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    return [(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b]


def test_tiles_exactly_with_identical_shared_edges() -> None:
    area = blob()
    cells = partition_polygon(area, 12, n_core=4, seed=7)
    assert_tiles(area, cells, 12)
    long_edges = 0
    for a, b in neighbour_pairs(cells):
        shared = cells[a].boundary.intersection(cells[b].boundary)
        if shared.length == 0:
            continue  # neighbours meeting at a single point
        long_edges += 1
        # the shared line is wiggly, and every one of its vertices is a vertex of both cells
        verts = {tuple(p) for p in shapely.get_coordinates(shared)}
        assert len(verts) >= 3
        for cell in (cells[a], cells[b]):
            assert verts <= {tuple(p) for p in shapely.get_coordinates(cell)}
    assert long_edges >= 12


def test_deterministic() -> None:
    area = blob()
    first = [c.wkb for c in partition_polygon(area, 9, n_core=3, seed=42)]
    again = [c.wkb for c in partition_polygon(area, 9, n_core=3, seed=42)]
    other = [c.wkb for c in partition_polygon(area, 9, n_core=3, seed=43)]
    assert first == again
    assert first != other


def test_core_cells_are_small_and_clustered() -> None:
    area = blob()
    cells = partition_polygon(area, 30, n_core=10, seed=3)
    core, rest = cells[:10], cells[10:]
    assert np.mean([c.area for c in core]) < 0.3 * np.mean([c.area for c in rest])
    centre = area.point_on_surface()
    assert max(c.centroid.distance(centre) for c in core) < np.median(
        [c.centroid.distance(centre) for c in rest]
    )


def test_single_cell_is_the_area() -> None:
    area = blob()
    (cell,) = partition_polygon(area, 1, seed=1)
    assert isinstance(cell, MultiPolygon)
    assert cell.equals(area)


def test_all_core_spreads_cells() -> None:
    area = blob()
    assert_tiles(area, partition_polygon(area, 8, n_core=8, seed=5), 8)


@pytest.mark.parametrize(("n", "n_core"), [(2, 1), (3, 2), (5, 1), (25, 24)])
def test_tiny_groups(n: int, n_core: int) -> None:
    area = blob()
    assert_tiles(area, partition_polygon(area, n, n_core=n_core, seed=n), n)


def test_multipolygon_islands() -> None:
    area = MultiPolygon(
        [
            box(120.0, 30.0, 120.4, 30.3),
            Point(120.6, 30.1).buffer(0.05),
            box(120.1, 30.4, 120.12, 30.41),
        ]
    )
    cells = partition_polygon(area, 7, n_core=2, seed=11)
    assert_tiles(area, cells, 7)


def test_many_cells_in_a_small_area() -> None:
    area = box(116.30, 39.90, 116.36, 39.94)
    assert_tiles(area, partition_polygon(area, 60, n_core=40, seed=2), 60)


def test_thin_area() -> None:
    area = box(110.0, 30.0, 111.0, 30.004)
    assert_tiles(area, partition_polygon(area, 15, seed=9), 15)


def test_invalid_input_is_repaired() -> None:
    bowtie = Polygon([(113.0, 34.0), (113.2, 34.2), (113.2, 34.0), (113.0, 34.2)])
    cells = partition_polygon(bowtie, 4, seed=1)
    assert_tiles(shapely.make_valid(bowtie), cells, 4)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        partition_polygon(blob(), 0, seed=1)
    with pytest.raises(ValueError):
        partition_polygon(blob(), 3, n_core=4, seed=1)
    with pytest.raises(ValueError):
        partition_polygon(Polygon(), 3, seed=1)


def test_real_county_xinzheng(counties: dict[str, tuple[str, MultiPolygon]]) -> None:
    name, area = counties["410184"]
    assert name == "新郑市"
    towns = read_tables().townships["410184"]
    streets = sum(name.endswith("街道") for _, name in towns)
    cells = partition_polygon(area, len(towns), n_core=streets, seed=410184)
    assert_tiles(area, cells, len(towns))
    a, b = next(
        (a, b)
        for a, b in neighbour_pairs(cells)
        if cells[a].boundary.intersection(cells[b].boundary).length > 0
    )
    shared = cells[a].boundary.intersection(cells[b].boundary)
    assert shared.geom_type in ("LineString", "MultiLineString")
    assert count_vertices(shared) >= 30


def test_vertex_median_across_a_province(counties: dict[str, tuple[str, MultiPolygon]]) -> None:
    towns = read_tables().townships
    counts: list[int] = []
    for code in sorted(c for c in towns if c[:2] == "64" and c in counties):
        cells = partition_polygon(counties[code][1], len(towns[code]), seed=int(code))
        counts.extend(count_vertices(c) for c in cells)
    assert len(counts) > 150
    assert np.median(counts) >= 150


def test_count_vertices() -> None:
    assert count_vertices(box(0, 0, 1, 1)) == 4
    assert count_vertices(MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])) == 8
    assert count_vertices(box(0, 0, 4, 4).difference(box(1, 1, 2, 2))) == 8


def test_fill_empty_steals_a_face_deterministically() -> None:
    faces = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], dtype=object)
    cells = np.array([box(-1, -1, 1.5, 2), box(1.5, -1, 4, 2), box(2.5, -1, 4, 2)], dtype=object)
    seeds = np.array([[0.5, 0.5], [1.6, 0.5], [2.7, 0.5]])
    owner = np.array([0, 1, 1])
    fixed = _fill_empty(faces, owner, cells, seeds, 3)
    assert fixed is not None
    assert sorted(fixed.tolist()) == [0, 1, 2]
    assert fixed[2] == 2
    assert _fill_empty(faces[:2], np.array([0, 1]), cells, seeds, 3) is None


def test_wiggle_is_direction_independent() -> None:
    a = np.array([[113.1, 34.2], [113.5, 34.0]])
    b = np.array([[113.3, 34.6], [113.2, 34.1]])
    amp = np.array([0.02, 0.03])
    forward = wiggle_segments(a, b, amp, 5)
    backward = wiggle_segments(b, a, amp, 5)
    assert forward.shape == (2, 33, 2)
    assert np.array_equal(forward, backward)
    assert {tuple(forward[0, 0]), tuple(forward[0, -1])} == {tuple(a[0]), tuple(b[0])}
    assert not np.allclose(forward[0, 16], (a[0] + b[0]) / 2)


def test_uniforms_are_stable() -> None:
    u = uniforms(12345, 1000)
    assert np.array_equal(u, uniforms(12345, 1000))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.05
    assert not np.array_equal(u, uniforms(12346, 1000))


def test_ring_through_inserts_points_in_order() -> None:
    ring = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    points = np.array([[0.5, 1e-17], [1.0, 0.25], [0.3, 0.7], [0.0, 0.5]])
    out = ring_through(ring, points, 1e-9)
    assert out.tolist() == [
        [0.0, 0.0],
        [0.5, 1e-17],
        [1.0, 0.0],
        [1.0, 0.25],
        [1.0, 1.0],
        [0.0, 1.0],
        [0.0, 0.5],
        [0.0, 0.0],
    ]


def test_wiggle_ring_is_closed_and_valid() -> None:
    corners = np.c_[np.cos(np.linspace(0, 6, 12)), np.sin(np.linspace(0, 6, 12))]
    ring = wiggle_ring(corners, 0.16, 5, 0.55)
    assert ring.shape == (12 * 32 + 1, 2)
    assert np.array_equal(ring[0], ring[-1])
    assert Polygon(ring).is_valid
