"""The acceptance history: one append-only row per workflow step of an office."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Numeric,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import RecordedAt, RowId, TenantPart, tenant_reference
from service.core.db import Base


class AcceptanceEvent(Base):
    """Who took which step, when, under which standard version, with what evidence."""

    __tablename__ = "acceptance_events"
    __table_args__ = (
        tenant_reference("fk_acceptance_events_office", office_id="offices.id"),
        tenant_reference("fk_acceptance_events_standard", standard_id="standards.id"),
        Index("ix_acceptance_events_office", "tenant_id", "office_id", "effective_on", "id"),
    )

    tenant_id: Mapped[TenantPart]
    id: Mapped[RowId]
    office_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[RecordedAt]
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(24))
    standard_id: Mapped[int | None] = mapped_column(BigInteger)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    failed_mandatory: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    comment: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    inspection_date: Mapped[date | None] = mapped_column(Date)
    inspectors: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    evidence_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    request_id: Mapped[str | None] = mapped_column(Text)
