"""One frozen type per compliance report row and per report around its rows (the idiom of
coverage/rows.py and acceptance/rows.py): made once where the report is built, read by
attribute by the API's JSON (the routes' response models are these types), the exports
(core/exports.py `cell_of`), the office page and the acceptance workflow's check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

# a criterion for one office: met, not met, or not recorded
Status = Literal["pass", "fail", "unknown"]
# what an office has of a criterion's measure: yes or no, a number, the items it has (their
# keys, sorted), or nothing recorded (int before float: 120 stays 120 in JSON, not 120.0)
Measured = bool | int | float | list[str] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardSummary:
    """The version of a standard a report measured against."""

    id: int
    version: int
    code: str
    title: str
    document: str
    effective_from: date


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistItem:
    """A criterion of the standard applied to one office: the measured value against the
    requirement, and what to do where it is not met (缺什么补什么)."""

    key: str
    category: str
    text: str
    source: str
    mandatory: bool
    measure: str
    measure_label: str
    unit: str
    status: Status
    status_label: str
    measured: Measured
    required: str
    missing_items: tuple[str, ...]
    todo: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficeCompliance:
    """One office's checklist against a standard at a date: the criteria met, not met and
    without data, the share met (None: no criterion applies), the mandatory ones still open,
    and what is missing in words."""

    office_id: int
    office_name: str
    as_of: date
    standard: StandardSummary
    passed: int
    failed: int
    unknown: int
    score: float | None
    mandatory_met: bool
    mandatory_open: tuple[str, ...]
    items: tuple[ChecklistItem, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CriterionTally:
    """A criterion across the region's offices: how many pass, fail, lack the data."""

    key: str
    text: str
    category: str
    mandatory: bool
    passed: int
    failed: int
    unknown: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionCompliance:
    """A sub-region's offices against the standard, and the criterion most of them fail."""

    code: str
    name: str | None
    offices: int
    compliant: int
    compliance_rate: float | None
    avg_score: float | int | None
    most_failed: str | None
    most_failed_text: str | None
    most_failed_count: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionComplianceReport:
    """A region's offices against a standard at a date: how many meet every mandatory
    criterion, the criteria by how many offices fail them, and per sub-region."""

    region: str
    as_of: date
    standard: StandardSummary
    offices: int
    compliant: int
    compliance_rate: float | None
    criteria: tuple[CriterionTally, ...]
    regions: tuple[RegionCompliance, ...]
