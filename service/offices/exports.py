"""The office list as people read it: its Chinese columns, shared by the list page and the
list's CSV/XLSX export (service/core/exports.py, served by service/http/downloads.py `download`, which keeps formulas out)."""

from __future__ import annotations

from typing import Any

from service.core.exports import Column
from service.divisions.kinds import KIND_LABELS_ZH, DivisionKind
from service.offices.queries import ListedOffice
from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState

EXPORT_LIMIT = 5000  # rows of one export (every page of the list, up to this)

# the headers, by key: the export's columns and the page's <th> and data-label
HEADERS = {
    "id": "司法所编号",
    "name": "司法所名称",
    "division_code": "乡镇(街道)代码",
    "division_name": "乡镇(街道)",
    "kind": "乡镇类型",
    "county_name": "县(市、区)",
    "state": "验收状态",
    "score": "达标率(%)",
    "mandatory_met": "必备项全部达标",
    "due_on": "应复验日期",
    "overdue": "复验逾期",
    "updated_at": "最后更新",
}
OFFICE_LIST = [Column(key, header) for key, header in HEADERS.items()]


def kind_label(kind: str | None) -> str | None:
    return KIND_LABELS_ZH.get(DivisionKind(kind)) if kind else None


def state_label(state: str) -> str:
    return ACCEPTANCE_LABELS_ZH[AcceptanceState(state)]


def export_row(item: ListedOffice) -> dict[str, Any]:
    """One office as a row of the export (the list's columns, labels in Chinese)."""
    o = item.office
    return {
        "id": o.id,
        "name": o.name,
        "division_code": o.division.code,
        "division_name": o.division.name,
        "kind": kind_label(o.division.kind),
        "county_name": o.division.county_name,
        "state": state_label(o.acceptance_state),
        "score": item.score,
        "mandatory_met": item.mandatory_met,
        "due_on": item.reinspection_due_on,
        "overdue": item.overdue if item.reinspection_due_on else None,
        "updated_at": o.updated_at,
    }
