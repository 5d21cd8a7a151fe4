"""Request and response bodies of the offices API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from geo.points import point_crs
from service.core.dates import PlausibleDate
from service.core.text import NO_CONTROL_CHARS, clean_text
from service.divisions.codes import REGION_PATTERN
from service.divisions.kinds import DivisionKind
from service.offices.staff_counts import larger_than_total
from service.offices.states import AcceptanceState

DUE_SOON_DAYS = 90  # re-inspections "due soon": within this many days


def _not_blank(value: str) -> str:
    cleaned = clean_text(value)
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


# Length limits go before NO_CONTROL_CHARS in the same Annotated (Annotated[str, StringConstraints,
# NO_CONTROL_CHARS]): after a validator pydantic no longer knows it holds a string and says
# "at least 4 items" instead of "at least 4 characters".
Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_not_blank)]
TownshipCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
# numbers as bureaus write them: extensions (转), several numbers separated by , ， / 、 ;
Phone = Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+\-() 转#,，/、;；]{3,40}$")]
Address = Annotated[str, StringConstraints(max_length=200), NO_CONTROL_CHARS]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=100), NO_CONTROL_CHARS]
AreaM2 = Annotated[Decimal, Field(ge=0, le=100000, max_digits=9, decimal_places=1)]


class Strict(BaseModel):
    """Unknown fields, NaN and Infinity are refused with a 422 naming the field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class Location(Strict):
    """A point as sent by a client; `crs` says which coordinates the numbers are in."""

    lon: float = Field(description="longitude (or easting for projected CRSs)")
    lat: float = Field(description="latitude (or northing for projected CRSs)")
    crs: str = Field(
        default="EPSG:4326",
        description="EPSG:4326 (WGS-84), EPSG:4490 (CGCS2000), GCJ02 (高德/腾讯), BD09 (百度), "
        "or a CGCS2000 Gauss-Krüger EPSG:4491–4554",
    )

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str) -> str:
        return point_crs(value)


class StaffNumbers(Strict):
    staff_total: int | None = Field(default=None, ge=0, le=1000, description="在岗人数")
    staff_formal: int | None = Field(default=None, ge=0, le=1000, description="在编(正式)人数")
    staff_civil_servants: int | None = Field(default=None, ge=0, le=1000, description="公务员人数")

    @model_validator(mode="after")
    def _consistent(self) -> StaffNumbers:
        problem = larger_than_total(self.staff_total, lambda name: getattr(self, name))
        if problem:
            raise ValueError(problem[1])
        return self


class OfficeDetails(StaffNumbers):
    """The descriptive fields an office is created with and may later change."""

    address: Address | None = None
    phone: Phone | None = None
    area_m2: AreaM2 | None = None
    opened_on: PlausibleDate | None = None
    exception_reason: (
        Annotated[str, StringConstraints(min_length=4, max_length=500), NO_CONTROL_CHARS] | None
    ) = Field(default=None, description="why this township may have a second office")


DETAIL_FIELDS = frozenset(OfficeDetails.model_fields)


class OfficeCreate(OfficeDetails):
    name: Name = Field(description="official name, XX县(市、区)司法局XX司法所")
    location: Location
    division_code: TownshipCode | None = Field(
        default=None, description="the township it serves; checked against the point"
    )
    external_id: ExternalId | None = None


class OfficeUpdate(OfficeDetails):
    """Fields to change; fields left out stay as they are, null clears an optional field."""

    name: Name | None = None
    location: Location | None = None
    division_code: TownshipCode | None = None

    @model_validator(mode="after")
    def _required_not_null(self) -> OfficeUpdate:
        for name in ("name", "location", "division_code"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class OfficeClose(Strict):
    reason: Annotated[str, StringConstraints(min_length=2, max_length=500), NO_CONTROL_CHARS]
    closed_on: PlausibleDate | None = None


class PointOut(BaseModel):
    lon: float
    lat: float
    crs: Literal["EPSG:4326"] = "EPSG:4326"


class DivisionOut(BaseModel):
    code: str
    name: str
    kind: str
    county_code: str
    county_name: str | None


class OfficeOut(BaseModel):
    id: int
    name: str
    division: DivisionOut
    located_code: str | None = Field(description="the township whose polygon contains the point")
    location: PointOut
    address: str | None
    phone: str | None
    staff_total: int | None
    staff_formal: int | None
    staff_civil_servants: int | None
    area_m2: float | None
    acceptance_state: AcceptanceState
    exception_reason: str | None
    external_id: str | None
    opened_on: date
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_reason: str | None


class Links(BaseModel):
    self: str
    next: str | None = None
    prev: str | None = None


class OfficePage(BaseModel):
    items: list[OfficeOut]
    total: int
    limit: int
    offset: int
    links: Links


def office_feature(office: OfficeOut) -> dict[str, Any]:
    """A GeoJSON Feature for one office (properties = the JSON representation)."""
    props = office.model_dump(mode="json", exclude={"location"})
    return {
        "type": "Feature",
        "id": office.id,
        "geometry": {"type": "Point", "coordinates": [office.location.lon, office.location.lat]},
        "properties": props,
    }


class RosterReportOut(BaseModel):
    """What a roster import did: rows read, offices created and updated, malformed rows (by
    row and column, not stored) and rule violations of the stored rows."""

    rows: int
    created: int
    updated: int
    malformed: list[dict[str, Any]]
    violations: list[dict[str, Any]]
    dry_run: bool
    warnings: list[str]


class OfficeSort(StrEnum):
    """What the office list may be ordered by (ties always by id)."""

    code = "code"  # division code: by county, then township
    name = "name"
    county = "county"  # the county's name
    state = "state"  # in the order of the workflow
    score = "score"  # share of the criteria of the standard in force met
    due = "due"  # re-inspection due date
    updated = "updated"  # last change of the office's record


ComplianceFilter = Literal["met", "not_met"]
ReinspectionFilter = Literal["overdue", "due_soon"]


class OfficeListParams(BaseModel):
    """The filters and order of the office list, as query parameters (the API, its exports
    and the list page) or as the hidden fields of the page's bulk-step form."""

    region: str | None = Field(None, pattern=REGION_PATTERN, description="division code subtree")
    kind: DivisionKind | None = None
    state: list[AcceptanceState] = Field(
        default_factory=list, max_length=len(AcceptanceState), description="any of these states"
    )
    q: str | None = Field(None, max_length=50, description="part of the office's name")
    include_closed: bool = False
    compliance: ComplianceFilter | None = Field(
        None, description="every mandatory criterion of the standard in force met, or not"
    )
    min_score: float | None = Field(
        None, ge=0, le=100, description="at least this share (%) of the criteria met"
    )
    reinspection: ReinspectionFilter | None = Field(
        None, description=f"re-inspection overdue, or due within {DUE_SOON_DAYS} days"
    )
    sort: OfficeSort = OfficeSort.code
    order: Literal["asc", "desc"] = "asc"

    def query(self) -> list[tuple[str, str]]:
        """These parameters as a query string's pairs, defaults left out (links keep them)."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.model_dump(exclude_defaults=True, mode="json").items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, str(item).lower() if isinstance(item, bool) else str(item)))
        return pairs
