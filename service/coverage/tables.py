"""Column headers (Chinese, for people) of the coverage exports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.core.exports import Column
from service.coverage.causes import CORRECTIONS_ZH
from service.coverage.evidence import Evidence
from service.coverage.rows import ConflictOffice
from service.divisions.kinds import KIND_LABELS_ZH, DivisionKind


def _kind(value: str | None) -> str | None:
    try:
        return KIND_LABELS_ZH[DivisionKind(value)] if value else None
    except ValueError:
        return value


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


def _evidence(read: Callable[[Evidence], Any]) -> Callable[[Evidence | None], Any]:
    """A renderer of one fact of a misplaced office's evidence (empty without evidence)."""
    return lambda evidence: None if evidence is None else read(evidence)


def _batch(evidence: Evidence) -> str | None:
    b = evidence.batch  # (not "3/4": a spreadsheet would read that as a date)
    return None if b is None else f"{b.explained}(共{b.misplaced})"


def _offices(value: tuple[ConflictOffice, ...]) -> str:
    return "；".join(
        f"{o.name}(ID {o.id}, 登记 {o.division_code}"
        + (f", 例外: {o.exception_reason}" if o.exception_reason else "")
        + ")"
        for o in value
    )


PLACE = [
    Column("county_code", "县级代码"),
    Column("county_name", "县(市、区)"),
    Column("city_code", "市级代码"),
    Column("city_name", "市"),
]
GAPS = [
    Column("code", "乡镇(街道)代码"),
    Column("name", "乡镇(街道)名称"),
    Column("kind", "类型", _kind),
    Column("required", "是否必设司法所"),
    *PLACE,
]
CONFLICTS = [
    Column("code", "乡镇(街道)代码"),
    Column("name", "乡镇(街道)名称"),
    Column("kind", "类型", _kind),
    *PLACE,
    Column("office_count", "司法所数量"),
    Column("offices", "司法所", _offices),
]
MISPLACED = [
    Column("office_id", "司法所ID"),
    Column("office_name", "司法所名称"),
    Column("registered_code", "登记乡镇代码"),
    Column("registered_name", "登记乡镇名称"),
    Column("located_code", "坐标所在乡镇代码"),
    Column("located_name", "坐标所在乡镇名称"),
    Column("lon", "经度"),
    Column("lat", "纬度"),
    Column("distance_m", "距登记乡镇(米)"),
    Column("diagnosis_zh", "可能原因"),
    Column("diagnosis_confidence", "可信度", _rate),
    Column("evidence", "候选原因", _evidence(lambda e: CORRECTIONS_ZH[e.correction])),
    Column("evidence", "候选原因可信度", _evidence(lambda e: _rate(e.confidence))),
    Column("evidence", "换算位移(米)", _evidence(lambda e: e.shift_m)),
    Column("evidence", "换算点深入登记乡镇(米)", _evidence(lambda e: e.depth_m)),
    Column("evidence", "同县错位司法所中同一换算可解释的", _evidence(_batch)),
    Column(
        "evidence",
        "同县位置正确的司法所中换算后移出的",
        _evidence(lambda e: e.batch.broken if e.batch else None),
    ),
]
SUMMARY = [
    Column("code", "区划代码"),
    Column("name", "名称"),
    Column("required", "必设司法所的乡镇(街道)数"),
    Column("covered", "已设所"),
    Column("gaps", "未设所"),
    Column("conflicts", "重复设所"),
    Column("misplaced", "位置与登记不符"),
    Column("coverage_rate", "覆盖率", _rate),
    Column("optional", "非必设单位数"),
    Column("optional_gaps", "非必设单位未设所"),
]
BOUNDARIES = [
    Column("problem", "问题"),
    Column("code", "区划代码"),
    Column("name", "名称"),
    Column("other_code", "相关区划代码"),
    Column("other_name", "相关区划名称"),
    Column("area_m2", "面积(平方米)"),
]
