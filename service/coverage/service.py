"""Each coverage report as a table: its rows, Chinese columns, a title and a geometry, so
that the API and the CLI return the same thing in JSON, CSV, XLSX or GeoJSON. Every report
is planned for its own region and date (`plan_for_values`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from service.core.db import plan_for_values
from service.core.errors import Invalid
from service.core.exports import Column
from service.coverage import reports, tables
from service.coverage.query import CoverageFilter
from service.coverage.rows import BoundaryRow, ConflictRow, GapRow, MisplacedRow, SummaryRow
from service.divisions.kinds import LEVEL_WIDTH
from service.divisions.service import get_current

R = TypeVar("R")
GENERATED_NOTE = "乡镇(街道)边界为按县级边界生成的示意数据,非官方边界;覆盖结果仅供演示"


@dataclass
class Table(Generic[R]):
    """A report's rows (one frozen row type each, coverage/rows.py) as a table to export."""

    rows: list[R]
    total: int
    columns: list[Column]
    title: str
    geometry: Callable[[R], Any] | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Shaped(Protocol):
    @property
    def geometry(self) -> str | None: ...


def _polygon(row: _Shaped) -> Any:
    return row.geometry


def _point(row: MisplacedRow) -> Any:
    return {"type": "Point", "coordinates": [row.lon, row.lat]}


def _title(stem: str, f: CoverageFilter) -> str:
    return f"{stem}_{f.region or '全国'}" + (f"_{f.as_of}" if f.as_of else "")


def _note(session: Session, f: CoverageFilter) -> str | None:
    return GENERATED_NOTE if reports.generated_boundaries(session, f) else None


def gaps(
    session: Session,
    f: CoverageFilter,
    *,
    required: bool = True,
    limit: int | None = None,
    offset: int = 0,
    with_geometry: bool = False,
) -> Table[GapRow]:
    plan_for_values(session)
    total, rows = reports.gaps(
        session, f, required=required, limit=limit, offset=offset, with_geometry=with_geometry
    )
    stem = "应设未设司法所的乡镇" if required else "未设司法所的非必设单位"
    return Table(rows, total, tables.GAPS, _title(stem, f), _polygon, _note(session, f))


def conflicts(
    session: Session,
    f: CoverageFilter,
    *,
    limit: int | None = None,
    offset: int = 0,
    with_geometry: bool = False,
) -> Table[ConflictRow]:
    plan_for_values(session)
    total, rows = reports.conflicts(
        session, f, limit=limit, offset=offset, with_geometry=with_geometry
    )
    return Table(
        rows, total, tables.CONFLICTS, _title("重复设所的乡镇", f), _polygon, _note(session, f)
    )


def misplaced(
    session: Session,
    f: CoverageFilter,
    *,
    diagnosis: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Table[MisplacedRow]:
    plan_for_values(session)
    whole = diagnosis is not None
    total, found = reports.misplaced(
        session, f, limit=None if whole else limit, offset=0 if whole else offset
    )
    from service.coverage.diagnosis import diagnose  # (numpy and the offsets: this one only)

    diagnoses = diagnose(session, f, found)
    rows = [r.diagnosed(diagnoses[r.office_id]) for r in found]
    if diagnosis is not None:
        rows = [r for r in rows if (r.diagnosis or "none") == diagnosis]
        total = len(rows)
        rows = rows[offset : offset + limit] if limit is not None else rows[offset:]
    return Table(
        rows,
        total,
        tables.MISPLACED,
        _title("位置与登记不符的司法所", f),
        _point,
        _note(session, f),
    )


def summary(
    session: Session, f: CoverageFilter, *, level: str, with_geometry: bool = False
) -> Table[SummaryRow]:
    plan_for_values(session)
    width = LEVEL_WIDTH[level]
    if f.region and len(f.region) >= width:
        raise Invalid(
            f"level {level} must be below region {f.region}",
            [{"field": "level", "problem": "choose a level below the region"}],
        )
    rows = reports.summary(session, f, level=level, with_geometry=with_geometry)
    region = (
        get_current(session=session, tenant_id=f.tenant_id, code=f.region) if f.region else None
    )
    total = reports.totals(rows, f.region, region.name if region else "全部")
    return Table(
        rows,
        len(rows),
        tables.SUMMARY,
        _title("覆盖情况汇总", f),
        _polygon,
        _note(session, f),
        extra={"total": total, "level": level},
    )


_PROBLEMS = (
    ("overlaps", "乡镇边界重叠", "a_code", "a_name", "b_code", "b_name"),
    ("uncovered", "县域内未被乡镇覆盖", "county_code", "county_name", None, None),
    ("outside", "乡镇超出所属县界", "code", "name", "county_code", "county_name"),
)


def boundaries(
    session: Session,
    f: CoverageFilter,
    *,
    tolerance_m2: float = 10000.0,
    with_geometry: bool = False,
) -> Table[BoundaryRow]:
    plan_for_values(session)
    from service.coverage.boundaries import boundary_quality  # (shapely and numpy: this one)

    result = boundary_quality(session, f, tolerance_m2=tolerance_m2, with_geometry=with_geometry)
    rows = []
    for key, label, code, name, other_code, other_name in _PROBLEMS:
        for item in result[key]:
            rows.append(
                BoundaryRow(
                    problem=label,
                    code=item[code],
                    name=item[name],
                    other_code=item.get(other_code) if other_code else None,
                    other_name=item.get(other_name) if other_name else None,
                    area_m2=item["area_m2"],
                    geometry=item.get("geometry"),
                )
            )
    return Table(
        rows,
        len(rows),
        tables.BOUNDARIES,
        _title("边界质量检查", f),
        _polygon,
        _note(session, f),
        extra=result,
    )
