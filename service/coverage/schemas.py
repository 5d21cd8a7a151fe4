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


class BatchEvidence(BaseModel):
    """The batch a misplaced office is judged with: its county's offices (the report) or its
    county's rows of one roster import."""

    scope: str
    code: str
    offices: int
    misplaced: int
    explained: int  # misplaced offices the correction brings home
    broken: int  # offices at home the correction would carry out


class DiagnosisEvidence(BaseModel):
    """What speaks for the likeliest correction of a misplaced office's point."""

    correction: str
    confidence: float
    shift_m: float | None
    depth_m: float | None  # how far inside the registered township the corrected point lands
    outside_m: float | None  # how far the stored point is from the registered township
    direction_deg: float | None  # angle between the correction and the way home
    offset_matches: bool
    also: list[str]
    batch: BatchEvidence | None


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
    diagnosis_confidence: float | None
    evidence: DiagnosisEvidence | None


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
