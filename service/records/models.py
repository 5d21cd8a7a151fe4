"""What an office records about itself for the standards: facilities, staff, evidence files.

Staff personal data (name, phone, education) lives in its own table, whose row-level policy
shows it only to the roles that need it; what the criteria read (position, formal, civil
servant, degree flags, training days) stays with the staff row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base


class Position(StrEnum):
    director = "director"
    deputy_director = "deputy_director"
    staff = "staff"


POSITION_LABELS_ZH = {
    Position.director: "所长",
    Position.deputy_director: "副所长",
    Position.staff: "工作人员",
}


class Education(StrEnum):
    below_college = "below_college"
    college = "college"  # 大专
    bachelor = "bachelor"
    master = "master"
    doctor = "doctor"


EDUCATION_LABELS_ZH = {
    Education.below_college: "大专以下",
    Education.college: "大专",
    Education.bachelor: "本科",
    Education.master: "硕士研究生",
    Education.doctor: "博士研究生",
}


class PartyOrganisation(StrEnum):
    """The party organisation an office has set up (第三篇 asks a 党支部; 第五篇 a 支部 or 党小组)."""

    branch = "branch"  # 党支部
    group = "group"  # 党小组
    none = "none"  # 未建立


PARTY_ORGANISATION_LABELS_ZH = {
    PartyOrganisation.branch: "党支部",
    PartyOrganisation.group: "党小组",
    PartyOrganisation.none: "未建立",
}


def _office_fk(name: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "office_id"], ["offices.tenant_id", "offices.id"], name=name
    )


def _rate(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 0 AND 100", name=f"{name}_range")


class OfficeFacilities(Base):
    """Premises, equipment, registers and systems of one office; NULL = not yet recorded."""

    __tablename__ = "office_facilities"
    __table_args__ = (
        _office_fk("fk_office_facilities_office"),
        _rate("mediation_success_rate"),
        _rate("key_assistance_rate"),
        _rate("key_placement_rate"),
        _rate("reoffending_rate"),
        CheckConstraint(
            "party_organisation IN ('branch', 'group', 'none')", name="party_organisation_valid"
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    own_premises: Mapped[bool | None] = mapped_column(Boolean)
    separated_from_legal_service: Mapped[bool | None] = mapped_column(Boolean)
    party_branch: Mapped[bool | None] = mapped_column(Boolean)  # 支部或党小组 (which: below)
    party_organisation: Mapped[str | None] = mapped_column(String(8))
    rooms: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    certificates: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    displays: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    registers: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    systems: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    # (none_as_null: "not recorded" is SQL NULL, not the JSON value null — which read as an
    # empty map, so unrecorded equipment failed instead of being unknown; migration 0014)
    equipment: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    vehicles: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    results_year: Mapped[int | None] = mapped_column(Integer)
    mediation_success_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    key_assistance_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    key_placement_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    reoffending_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # practice key (measures.PRACTICES) → yes/no; a key not recorded is unknown
    practices: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    staff_establishment: Mapped[int | None] = mapped_column(Integer)  # 编制数
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# the counts of a yearly work record (第四篇); (part, whole) pairs: a part never exceeds it
WORK_COUNTS = (
    "mediation_cases",
    "mediation_successes",
    "villages",
    "mediation_committees",
    "full_time_mediators",
    "mediators",
    "released_persons",
    "key_persons",
    "key_assisted",
    "key_placed",
    "reoffended",
    "community_corrections",
    "assistance_agreements",
    "publicity_events",
    "legal_aid_cases",
    "rights_stations",
    "discipline_violations",
)
WORK_PARTS = (
    ("mediation_successes", "mediation_cases"),
    ("key_assisted", "key_persons"),
    ("key_placed", "key_persons"),
    ("reoffended", "released_persons"),
    ("full_time_mediators", "mediators"),
)


class OfficeWorkRecord(Base):
    """What an office did in one year (第四篇): the counts the work-result rates are computed
    from, its titles, the county's assessment and the annual summary (an evidence file).
    Checks and policies: migration 0014."""

    __tablename__ = "office_work_records"
    __table_args__ = (
        _office_fk("fk_office_work_records_office"),
        # the annual summary is one of the office's own files
        ForeignKeyConstraint(
            ["tenant_id", "office_id", "summary_evidence_id"],
            ["evidence_files.tenant_id", "evidence_files.office_id", "evidence_files.id"],
            name="fk_office_work_records_summary",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    mediation_cases: Mapped[int | None] = mapped_column(Integer)
    mediation_successes: Mapped[int | None] = mapped_column(Integer)
    villages: Mapped[int | None] = mapped_column(Integer)
    mediation_committees: Mapped[int | None] = mapped_column(Integer)
    full_time_mediators: Mapped[int | None] = mapped_column(Integer)
    mediators: Mapped[int | None] = mapped_column(Integer)
    released_persons: Mapped[int | None] = mapped_column(Integer)
    key_persons: Mapped[int | None] = mapped_column(Integer)
    key_assisted: Mapped[int | None] = mapped_column(Integer)
    key_placed: Mapped[int | None] = mapped_column(Integer)
    reoffended: Mapped[int | None] = mapped_column(Integer)
    community_corrections: Mapped[int | None] = mapped_column(Integer)
    assistance_agreements: Mapped[int | None] = mapped_column(Integer)
    publicity_events: Mapped[int | None] = mapped_column(Integer)
    legal_aid_cases: Mapped[int | None] = mapped_column(Integer)
    rights_stations: Mapped[int | None] = mapped_column(Integer)
    discipline_violations: Mapped[int | None] = mapped_column(Integer)
    mediator_min_training_days: Mapped[int | None] = mapped_column(Integer)
    titles: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    county_assessment_passed: Mapped[bool | None] = mapped_column(Boolean)
    reports_on_time: Mapped[bool | None] = mapped_column(Boolean)
    summary_evidence_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeStaff(Base):
    """A member of an office's staff, as far as the criteria need it (no personal data)."""

    __tablename__ = "office_staff"
    __table_args__ = (
        _office_fk("fk_office_staff_office"),
        CheckConstraint(
            "position IN ('director', 'deputy_director', 'staff')", name="position_valid"
        ),
        CheckConstraint("training_days IS NULL OR training_days BETWEEN 0 AND 366", name="days"),
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joined"),
        CheckConstraint(
            "left_reason IS NULL OR (left_on IS NOT NULL AND length(left_reason) BETWEEN 2 AND 200)",
            name="left_reason_only_when_left",
        ),
        Index("ix_office_staff_office", "tenant_id", "office_id"),
        Index(
            "uq_office_staff_director",
            "tenant_id",
            "office_id",
            unique=True,
            postgresql_where=text("position = 'director' AND left_on IS NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    office_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[str] = mapped_column(String(16))
    formal: Mapped[bool] = mapped_column(Boolean)
    civil_servant: Mapped[bool] = mapped_column(Boolean)
    college: Mapped[bool | None] = mapped_column(Boolean)  # 大专以上学历, from education
    law_major: Mapped[bool | None] = mapped_column(Boolean)
    party_member: Mapped[bool | None] = mapped_column(Boolean)
    heads_legal_service: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    training_year: Mapped[int | None] = mapped_column(Integer)
    training_days: Mapped[int | None] = mapped_column(Integer)
    joined_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeStaffPersonal(Base):
    """Name, phone and education of a staff member: visible only to roles that need them."""

    __tablename__ = "office_staff_personal"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "staff_id"],
            ["office_staff.tenant_id", "office_staff.id"],
            name="fk_office_staff_personal_staff",
        ),
        CheckConstraint(
            "education IS NULL OR education IN"
            " ('below_college', 'college', 'bachelor', 'master', 'doctor')",
            name="education_valid",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    education: Mapped[str | None] = mapped_column(String(16))


class EvidenceFile(Base):
    """A photo or PDF an office keeps as evidence; the bytes live under var/evidence by hash."""

    __tablename__ = "evidence_files"
    __table_args__ = (
        _office_fk("fk_evidence_files_office"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_format"),
        Index("ix_evidence_files_office", "tenant_id", "office_id"),
        # a blob is shared by every row with its bytes: before removing one, ask who uses it
        Index("ix_evidence_files_sha256", "sha256"),
        # (a work record's annual summary names its office's file: migration 0014)
        UniqueConstraint("tenant_id", "office_id", "id", name="uq_evidence_files_office_file"),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    office_id: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
