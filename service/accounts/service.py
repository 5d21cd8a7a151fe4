"""Creating users and checking their passwords."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.accounts.roles import Role
from service.accounts.security import hash_password
from service.core.errors import AlreadyExists, Invalid
from service.tenants.models import NATIONAL_CODE, Tenant

USERNAME_RE = re.compile(r"^[a-z0-9_.@-]{3,64}$")
MIN_PASSWORD_LENGTH = 10
# The code length of the home region each role works at (None: any level inside the tenant).
ROLE_REGION_LENGTH: dict[Role, int | None] = {
    Role.province_admin: 2,
    Role.province_planner: 2,
    Role.city_bureau: 4,
    Role.county_bureau: 6,
    Role.office_staff: 9,
    Role.viewer: None,
}


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", {"field": "password"}
        )
    if len(password) > 256:
        raise Invalid("password must be at most 256 characters", {"field": "password"})


def check_region(tenant: Tenant, role: Role, region: str) -> None:
    """A home region inside the tenant, at the level the role works at."""
    expected = ROLE_REGION_LENGTH[role]
    if tenant.code != NATIONAL_CODE and not region.startswith(tenant.code):
        raise Invalid(f"region {region} is outside tenant {tenant.code}", {"field": "region_code"})
    if (
        expected is not None
        and len(region) != expected
        and not (expected == 2 and region == tenant.code)
    ):
        raise Invalid(
            f"role {role.value} works at a {expected}-digit region code, not {region!r}",
            {"field": "region_code"},
        )


def create_user(
    *,
    session: Session,
    tenant: Tenant,
    username: str,
    password: str,
    role: Role,
    region_code: str | None = None,
    display_name: str = "",
) -> User:
    """A user of `tenant`; the home region defaults to the whole tenant."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid(
            "username must be 3–64 characters of a-z, 0-9, '_', '.', '@' or '-'",
            {"field": "username"},
        )
    check_password_strength(password)
    region = (region_code or tenant.code).strip()
    check_region(tenant, role, region)
    # Usernames are unique across tenants, which row-level security hides from us: ask the
    # login lookup (SECURITY DEFINER), which sees every tenant.
    exists = session.execute(
        text("SELECT 1 FROM registry_login_lookup(:u)"), {"u": username}
    ).first()
    if exists is not None:
        raise AlreadyExists(f"username {username!r} is taken")
    user = User(
        tenant_id=tenant.id,
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        region_code=region,
        display_name=display_name,
    )
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    session.flush()
