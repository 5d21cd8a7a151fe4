"""Response bodies of the divisions API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class ImportReportOut(BaseModel):
    features: int
    by_level: dict[str, int]
    created: int
    changed: int
    unchanged: int
    offices_relinked: int
    offices_relocated: int
    source_crs: str
    valid_from: date | None
    dry_run: bool
    warnings: list[str]
    seconds: float


class DivisionVersionOut(BaseModel):
    code: str
    name: str
    kind: str
    level: str
    parent_code: str | None
    valid_from: date
    valid_to: date | None
    area_km2: float
    source: str | None = None


class DivisionDetailOut(BaseModel):
    current: DivisionVersionOut | None
    versions: list[DivisionVersionOut]


class DivisionPage(BaseModel):
    items: list[DivisionVersionOut]
    total: int
    limit: int
    offset: int
