"""One frozen row type per coverage report: what a report's statement returns, checked once
where the row is made (a missing or unexpected column is an error there, not a KeyError in
an export), then read by attribute — by the API's JSON, the CSV/XLSX/GeoJSON exports, the
maps, the pages and the command line alike (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import Field

from service.coverage.evidence import Evidence

# GeoJSON text of the row's polygon, when asked for: drawn in a GeoJSON export or a map,
# never a field of the JSON rows (the API's schemas are these types)
Geometry = Annotated[str | None, Field(exclude=True)]


@dataclass(frozen=True, slots=True, kw_only=True)
class TownshipRow:
    """A township of the region with its county and city (gaps and conflicts)."""

    code: str
    name: str
    kind: str
    required: bool
    county_code: str
    county_name: str | None
    city_code: str
    city_name: str | None
    geometry: Geometry = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GapRow(TownshipRow):
    """A township with no active office standing in it."""

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> GapRow:
        return cls(**r)


@dataclass(frozen=True, slots=True)
class ConflictOffice:
    id: int
    name: str
    division_code: str
    exception_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictRow(TownshipRow):
    """A township with two or more active offices, and those offices."""

    office_count: int
    offices: tuple[ConflictOffice, ...]

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> ConflictRow:
        offices = tuple(ConflictOffice(**o) for o in r["offices"] or ())
        return cls(**{**r, "offices": offices})


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why a misplaced office's point may be wrong (coverage/diagnosis.py): a cause of
    causes.LABELS_ZH or None, how sure, and the evidence for the likeliest correction."""

    label: str | None
    label_zh: str | None
    confidence: float | None
    evidence: Evidence | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MisplacedRow:
    """An active office whose point is not in its registered township."""

    office_id: int
    office_name: str
    registered_code: str
    registered_name: str | None
    located_code: str | None
    located_name: str | None
    lon: float
    lat: float
    distance_m: float | None
    diagnosis: str | None = None
    diagnosis_zh: str | None = None
    diagnosis_confidence: float | None = None
    evidence: Evidence | None = None

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> MisplacedRow:
        return cls(**r)

    def diagnosed(self, d: Diagnosis) -> MisplacedRow:
        return replace(
            self,
            diagnosis=d.label,
            diagnosis_zh=d.label_zh,
            diagnosis_confidence=d.confidence,
            evidence=d.evidence,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRow:
    """A part of the region (or the region as a whole): its townships' coverage."""

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
    geometry: Geometry = None

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> SummaryRow:
        required, covered = r["required"], r["covered"]
        rate = round(covered / required, 4) if required else None
        return cls(**r, coverage_rate=rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryRow:
    """A boundary problem: an overlap, an uncovered part of a county, a township outside."""

    problem: str
    code: str
    name: str | None
    other_code: str | None
    other_name: str | None
    area_m2: float
    geometry: Geometry = None
