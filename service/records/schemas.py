"""Request and response bodies of office records: facilities, staff, evidence files, yearly
work records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from service.core.dates import PlausibleDate
from service.core.text import NO_CONTROL_CHARS
from service.offices.schemas import Name, Phone, Strict
from service.records.models import (
    WORK_COUNTS,
    WORK_PARTS,
    Education,
    PartyOrganisation,
    Position,
)
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
TitleKey = StrEnum("TitleKey", {k: k for k in measures.TITLES})  # type: ignore[misc]

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
    left_reason: str | None = Field(None, description="why the member left, as recorded")
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


# -- yearly work records (第四篇) ----------------------------------------------------------------

# Chinese labels of a work record's fields (pages, exports, the OpenAPI descriptions); the
# counts are models.WORK_COUNTS (a test holds the two in step)
WORK_LABELS_ZH = {
    "mediation_cases": "调解民间纠纷件数",
    "mediation_successes": "调解成功件数",
    "villages": "村(社区)数",
    "mediation_committees": "村(社区)人民调解委员会数",
    "full_time_mediators": "专职人民调解员人数",
    "mediators": "人民调解员人数",
    "released_persons": "刑释解教人员数",
    "key_persons": "重点帮教对象人数",
    "key_assisted": "重点帮教对象已帮教人数",
    "key_placed": "重点帮教对象已安置人数",
    "reoffended": "刑释解教人员重新违法犯罪人数",
    "community_corrections": "社区矫正人员数",
    "assistance_agreements": "签订帮教协议数",
    "publicity_events": "法制宣传活动次数",
    "legal_aid_cases": "法律援助案件数",
    "rights_stations": "维权站(点)数",
    "discipline_violations": "工作人员违法违纪人次",
    "mediator_min_training_days": "人民调解员最少集中培训天数",
    "titles": "所获称号",
    "county_assessment_passed": "县级司法行政机关年度考核合格",
    "reports_on_time": "按要求及时上报报表",
    "summary_evidence_id": "年度工作总结(证明材料)",
}
PART_OF = dict(WORK_PARTS)  # part → the count it is a part of
# A count as stored (the database asks ≥ 0). What is sent is also at most MAX_COUNT (one
# township's year) — checked on input only, so that a record written otherwise still reads.
WorkCount = Annotated[int, Field(ge=0)]
MAX_COUNT = 1_000_000
EvidenceId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _count(name: str) -> Any:
    return Field(default=None, description=WORK_LABELS_ZH[name])


class WorkRecordFields(BaseModel):
    """What an office reports for a year; null = not recorded. (Each whole comes before its
    parts: a part is checked against the whole validated before it.)"""

    mediation_cases: WorkCount | None = _count("mediation_cases")
    mediation_successes: WorkCount | None = _count("mediation_successes")
    villages: WorkCount | None = _count("villages")
    mediation_committees: WorkCount | None = _count("mediation_committees")
    mediators: WorkCount | None = _count("mediators")
    full_time_mediators: WorkCount | None = _count("full_time_mediators")
    released_persons: WorkCount | None = _count("released_persons")
    reoffended: WorkCount | None = _count("reoffended")
    key_persons: WorkCount | None = _count("key_persons")
    key_assisted: WorkCount | None = _count("key_assisted")
    key_placed: WorkCount | None = _count("key_placed")
    community_corrections: WorkCount | None = _count("community_corrections")
    assistance_agreements: WorkCount | None = _count("assistance_agreements")
    publicity_events: WorkCount | None = _count("publicity_events")
    legal_aid_cases: WorkCount | None = _count("legal_aid_cases")
    rights_stations: WorkCount | None = _count("rights_stations")
    discipline_violations: WorkCount | None = _count("discipline_violations")
    mediator_min_training_days: int | None = Field(
        default=None, ge=0, le=366, description=WORK_LABELS_ZH["mediator_min_training_days"]
    )
    county_assessment_passed: bool | None = Field(
        default=None, description=WORK_LABELS_ZH["county_assessment_passed"]
    )
    reports_on_time: bool | None = Field(
        default=None, description=WORK_LABELS_ZH["reports_on_time"]
    )
    summary_evidence_id: EvidenceId | None = Field(
        default=None, description="年度工作总结: one of this office's evidence files"
    )


def _counts_at_most(schema: dict[str, Any]) -> None:
    for name in WORK_COUNTS:
        schema["properties"][name]["maximum"] = MAX_COUNT


class WorkRecordIn(Strict, WorkRecordFields):
    """A year's work record; replaces the whole record of that year. A part (调解成功件数 …)
    never exceeds its whole (调解民间纠纷件数 …); the rates are computed, never sent."""

    model_config = ConfigDict(json_schema_extra=_counts_at_most)

    titles: list[TitleKey] | None = Field(
        default=None, max_length=len(measures.TITLES), description="所获称号 (keys of TITLES)"
    )

    @field_validator(*WORK_COUNTS)
    @classmethod
    def _at_most(cls, value: int | None) -> int | None:
        if value is not None and value > MAX_COUNT:
            raise PydanticCustomError(
                "less_than_equal", "Input should be less than or equal to {le}", {"le": MAX_COUNT}
            )
        return value

    @field_validator(*PART_OF)
    @classmethod
    def _within_whole(cls, value: int | None, info: ValidationInfo) -> int | None:
        part = str(info.field_name)
        whole = PART_OF[part]
        total = info.data.get(whole)
        if value is not None and total is not None and value > total:
            raise PydanticCustomError(
                "part_exceeds_whole",
                "{part} ({value}) must not exceed {whole} ({total})",
                {"part": part, "value": value, "whole": whole, "total": total},
            )
        return value

    @field_validator("titles")
    @classmethod
    def _titles_once(cls, value: list[StrEnum] | None) -> list[str] | None:
        if value is None:
            return None
        keys = [v.value for v in value]
        if len(set(keys)) != len(keys):
            raise PydanticCustomError("duplicate_title", "each title may be listed once")
        return [k for k in measures.TITLES if k in keys]  # in the vocabulary's order


class WorkRecordOut(WorkRecordFields):
    office_id: int
    year: int
    titles: list[str] | None = None
    title_labels: list[str] = Field(default_factory=list, description="the titles in Chinese")
    rates: dict[str, float | None] = Field(
        default_factory=dict,
        description="work-result rates computed from the counts (facts.WORK_RATES): "
        "round(100 × part / whole, 2); null where the whole is 0 or not recorded",
    )
    summary_filename: str | None = None
    summary_href: str | None = None
    updated_at: datetime


class RegionWorkRecordOut(WorkRecordOut):
    """A row of a region's work records: the record with its office and division."""

    office_name: str
    division_code: str
    division_name: str | None
    county_name: str | None
    closed: bool = Field(default=False, description="the office has since been closed")


class RegionWorkRecords(BaseModel):
    region: str
    year: int
    items: list[RegionWorkRecordOut]
