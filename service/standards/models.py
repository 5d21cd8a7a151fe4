"""Standards as tenant data: published versions, their criteria, and the target curve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import RowId, TenantKey, TenantPart, WrittenAt, tenant_reference
from service.core.db import Base


class Standard(Base):
    """One published version of a tenant's 规范化标准. Never changed once published: a change
    is a new version, and offices keep the version they were judged under."""

    __tablename__ = "standards"
    __table_args__ = (
        UniqueConstraint("tenant_id", "version", name="uq_standards_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("procedure IN ('city', 'province', 'district')", name="procedure_valid"),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date | None] = mapped_column(Date)
    effective_from: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[WrittenAt]
    published_by: Mapped[str] = mapped_column(Text)
    # who takes which workflow step (service/acceptance/workflow.py Procedure)
    procedure: Mapped[str] = mapped_column(String(16), server_default=text("'city'"))
    # 第二篇 四: years an office named 文明司法所 has to be accepted, or lose that title
    civilised_title_years: Mapped[int | None] = mapped_column(Integer)


class StandardCriterion(Base):
    """One criterion of a published standard (see service/standards/definition.py)."""

    __tablename__ = "standard_criteria"
    __table_args__ = (
        tenant_reference(
            "fk_standard_criteria_standard", ondelete="CASCADE", standard_id="standards.id"
        ),
        CheckConstraint(
            "op IN ('>=', '>', '<=', '<', '=', 'is_true', 'is_false', 'has_all', 'has_any')",
            name="op_valid",
        ),
    )

    tenant_id: Mapped[TenantPart]
    standard_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[str] | None] = mapped_column(ARRAY(String(24)))
    mandatory: Mapped[bool] = mapped_column(Boolean)
    measure: Mapped[str] = mapped_column(String(60))
    op: Mapped[str] = mapped_column(String(8))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric)
    item_values: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    missing: Mapped[str] = mapped_column(Text)


class Target(Base):
    """A point of a target curve: by `due_on`, `share` of the region's 司法所 should hold the
    title (第二篇 二 counts 全省 司法所)."""

    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint("share > 0 AND share <= 1", name="share_range"),
        CheckConstraint("region_code ~ '^([0-9]{2,12})?$'", name="region_code_digits"),
    )

    tenant_id: Mapped[TenantKey]
    # the region the schedule is for ('' = the whole tenant): a district's own deadline
    region_code: Mapped[str] = mapped_column(
        String(12), primary_key=True, server_default=text("''")
    )
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    share: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    source: Mapped[str | None] = mapped_column(Text)
    # 力争 (strive for): a step the document hopes for, not one it binds the regions to
    aspirational: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
