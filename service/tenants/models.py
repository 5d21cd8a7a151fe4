"""The tenant table: one provincial judicial department (省司法厅) per row."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Integer,
    SQLColumnExpression,
    String,
    Text,
    case,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.core.columns import WrittenAt
from service.core.db import WHOLE_TENANT, Base

NATIONAL_CODE = "00"


def db_region(region_code: str, tenant_code: str) -> str:
    """`app.region` for a home region: the whole tenant when the region is all of it."""
    return WHOLE_TENANT if region_code in (tenant_code, NATIONAL_CODE) else region_code


def db_region_of(
    region_code: SQLColumnExpression[str], tenant_code: SQLColumnExpression[str]
) -> ColumnElement[str]:
    """`db_region` in SQL, for a statement that binds `app.region` from the user's row."""
    whole = (region_code == tenant_code) | (region_code == NATIONAL_CODE)
    return case((whole, WHOLE_TENANT), else_=region_code)


DEFAULT_REQUIRED_KINDS = ("town", "township", "street")
_TOWNSHIP_KINDS = "'town', 'township', 'street', 'development_zone', 'farm', 'forest_area', 'mining_area', 'other'"


class Tenant(Base):
    """A province (code = its 2-digit division code), or "00" for a nationwide tenant."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{2}$'", name="code_format"),
        CheckConstraint("reinspection_months BETWEEN 1 AND 120", name="reinspection_months_range"),
        CheckConstraint(
            f"required_kinds <@ ARRAY[{_TOWNSHIP_KINDS}]::varchar[]", name="required_kinds_valid"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[WrittenAt]
    # Which township-level kinds must have an office (tenant policy; the rest are optional).
    required_kinds: Mapped[list[str]] = mapped_column(
        ARRAY(String(24)), server_default=text("'{town,township,street}'")
    )

    # 动态管理, 定期复验: how long an accepted office's title holds before re-inspection is due
    reinspection_months: Mapped[int] = mapped_column(Integer, server_default=text("24"))

    # Created by `registry import demo` (generated boundaries, demo logins): a database holds
    # demo tenants or real ones, never both (`tenants/service.py`).
    demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    @property
    def region_prefix(self) -> str:
        """Prefix every division code of this tenant starts with ("" for the nationwide tenant)."""
        return "" if self.code == NATIONAL_CODE else self.code
