"""The divisions table: versioned administrative divisions with their (Multi)Polygon."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import RowId, TenantKey, WrittenAt, code_prefix_index
from service.core.db import Base
from service.divisions.kinds import DivisionKind, DivisionLevel

_KINDS = ", ".join(f"'{k.value}'" for k in DivisionKind)
_LEVELS = ", ".join(f"'{v.value}'" for v in DivisionLevel)


class Division(Base):
    """One version of a division: code, name, kind and boundary valid over [valid_from, valid_to).

    A code has at most one version at any date (exclusion constraint); the current version
    has valid_to NULL. Hierarchy is by code: the parent's code is a prefix of the child's.
    """

    __tablename__ = "divisions"
    __table_args__ = (
        CheckConstraint("code ~ '^[1-9]([0-9]|[0-9]{3}|[0-9]{5}|[0-9]{8})$'", name="code_format"),
        CheckConstraint(f"kind IN ({_KINDS})", name="kind_valid"),
        CheckConstraint(f"level IN ({_LEVELS})", name="level_valid"),
        CheckConstraint(
            "(level = 'province' AND length(code) = 2) OR (level = 'city' AND length(code) = 4)"
            " OR (level = 'county' AND length(code) = 6)"
            " OR (level = 'township' AND length(code) = 9)",
            name="level_matches_code",
        ),
        CheckConstraint(
            "(parent_code IS NULL AND length(code) = 2)"
            " OR (parent_code IS NOT NULL AND starts_with(code, parent_code))",
            name="parent_is_prefix",
        ),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_order"),
        CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),
        # (tenant_id, id, code) is the target of the offices' composite foreign key, so that an
        # office's denormalised division_code can never disagree with its division row.
        UniqueConstraint("tenant_id", "id", "code", name="uq_divisions_tenant_id_id_code"),
        # No two versions of a code overlap in time (code as bigint: exact, and much cheaper
        # than btree_gist on text).
        ExcludeConstraint(
            (text("tenant_id"), "="),
            (text("(code::bigint)"), "="),
            (text("daterange(valid_from, valid_to)"), "&&"),
            name="ex_divisions_one_version_per_date",
            using="gist",
        ),
        Index(
            "uq_divisions_current_code",
            "tenant_id",
            "code",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        code_prefix_index(
            "ix_divisions_current_code_prefix",
            "code",
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_divisions_geom", "geom", postgresql_using="gist"),
        code_prefix_index(
            "ix_divisions_current_townships",
            "code",
            postgresql_include=["kind", "id"],
            postgresql_where=text("level = 'township' AND valid_to IS NULL"),
        ),
        Index(  # the region picker: the divisions directly below a region
            "ix_divisions_current_children",
            "tenant_id",
            "parent_code",
            "code",
            postgresql_include=["name"],
            postgresql_where=text("valid_to IS NULL"),
        ),
        code_prefix_index(
            "ix_divisions_generated",
            "code",
            postgresql_where=text("generated"),
        ),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    code: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(24))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(String(9))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    source: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(
        Boolean, Computed("coalesce(source LIKE 'generated%', false)", persisted=True)
    )
    created_at: Mapped[WrittenAt]
