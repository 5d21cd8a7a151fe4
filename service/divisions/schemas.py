"""Response bodies of the divisions API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from service.divisions.batch import RepairedFeature


class ImportReportOut(BaseModel):
    features: int
    by_level: dict[str, int]
    created: int
    changed: int
    corrected: int
    unchanged: int
    offices_relinked: int
    offices_relocated: int
    source_crs: str
    valid_from: date | None
    dry_run: bool
    correction: bool
    reason: str | None
    repair: bool
    repaired: list[RepairedFeature]
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
    note: str | None = None


GENERATED_NOTE = (
    "乡镇级边界为按县级边界生成的示意数据，非官方边界 (generated township boundaries, not official)"
)


def boundary_note(sources: list[str | None]) -> str | None:
    """The notice that goes with any list containing generated boundaries."""
    return GENERATED_NOTE if any((s or "").startswith("generated") for s in sources) else None
