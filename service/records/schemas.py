"""Request and response bodies of office records: facilities, staff, evidence files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from service.dates import PlausibleDate
from service.offices.schemas import (
    NO_CONTROL_CHARS,
    Name,
    Phone,
    Strict,
)
from service.records.models import Education, PartyOrganisation, Position
from service.standards import measures

# item keys as enums, so the OpenAPI schema lists what may be sent
RoomKey = StrEnum("RoomKey", {k: k for k in measures.ROOMS})  # type: ignore[misc]
DisplayKey = StrEnum("DisplayKey", {k: k for k in measures.DISPLAYS})  # type: ignore[misc]
CertificateKey = StrEnum("CertificateKey", {k: k for k in measures.CERTIFICATES})  # type: ignore[misc]
RegisterKey = StrEnum("RegisterKey", {k: k for k in measures.REGISTERS})  # type: ignore[misc]
SystemKey = StrEnum("SystemKey", {k: k for k in measures.SYSTEMS})  # type: ignore[misc]
EquipmentKey = StrEnum("EquipmentKey", {k: k for k in measures.EQUIPMENT})  # type: ignore[misc]
VehicleKey = StrEnum("VehicleKey", {k: k for k in measures.VEHICLES})  # type: ignore[misc]
PracticeKey = StrEnum("PracticeKey", {k: k for k in measures.PRACTICES})  # type: ignore[misc]

Count = Annotated[int, Field(ge=0, le=10_000)]
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class FacilitiesIn(Strict):
    """The office's premises, equipment, registers and systems. Replaces the whole record;
    null (or left out) means "not recorded" and makes the criteria that read it unknown."""

    own_premises: bool | None = Field(default=None, description="有独立(专用)办公用房")
    separated_from_legal_service: bool | None = Field(
        default=None, description="与法律服务所人员、印章、办公场所、财务分开"
    )
    party_branch: bool | None = Field(
        default=None,
        description="已建立党支部或党小组 (follows party_organisation when that is given)",
    )
    party_organisation: PartyOrganisation | None = Field(
        default=None, description="党组织:branch 党支部 / group 党小组 / none 未建立"
    )
    rooms: list[RoomKey] | None = Field(default=None, max_length=50)
    certificates: list[CertificateKey] | None = Field(default=None, max_length=10)
    displays: list[DisplayKey] | None = Field(default=None, max_length=20)
    registers: list[RegisterKey] | None = Field(default=None, max_length=50)
    systems: list[SystemKey] | None = Field(default=None, max_length=50)
    equipment: dict[EquipmentKey, Count] | None = None
    vehicles: dict[VehicleKey, Count] | None = None
    practices: dict[PracticeKey, bool] | None = Field(
        default=None,
        description="practice → yes/no (投诉信箱, 岗前培训 …); a practice left out is unknown",
    )
    staff_establishment: int | None = Field(default=None, ge=0, le=1000, description="编制数")
    results_year: int | None = Field(default=None, ge=2000, le=2100)
    mediation_success_rate: Rate | None = Field(
        default=None, description="typed rate; a yearly work record of the period replaces it"
    )
    key_assistance_rate: Rate | None = None
    key_placement_rate: Rate | None = None
    reoffending_rate: Rate | None = None

    @field_validator("practices")
    @classmethod
    def _practice_keys(cls, value: dict[StrEnum, bool] | None) -> dict[str, bool] | None:
        return None if value is None else {k.value: v for k, v in value.items()}

    @model_validator(mode="after")
    def _results_have_a_year(self) -> FacilitiesIn:
        rates = (
            self.mediation_success_rate,
            self.key_assistance_rate,
            self.key_placement_rate,
            self.reoffending_rate,
        )
        if self.results_year is None and any(r is not None for r in rates):
            raise ValueError("results_year: required with the work-result rates (which year)")
        return self

    @model_validator(mode="after")
    def _party(self) -> FacilitiesIn:
        if self.party_organisation is None:
            return self
        established = self.party_organisation != PartyOrganisation.none
        if self.party_branch is not None and self.party_branch != established:
            raise ValueError(
                f"party_branch: {self.party_branch} contradicts party_organisation"
                f" {self.party_organisation.value!r}"
            )
        self.party_branch = established
        return self

    @field_validator("rooms", "certificates", "displays", "registers", "systems")
    @classmethod
    def _unique(cls, value: list[StrEnum] | None) -> list[str] | None:
        return None if value is None else sorted({v.value for v in value})

    @field_validator("equipment", "vehicles")
    @classmethod
    def _positive(cls, value: dict[StrEnum, int] | None) -> dict[str, int] | None:
        # a count of 0 is the same as the item being absent: stored maps hold only what exists
        return None if value is None else {k.value: n for k, n in value.items() if n > 0}


class FacilitiesOut(BaseModel):
    office_id: int
    recorded: bool
    own_premises: bool | None = None
    separated_from_legal_service: bool | None = None
    party_branch: bool | None = None
    party_organisation: str | None = None
    rooms: list[str] | None = None
    certificates: list[str] | None = None
    displays: list[str] | None = None
    registers: list[str] | None = None
    systems: list[str] | None = None
    equipment: dict[str, int] | None = None
    vehicles: dict[str, int] | None = None
    practices: dict[str, bool] | None = None
    staff_establishment: int | None = None
    results_year: int | None = None
    mediation_success_rate: float | None = None
    key_assistance_rate: float | None = None
    key_placement_rate: float | None = None
    reoffending_rate: float | None = None
    labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Chinese labels of the item keys"
    )
    updated_at: datetime | None = None


class StaffIn(Strict):
    """A member of staff. Name, phone and education are personal data."""

    name: Name
    position: Position = Position.staff
    phone: Phone | None = None
    education: Education | None = None
    law_major: bool | None = Field(default=None, description="法律专业")
    formal: bool = Field(description="全供在编(正式)人员")
    civil_servant: bool = Field(description="公务员")
    party_member: bool | None = Field(default=None, description="中共党员")
    heads_legal_service: bool = Field(default=False, description="兼任法律服务所主任")
    training_year: int | None = Field(default=None, ge=2000, le=2100)
    training_days: int | None = Field(default=None, ge=0, le=366)
    joined_on: PlausibleDate | None = None


class StaffUpdate(Strict):
    """Fields to change; left out = unchanged."""

    name: Name | None = None
    position: Position | None = None
    phone: Phone | None = None
    education: Education | None = None
    law_major: bool | None = None
    formal: bool | None = None
    civil_servant: bool | None = None
    party_member: bool | None = None
    heads_legal_service: bool | None = None
    training_year: int | None = Field(default=None, ge=2000, le=2100)
    training_days: int | None = Field(default=None, ge=0, le=366)


class StaffLeave(Strict):
    left_on: PlausibleDate
    reason: (
        Annotated[str, StringConstraints(min_length=2, max_length=200), NO_CONTROL_CHARS] | None
    ) = None


class StaffOut(BaseModel):
    id: int
    office_id: int
    position: str
    position_label: str
    formal: bool
    civil_servant: bool
    college: bool | None
    law_major: bool | None
    party_member: bool | None
    heads_legal_service: bool
    training_year: int | None
    training_days: int | None
    joined_on: date
    left_on: date | None
    personal_data_visible: bool
    name: str | None = Field(description="personal data: only for roles that need it")
    phone: str | None
    education: str | None


class EvidenceOut(BaseModel):
    id: int
    office_id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    description: str | None
    uploaded_by: str
    uploaded_at: datetime
    href: str
