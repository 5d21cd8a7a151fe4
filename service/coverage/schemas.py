"""Response bodies of the coverage API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.divisions.kinds import DivisionKind


class ReportMeta(BaseModel):
    region: str
    as_of: date | None
    required_kinds: list[str]
    note: str | None = None


class Gap(BaseModel):
    code: str
    name: str
    kind: str
    required: bool
    county_code: str
    county_name: str | None
    city_code: str
    city_name: str | None


class ConflictOffice(BaseModel):
    id: int
    name: str
    division_code: str
    exception_reason: str | None


class Conflict(Gap):
    office_count: int
    offices: list[ConflictOffice]


class Misplaced(BaseModel):
    office_id: int
    office_name: str
    registered_code: str
    registered_name: str | None
    located_code: str | None
    located_name: str | None
    lon: float
    lat: float
    distance_m: float | None
    diagnosis: str | None
    diagnosis_zh: str | None


class GapPage(ReportMeta):
    items: list[Gap]
    total: int
    limit: int
    offset: int


class ConflictPage(ReportMeta):
    items: list[Conflict]
    total: int
    limit: int
    offset: int


class MisplacedPage(ReportMeta):
    items: list[Misplaced]
    total: int
    limit: int
    offset: int


class SummaryRow(BaseModel):
    code: str
    name: str | None
    required: int
    covered: int
    gaps: int
    conflicts: int
    misplaced: int
    optional: int
    optional_gaps: int
    coverage_rate: float | None


class SummaryOut(ReportMeta):
    level: str
    total: SummaryRow
    items: list[SummaryRow]


class BoundaryOut(BaseModel):
    region: str
    as_of: str | None
    tolerance_m2: float
    seconds: float
    cached: bool
    counties_not_clean: list[str]
    overlaps: list[dict[str, Any]]
    uncovered: list[dict[str, Any]]
    outside: list[dict[str, Any]]
    note: str | None = None


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required_kinds: list[DivisionKind] = Field(min_length=1, max_length=8)


class TenantPolicy(BaseModel):
    code: str
    name: str
    required_kinds: list[str]
