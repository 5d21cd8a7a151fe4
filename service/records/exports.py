"""Chinese column set of a region's yearly work records as CSV/XLSX (one row per office)."""

from __future__ import annotations

from typing import Any

from service.core.exports import Column
from service.records.models import WORK_COUNTS
from service.records.schemas import WORK_LABELS_ZH, RegionWorkRecordOut
from service.standards import measures
from service.standards.facts import WORK_RATES


def _rate_header(rate: str) -> str:
    label, unit = measures.measure_label(rate)
    return f"{label}({unit})"


WORK_RECORDS = [
    Column("office_id", "司法所编号"),
    Column("office_name", "司法所名称"),
    Column("county_name", "县(市、区)"),
    Column("division_code", "乡镇(街道)代码"),
    Column("division_name", "乡镇(街道)"),
    Column("year", "年度"),
    *(Column(name, WORK_LABELS_ZH[name]) for name in WORK_COUNTS),
    Column("mediator_min_training_days", WORK_LABELS_ZH["mediator_min_training_days"]),
    *(Column(rate, _rate_header(rate)) for rate in WORK_RATES),
    Column("title_labels", WORK_LABELS_ZH["titles"], "、".join),
    Column("county_assessment_passed", WORK_LABELS_ZH["county_assessment_passed"]),
    Column("reports_on_time", WORK_LABELS_ZH["reports_on_time"]),
    Column("summary_filename", WORK_LABELS_ZH["summary_evidence_id"]),
    Column("closed", "已撤销"),
]


def export_row(record: RegionWorkRecordOut) -> dict[str, Any]:
    """The record as a sheet row: its fields with the computed rates beside them."""
    return {**record.model_dump(), **record.rates}
