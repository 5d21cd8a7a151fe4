"""Repairing invalid boundary polygons on request, and measuring what the repair changed.

Official boundary data is often slightly invalid (a ring touching itself, a sliver lobe
turned inside out). Refusing it is right by default; a province that must import its own
data can ask for a repair instead. The repair is GEOS's MakeValid with the "structure"
method: shells are unioned and holes subtracted, so parts that overlap keep their
territory (the "linework" method would turn the overlap into a hole). Only polygonal parts
are kept; a feature with nothing polygonal left cannot be repaired. No method can know what
the author meant (a hole drawn outside its shell becomes land, for one), hence the report. Areas are measured in ESRI:102025 (Asia North Albers
Equal Area, as the boundary quality report measures them), before and after, so that the
report says per feature how much land the repair added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon

from geo.crs import GEOGRAPHIC_PASS_THROUGH, to_wgs84, transformer_to_equal_area
from geo.validate import as_multipolygons


@dataclass(frozen=True)
class Repair:
    """One repaired geometry: why it was invalid and how its area changed."""

    index: int  # position in the array given to `repair_polygons`
    problem: str  # GEOS's reason, as the refusal without repair would give it
    # of the rings as given (the shoelace formula): an inverted lobe counts negative, a part
    # the ring winds round twice counts twice; after the repair, each counts once
    area_before_m2: float
    area_after_m2: float
    area_change_m2: float  # after − before
    area_change_share: float | None  # change / before; None when the rings enclose nothing


@dataclass
class Repaired:
    """The outcome of `repair_polygons`, index for index with its input."""

    source: np.ndarray  # MultiPolygons in the source CRS, the invalid ones repaired
    wgs84: np.ndarray  # the same in WGS-84 (repaired again where reprojection folded a ring)
    repairs: list[Repair]
    failures: dict[int, str]  # index → why no repair is possible; those geometries are None


def equal_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Areas in m² of WGS-84 geometries in ESRI:102025. GEOS measures an invalid polygon by
    its rings' signed areas (the shoelace formula), as GIS software shows it."""
    if len(geoms) == 0:
        return np.zeros(0)
    transformer = transformer_to_equal_area()

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.area(shapely.transform(geoms, project)), dtype=float)


def polygonal_part(geom: shapely.Geometry) -> MultiPolygon | None:
    """The (Multi)Polygon parts of a geometry as one MultiPolygon; None when there are none."""
    polys = [
        g
        for g in shapely.get_parts(geom)
        if isinstance(g, Polygon | MultiPolygon) and not g.is_empty
    ]
    flat: list[Polygon] = []
    for g in polys:
        flat.extend(shapely.get_parts(g) if isinstance(g, MultiPolygon) else [g])
    return MultiPolygon(flat) if flat else None


def _repair_invalid(geoms: np.ndarray, todo: np.ndarray) -> tuple[dict[int, str], dict[int, str]]:
    """Repair in place every invalid geometry among `todo`; (index → problem, index → failure).
    NaN or infinite coordinates are left alone: no repair can say where a point should be."""
    problems: dict[int, str] = {}
    failures: dict[int, str] = {}
    invalid = todo[~shapely.is_valid(geoms[todo])] if len(todo) else todo
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        if reason.startswith("Invalid Coordinate"):
            continue
        fixed = polygonal_part(
            shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        )
        if fixed is None:
            failures[int(i)] = f"invalid polygon: {reason}; a repair leaves no polygon to keep"
            geoms[i] = None
        else:
            problems[int(i)] = f"invalid polygon: {reason}"
            geoms[i] = fixed
    return problems, failures


def repair_polygons(geoms: np.ndarray, epsg: int) -> Repaired:
    """Repair the invalid ones among polygonal geometries in EPSG:`epsg` and reproject all
    of them to WGS-84; report each repair with its area change."""
    original = as_multipolygons(geoms)
    source = original.copy()
    everything = np.arange(len(source))
    problems, failures = _repair_invalid(source, everything)
    usable = np.array([i for i in everything if i not in failures], dtype=int)
    wgs84 = np.empty(len(source), dtype=object)
    wgs84[usable] = to_wgs84(source[usable], epsg)
    if epsg not in GEOGRAPHIC_PASS_THROUGH:
        # reprojection can fold a ring onto itself where the source had none
        again, lost = _repair_invalid(wgs84, usable)
        for i, problem in again.items():
            step = f"after reprojection from EPSG:{epsg}: {problem}"
            problems[i] = f"{problems[i]}; {step}" if i in problems else step
        for i, failure in lost.items():
            failures[i] = f"after reprojection from EPSG:{epsg}: {failure}"
            source[i] = None
            problems.pop(i, None)
    changed = np.array(sorted(problems), dtype=int)
    before = equal_area_m2(to_wgs84(original[changed], epsg))
    after = equal_area_m2(wgs84[changed])
    repairs = []
    for i, area_before, area_after in zip(changed, before, after, strict=True):
        # to 0.1 m²: below that, what the repair changes is floating-point noise
        change = round(float(area_after - area_before), 1) + 0.0  # (and never "-0.0")
        rounded_before = round(float(area_before), 1)
        repairs.append(
            Repair(
                index=int(i),
                problem=problems[int(i)],
                area_before_m2=rounded_before,
                area_after_m2=round(float(area_after), 1),
                area_change_m2=change,
                area_change_share=change / rounded_before if rounded_before else None,
            )
        )
    return Repaired(source=source, wgs84=wgs84, repairs=repairs, failures=failures)
