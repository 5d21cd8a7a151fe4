"""Managing a tenant's users (province admins only) and one's own password."""

from __future__ import annotations

from functools import partial

import anyio
import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.accounts import throttle
from service.accounts.models import User
from service.accounts.permissions import Action
from service.accounts.roles import Role
from service.accounts.schemas import UserCreate, UserOut, UserUpdate
from service.accounts.scope import Scope
from service.accounts.security import hash_password
from service.accounts.service import (
    check_password_strength,
    check_region,
    create_user,
    set_password,
)
from service.accounts.sessions import PASSWORD_LIMIT, check_password, revoke_user_sessions
from service.accounts.throttle import Allowance, Rule
from service.core.db import Database
from service.core.errors import Conflict, Invalid, NotAuthenticated, NotFound
from service.core.text import hidden_characters
from service.tenants.service import get_tenant


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _clean(text: str) -> str:
    if hidden_characters(text):
        raise Invalid("display_name must not contain control characters", {"field": "display_name"})
    return text


def list_users(*, session: Session, scope: Scope, region: str) -> list[UserOut]:
    scope.require(Action.manage_users)
    users = session.scalars(
        select(User)
        .where(User.tenant_id == scope.tenant_id, func.starts_with(User.region_code, region))
        .order_by(User.region_code, User.username)
    )
    return [user_out(u) for u in users]


def get_user(*, session: Session, scope: Scope, user_id: int) -> User:
    scope.require(Action.manage_users)
    user = session.scalar(select(User).where(User.tenant_id == scope.tenant_id, User.id == user_id))
    if user is None or not scope.covers(user.region_code):
        raise NotFound(f"no user {user_id} in your region")
    return user


def add_user(*, session: Session, scope: Scope, data: UserCreate) -> User:
    scope.require(Action.manage_users)
    if data.region_code and not scope.covers(data.region_code):
        raise Invalid(f"region {data.region_code} is outside your region", {"field": "region_code"})
    return create_user(
        session=session,
        tenant=get_tenant(session=session, code=scope.tenant_code),
        username=data.username,
        password=data.password,
        role=data.role,
        region_code=data.region_code,
        display_name=_clean(data.display_name),
    )


def _active_admins(session: Session, tenant_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                User.tenant_id == tenant_id,
                User.role == Role.province_admin.value,
                User.is_active.is_(True),
            )
        )
        or 0
    )


def change_user(*, session: Session, scope: Scope, user: User, data: UserUpdate) -> User:
    """Apply a change; refuses to leave the tenant without an active province admin."""
    scope.require(Action.manage_users)
    fields = data.model_fields_set
    role = data.role if "role" in fields and data.role else Role(user.role)
    region = data.region_code if "region_code" in fields and data.region_code else user.region_code
    tenant = get_tenant(session=session, code=scope.tenant_code)
    if not scope.covers(region):
        raise Invalid(f"region {region} is outside your region", {"field": "region_code"})
    check_region(tenant, role, region)
    losing_admin = user.role == Role.province_admin.value and (
        role is not Role.province_admin or data.is_active is False
    )
    if losing_admin and user.is_active and _active_admins(session, scope.tenant_id) <= 1:
        raise Conflict("this is the tenant's last active province admin; appoint another first")
    user.role, user.region_code = role.value, region
    if "display_name" in fields and data.display_name is not None:
        user.display_name = _clean(data.display_name)
    if "is_active" in fields and data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            revoke_user_sessions(
                session, tenant_id=user.tenant_id, user_id=user.id, reason="disabled"
            )
    if "password" in fields and data.password:
        set_password(session=session, user=user, password=data.password)
        revoke_user_sessions(
            session, tenant_id=user.tenant_id, user_id=user.id, reason="password reset"
        )
    session.flush()
    return user


async def change_own_password(
    *,
    db: Database,
    session: Session,
    scope: Scope,
    limiter: anyio.CapacityLimiter,
    current_password: str,
    new_password: str,
) -> None:
    """Change my own password: the current one is required (wrong guesses are limited per
    user), and every other login session of mine ends — whoever else held one is out. Not
    with an access token: a stolen one must not be a way to the account."""
    scope.require_interactive("changing the password")
    check_password_strength(new_password)
    allowance = Allowance(
        f"password:{scope.tenant_id}:{scope.user_id}", PASSWORD_LIMIT, Rule.FAILURES_RESET
    )
    reservation = await anyio.to_thread.run_sync(
        partial(throttle.reserve, db.counters, [allowance], what="wrong current passwords")
    )
    user = await anyio.to_thread.run_sync(session.get_one, User, (scope.tenant_id, scope.user_id))
    if not await check_password(limiter, user.password_hash, current_password):
        raise NotAuthenticated("the current password is wrong")
    new_hash = await anyio.to_thread.run_sync(hash_password, new_password, limiter=limiter)

    def store() -> None:
        user.password_hash = new_hash
        revoke_user_sessions(
            session,
            tenant_id=scope.tenant_id,
            user_id=scope.user_id,
            reason="password changed",
            keep=scope.session_id,
        )
        session.flush()

    await anyio.to_thread.run_sync(store)
    await anyio.to_thread.run_sync(partial(throttle.settle, db.counters, reservation, success=True))
