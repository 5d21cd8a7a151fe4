"""The acceptance history: one append-only row per workflow step of an office."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base


class AcceptanceEvent(Base):
    """Who took which step, when, under which standard version, with what evidence."""

    __tablename__ = "acceptance_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "office_id"],
            ["offices.tenant_id", "offices.id"],
            name="fk_acceptance_events_office",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "standard_id"],
            ["standards.tenant_id", "standards.id"],
            name="fk_acceptance_events_standard",
        ),
        Index("ix_acceptance_events_office", "tenant_id", "office_id", "effective_on", "id"),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    office_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
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
