"""Division import, first half: read a file, reproject, and check every feature.

All or nothing: every problem of every feature is collected, and if there is any, the whole
file is rejected with the list (index, code, problem) and nothing is written. The second
half, writing a checked batch set-based, is in `writer.py`.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from time import perf_counter

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.crs import UnsupportedCRS, epsg_of, parse_epsg, to_wgs84
from geo.readers import FeatureTable, UnreadableFile, ZipLimits, read_features
from geo.validate import as_multipolygons, lonlat_problems, polygon_problems
from service.divisions.kinds import (
    LEVEL_KINDS,
    DivisionLevel,
    kind_from_label,
    kind_from_name,
    level_of_code,
    normalize_code,
    parent_code_of,
)
from service.errors import ImportRejected, Invalid
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
MAX_NAME_LENGTH = 100
# An interior point of a feature may lie this far outside the province (degrees, ≈2 km):
# neighbouring data sets never share their borders exactly.
PROVINCE_TOLERANCE_DEG = 0.02

Progress = Callable[[str, int, int], None]


@dataclass
class Problem:
    index: int
    code: str | None
    problem: str


@dataclass
class DivisionBatch:
    """Checked features ready to write: parallel lists, geometries as WGS-84 MultiPolygons."""

    codes: list[str]
    names: list[str]
    kinds: list[str]
    levels: list[str]
    parents: list[str | None]
    geoms: np.ndarray
    source_epsg: int
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)


@dataclass
class ImportReport:
    features: int
    by_level: dict[str, int]
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    offices_relinked: int = 0
    offices_relocated: int = 0
    source_crs: str = ""
    valid_from: date | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _reject_file(message: str) -> ImportRejected:
    return ImportRejected(
        f"the file was refused: {message}",
        {"problems": [{"index": None, "code": None, "problem": message}], "count": 1},
    )


def _column(table: FeatureTable, candidates: tuple[str, ...]) -> str | None:
    lowered = {name.lower(): name for name in table.properties}
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def source_epsg(table: FeatureTable, crs: str | None) -> tuple[int, list[str]]:
    """The CRS to read coordinates in: the `crs` parameter, else the file's own."""
    warnings: list[str] = []
    declared: int | None = None
    if table.crs:
        try:
            declared = epsg_of(table.crs)
        except UnsupportedCRS:
            declared = None
    if crs:
        try:
            epsg = parse_epsg(crs)
        except UnsupportedCRS as exc:
            raise Invalid(str(exc), [{"field": "crs", "problem": str(exc)}]) from exc
        if declared is not None and declared != epsg:
            warnings.append(f"the file declares EPSG:{declared}; read as EPSG:{epsg} as requested")
        return epsg, warnings
    if declared is None:
        raise _reject_file(
            "the file declares no usable CRS; pass crs=EPSG:4326, EPSG:4490, EPSG:4491–4554 "
            "or EPSG:3857"
        )
    try:
        return parse_epsg(declared), warnings
    except UnsupportedCRS as exc:
        raise _reject_file(str(exc)) from exc


def _clean_name(raw: object) -> tuple[str, str | None]:
    if raw is None or (isinstance(raw, float) and raw != raw):
        return "", "name is missing"
    name = unicodedata.normalize("NFC", str(raw)).strip()
    if not name:
        return "", "name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return name[:MAX_NAME_LENGTH], f"name is longer than {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
        return name, "name contains control or invisible characters"
    return name, None


def prepare(table: FeatureTable, epsg: int, tenant: Tenant) -> tuple[DivisionBatch, list[Problem]]:
    """Attribute and geometry checks that need no database; reprojects to WGS-84."""
    n = len(table)
    if n == 0:
        raise _reject_file("the layer has no features")
    code_col = _column(table, CODE_COLUMNS)
    name_col = _column(table, NAME_COLUMNS)
    if code_col is None or name_col is None:
        missing = "a code column" if code_col is None else "a name column"
        raise _reject_file(
            f"{missing} is missing (looked for {', '.join(CODE_COLUMNS if code_col is None else NAME_COLUMNS)};"
            f" found {', '.join(table.properties) or 'none'})"
        )
    kind_col = _column(table, KIND_COLUMNS)
    problems: dict[int, list[str]] = {}

    def add(i: int, problem: str) -> None:
        problems.setdefault(i, []).append(problem)

    codes: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    levels: list[str] = []
    parents: list[str | None] = []
    raw_codes = table.properties[code_col]
    raw_names = table.properties[name_col]
    raw_kinds = table.properties[kind_col] if kind_col else None
    prefix = "" if tenant.code == NATIONAL_CODE else tenant.code
    for i in range(n):
        code = normalize_code(raw_codes[i])
        if code is None:
            add(i, f"code {raw_codes[i]!r} is not a 2-, 4-, 6- or 9-digit division code")
            code = str(raw_codes[i])
        elif not code.startswith(prefix):
            add(i, f"code {code} is not in province {tenant.code} ({tenant.name})")
        name, name_problem = _clean_name(raw_names[i])
        if name_problem:
            add(i, name_problem)
        level = level_of_code(code)
        kind_label = "" if raw_kinds is None or raw_kinds[i] is None else str(raw_kinds[i])
        kind = kind_from_label(kind_label) if kind_label.strip() else None
        if kind_label.strip() and kind is None:
            add(i, f"unknown kind {kind_label!r}")
        if level is not None:
            kind = kind or kind_from_name(name, level)
            if kind not in LEVEL_KINDS[level]:
                add(i, f"kind {kind.value} does not fit a {level.value}-level division")
        codes.append(code)
        names.append(name)
        kinds.append(kind.value if kind else "other")
        levels.append(level.value if level else "")
        parents.append(parent_code_of(code))

    for code, count in Counter(codes).items():
        if count > 1:
            for i in (i for i, c in enumerate(codes) if c == code):
                add(i, f"code {code} appears {count} times in the file")

    geoms = table.geometries
    for i, problem in polygon_problems(geoms).items():
        add(i, problem)
    ok = np.array([i not in problems for i in range(n)], dtype=bool)
    out = np.empty(n, dtype=object)
    if ok.any():
        try:
            out[ok] = to_wgs84(as_multipolygons(geoms[ok]), epsg)
        except Exception as exc:  # PROJ refuses coordinates far outside the projection
            raise _reject_file(
                f"coordinates cannot be reprojected from EPSG:{epsg}: {exc}"
            ) from exc
        idx = np.flatnonzero(ok)
        for j, problem in lonlat_problems(out[idx]).items():
            add(int(idx[j]), problem)
        # Reprojection can fold a ring onto itself; re-check validity where it moved points.
        if epsg not in (4326, 4490):
            for j, problem in polygon_problems(out[idx]).items():
                add(int(idx[j]), f"after reprojection from EPSG:{epsg}: {problem}")

    batch = DivisionBatch(codes, names, kinds, levels, parents, out, epsg, list(table.warnings))
    flat = [
        Problem(i, codes[i] if i < len(codes) else None, p)
        for i in sorted(problems)
        for p in problems[i]
    ]
    return batch, flat


def check_inside(
    batch: DivisionBatch, boundary_of: Callable[[str], BaseGeometry | None], bad: set[int]
) -> list[Problem]:
    """Features whose interior point lies outside their province (with a tolerance)."""
    by_province: dict[str, list[int]] = {}
    for i, code in enumerate(batch.codes):
        if i not in bad:
            by_province.setdefault(code[:2], []).append(i)
    problems = []
    for province, members in sorted(by_province.items()):
        boundary = boundary_of(province)
        if boundary is None:
            continue
        idx = np.array(members, dtype=int)
        area = shapely.buffer(boundary, PROVINCE_TOLERANCE_DEG, quad_segs=2)
        shapely.prepare(area)
        geoms = batch.geoms[idx]
        pts = shapely.get_coordinates(shapely.centroid(geoms))
        inside = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
        if not inside.all():  # a concave polygon's centroid may lie outside it
            retry = np.flatnonzero(~inside)
            surface = shapely.get_coordinates(shapely.point_on_surface(geoms[retry]))
            inside[retry] = shapely.contains_xy(area, surface[:, 0], surface[:, 1])
        problems += [
            Problem(int(i), batch.codes[i], f"lies outside the province boundary of {province}")
            for i in idx[~inside]
        ]
    return problems


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
                problems.append(Problem(i, batch.codes[i], "a province other than the tenant's"))
            continue
        if parent not in in_file and parent not in found:
            parent_level = {9: "county", 6: "city", 4: "province"}[len(batch.codes[i])]
            problems.append(
                Problem(
                    i,
                    batch.codes[i],
                    f"its {parent_level} {parent} is neither in the file nor in the registry",
                )
            )
    return problems


def read_checked(
    *,
    session: Session,
    tenant: Tenant,
    path: Path,
    crs: str | None = None,
    zip_limits: ZipLimits = ZipLimits(),
    progress: Progress | None = None,
) -> DivisionBatch:
    """Read and check a whole file; raise ImportRejected listing every bad feature."""
    step = progress or (lambda stage, done, total: None)
    step("read", 0, 1)
    try:
        table = read_features(path, zip_limits=zip_limits)
    except UnreadableFile as exc:
        raise _reject_file(str(exc)) from exc
    step("read", 1, 1)
    epsg, warnings = source_epsg(table, crs)
    step("check", 0, len(table))
    batch, problems = prepare(table, epsg, tenant)
    batch.warnings.extend(warnings)
    bad = {p.index for p in problems}
    in_file = {c: i for i, c in enumerate(batch.codes) if len(c) == 2 and i not in bad}

    def boundary_of(province: str) -> BaseGeometry | None:
        if province in in_file:  # a province polygon in the same file is the reference
            return batch.geoms[in_file[province]]
        return province_boundary(session=session, tenant=tenant, province=province)

    problems += check_inside(batch, boundary_of, bad)
    bad = {p.index for p in problems}
    problems += check_hierarchy(session, tenant, batch, bad)
    step("check", len(table), len(table))
    if problems:
        problems.sort(key=lambda p: p.index)
        n_bad = len({p.index for p in problems})
        raise ImportRejected(
            f"{n_bad} of {len(table)} features have problems; nothing was imported",
            {
                "count": n_bad,
                "features": len(table),
                "problems": [p.__dict__ for p in problems],
            },
        )
    return batch


def import_divisions(
    *,
    session: Session,
    tenant: Tenant,
    path: Path,
    crs: str | None = None,
    valid_from: date | None = None,
    source: str | None = None,
    dry_run: bool = False,
    zip_limits: ZipLimits = ZipLimits(),
    progress: Progress | None = None,
) -> ImportReport:
    """Check a division file and, unless `dry_run`, write it as new division versions."""
    from service.divisions.writer import write_batch

    started = perf_counter()
    batch = read_checked(
        session=session, tenant=tenant, path=path, crs=crs, zip_limits=zip_limits, progress=progress
    )
    report = ImportReport(
        features=len(batch),
        by_level=dict(Counter(batch.levels)),
        source_crs=f"EPSG:{batch.source_epsg}",
        valid_from=valid_from or date.today(),
        dry_run=dry_run,
        warnings=batch.warnings,
    )
    if not dry_run:
        write_batch(
            session=session,
            tenant=tenant,
            batch=batch,
            valid_from=report.valid_from or date.today(),
            source=source or path.name,
            report=report,
            progress=progress,
        )
    report.seconds = round(perf_counter() - started, 3)
    return report
