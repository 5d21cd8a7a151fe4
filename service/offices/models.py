"""The offices table: one row per 司法所, tied to the division it serves and its location."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import (
    Moment,
    RowId,
    TenantKey,
    WrittenAt,
    code_prefix_index,
    tenant_reference,
)
from service.core.db import Base
from service.offices.states import AcceptanceState

_STATES = ", ".join(f"'{s.value}'" for s in AcceptanceState)


class Office(Base):
    """A township-level judicial office.

    `division_id`/`division_code` is the division the office is registered to serve;
    `located_division_id`/`located_code` is the township whose polygon covers its point,
    kept current on every write and every boundary change, so that coverage reports are
    attribute joins rather than spatial ones.
    """

    __tablename__ = "offices"
    __table_args__ = (
        tenant_reference(
            "fk_offices_division", division_id="divisions.id", division_code="divisions.code"
        ),
        tenant_reference("fk_offices_standard", standard_id="standards.id"),
        tenant_reference(
            "fk_offices_located_division",
            located_division_id="divisions.id",
            located_code="divisions.code",
        ),
        CheckConstraint(f"acceptance_state IN ({_STATES})", name="acceptance_state_valid"),
        CheckConstraint(
            "staff_total IS NULL OR staff_total BETWEEN 0 AND 1000", name="staff_total"
        ),
        CheckConstraint(
            "staff_formal IS NULL OR (staff_formal >= 0 AND (staff_total IS NULL"
            " OR staff_formal <= staff_total))",
            name="staff_formal",
        ),
        CheckConstraint(
            "staff_civil_servants IS NULL OR (staff_civil_servants >= 0 AND (staff_total IS NULL"
            " OR staff_civil_servants <= staff_total))",
            name="staff_civil_servants",
        ),
        CheckConstraint("area_m2 IS NULL OR area_m2 >= 0", name="area_nonnegative"),
        CheckConstraint(
            "(closed_at IS NULL AND closed_reason IS NULL)"
            " OR (closed_at IS NOT NULL AND closed_reason IS NOT NULL)",
            name="closed_with_reason",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_offices_geom", "geom", postgresql_using="gist"),
        code_prefix_index("ix_offices_division_code", "division_code"),
        Index(
            "ix_offices_located_active",
            "tenant_id",
            "located_division_id",
            postgresql_where=text("closed_at IS NULL"),
        ),
        # the region policy reads both codes: each report index holds both, so that an
        # index-only scan can apply it (migration 0008)
        code_prefix_index(
            "ix_offices_located_code_active",
            "located_code",
            postgresql_include=["division_code"],
            postgresql_where=text("closed_at IS NULL"),
        ),
        code_prefix_index(
            "ix_offices_misplaced",
            "division_code",
            postgresql_include=["id", "located_code"],
            postgresql_where=text(
                "closed_at IS NULL AND located_code IS DISTINCT FROM division_code"
            ),
        ),
        code_prefix_index(
            "ix_offices_acceptance",
            "division_code",
            "acceptance_state",
            postgresql_include=["located_code"],
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index(
            "uq_offices_external_id",
            "tenant_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    name: Mapped[str] = mapped_column(Text)
    division_id: Mapped[int] = mapped_column(BigInteger)
    division_code: Mapped[str] = mapped_column(String(9))
    located_division_id: Mapped[int | None] = mapped_column(BigInteger)
    located_code: Mapped[str | None] = mapped_column(String(9))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    staff_total: Mapped[int | None] = mapped_column(Integer)
    staff_formal: Mapped[int | None] = mapped_column(Integer)
    staff_civil_servants: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    acceptance_state: Mapped[str] = mapped_column(
        String(16), server_default=AcceptanceState.not_applied.value
    )
    exception_reason: Mapped[str | None] = mapped_column(Text)
    # the acceptance workflow: the standard version the office was last judged under, the
    # day the title was granted, the last re-inspection, the day the state last changed
    standard_id: Mapped[int | None] = mapped_column(BigInteger)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    reinspected_on: Mapped[date | None] = mapped_column(Date)
    state_changed_on: Mapped[date | None] = mapped_column(Date)
    external_id: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[WrittenAt]
    updated_at: Mapped[WrittenAt]
    closed_at: Mapped[Moment | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
