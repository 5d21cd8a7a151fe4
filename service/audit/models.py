"""The audit trail: append-only events, written by database triggers and by the service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import RecordedAt, RowId
from service.core.db import Base


class AuditEvent(Base):
    """Who (user, role), when, what (action on an entity), before → after, which request."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "tenant_id", "entity_type", "entity_id", "id"),
        Index("ix_audit_events_time", "tenant_id", "occurred_at"),
    )

    tenant_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[RowId]
    occurred_at: Mapped[RecordedAt]
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(9))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)
