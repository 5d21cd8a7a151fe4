"""Response bodies of the coverage API: the report's meta data around its rows, which are
the reports' own row types (coverage/rows.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.coverage.rows import ConflictRow, GapRow, MisplacedRow, SummaryRow
from service.divisions.kinds import DivisionKind


class ReportMeta(BaseModel):
    region: str
    as_of: date | None
    required_kinds: list[str]
    note: str | None = None


class GapPage(ReportMeta):
    items: list[GapRow]
    total: int
    limit: int
    offset: int


class ConflictPage(ReportMeta):
    items: list[ConflictRow]
    total: int
    limit: int
    offset: int


class MisplacedPage(ReportMeta):
    items: list[MisplacedRow]
    total: int
    limit: int
    offset: int


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
