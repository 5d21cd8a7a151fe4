"""Geometry checks of imported polygons and submitted points."""

import numpy as np
import shapely

from geo.validate import as_multipolygons, lonlat_problems, point_problem, polygon_problems


def arr(*geoms):
    return np.array(geoms, dtype=object)


def test_polygon_problems_name_each_fault():
    geoms = arr(
        shapely.box(113, 34, 114, 35),
        None,
        shapely.Point(113, 34),
        shapely.from_wkt("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"),
        shapely.from_wkt("POLYGON EMPTY"),
        shapely.from_wkt("GEOMETRYCOLLECTION(POINT(1 1), POLYGON((0 0, 1 0, 1 1, 0 0)))"),
        shapely.from_wkt("GEOMETRYCOLLECTION(POLYGON((0 0, 1 0, 1 1, 0 0)))"),
    )
    problems = polygon_problems(geoms)
    assert set(problems) == {1, 2, 3, 4, 5}
    assert problems[1] == "missing geometry"
    assert problems[2] == "Point is not a polygon"
    assert problems[3].startswith("invalid polygon: Self-intersection")
    assert problems[4] == "empty polygon"
    assert "mixed geometry types" in problems[5]


def test_nan_coordinates_are_refused():
    with np.errstate(invalid="ignore"):
        ring = shapely.linearrings([[0, 0], [1, 0], [np.nan, 1], [0, 0]], handle_nan="allow")
    problems = polygon_problems(arr(shapely.polygons(ring)))
    assert problems == {0: "coordinates contain NaN or infinity"}


def test_as_multipolygons():
    out = as_multipolygons(
        arr(
            shapely.box(0, 0, 1, 1),
            shapely.from_wkt("GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 0)))"),
        )
    )
    assert [g.geom_type for g in out] == ["MultiPolygon", "MultiPolygon"]


def test_lonlat_problems():
    problems = lonlat_problems(
        arr(
            shapely.box(34, 113, 35, 114),
            shapely.box(500000, 3800000, 500100, 3800100),
            shapely.box(113, 34, 114, 35),
            shapely.box(10, 10, 11, 11),
        )
    )
    assert "swapped" in problems[0]
    assert "not longitude/latitude" in problems[1]
    assert 2 not in problems
    assert "outside China" in problems[3]


def test_point_problem():
    assert point_problem(113.6, 34.7) is None
    assert "swapped" in (point_problem(34.7, 113.6) or "")
    assert "outside China" in (point_problem(2.3, 48.8) or "")
    assert "finite" in (point_problem(float("nan"), 34.0) or "")
    assert "±180" in (point_problem(500000.0, 3800000.0) or "")
