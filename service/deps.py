"""Request dependencies: the database session, the authenticated user and their Scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import AuthSession, Role, User
from service.accounts.permissions import Action, allowed
from service.accounts.security import decode_token
from service.context import request_id_var
from service.dates import RANGE_TEXT, PlausibleDate
from service.db import WHOLE_TENANT, SessionDep, bind_context
from service.errors import Forbidden, NotAuthenticated
from service.settings import Settings
from service.tenants.models import DEFAULT_REQUIRED_KINDS, NATIONAL_CODE, Tenant, db_region

TOKEN_COOKIE = "registry_token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Scope:
    """Who is asking, for which tenant, over which region (a division code subtree)."""

    user_id: int
    username: str
    tenant_id: int
    tenant_code: str
    tenant_name: str
    role: Role
    region_code: str
    session_id: int = 0
    # tenant policy: township kinds that must have an office (read with the login check)
    required_kinds: tuple[str, ...] = DEFAULT_REQUIRED_KINDS

    @property
    def region_prefix(self) -> str:
        """Division codes inside the home region start with this ("" = whole country)."""
        return "" if self.region_code == NATIONAL_CODE else self.region_code

    @property
    def db_region(self) -> str:
        """The region row-level security confines this user's transactions to."""
        return db_region(self.region_code, self.tenant_code)

    def covers(self, code: str) -> bool:
        return code.startswith(self.region_prefix)

    def can(self, action: Action) -> bool:
        return allowed(self.role, action)

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise Forbidden(f"role {self.role.value} may not {action.value}")

    def region(self, requested: str | None) -> str:
        """The code prefix to filter by: the requested region, which must lie inside ours."""
        if requested is None or requested == "":
            return self.region_prefix
        if not requested.isdigit() or len(requested) not in (2, 4, 6, 9):
            raise Forbidden(f"region {requested!r} is not a division code")
        if requested == NATIONAL_CODE and self.region_prefix == "":
            return ""
        if not requested.startswith(self.region_prefix):
            raise Forbidden(
                f"region {requested} is outside your region {self.region_code}",
                {"region": requested, "home_region": self.region_code},
            )
        return requested


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_scope(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Scope:
    """The Scope of the bearer token's user, with the transaction bound to their tenant.

    401 when the token is missing, invalid or expired, its login session was revoked
    (logout) or has ended, or the user was disabled.
    """
    if not token and request.method in ("GET", "HEAD"):
        # pages and maps in a browser: the login cookie (HttpOnly, SameSite=Strict); it never
        # authorises a change, which needs the bearer header (no cross-site request forgery)
        token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise NotAuthenticated("authentication required: send Authorization: Bearer <token>")
    return scope_for_token(request, session, settings, token)


def scope_for_token(request: Request, session: Session, settings: Settings, token: str) -> Scope:
    """Check a token against its login session and user; bind the transaction to them."""
    claims = decode_token(token, key=settings.signing_key())
    if claims is None:
        raise NotAuthenticated("invalid or expired token")
    try:
        user_id, tenant_id, session_id = int(claims["sub"]), int(claims["tid"]), int(claims["sid"])
    except (TypeError, ValueError) as exc:
        raise NotAuthenticated("invalid token") from exc
    if not (0 < tenant_id < 2**31 and 0 < user_id < 2**63 and 0 < session_id < 2**63):
        raise NotAuthenticated("invalid token")
    request_id = request_id_var.get()
    claimed_region = claims.get("reg")
    if not isinstance(claimed_region, str) or not (
        claimed_region == WHOLE_TENANT or claimed_region.isdigit()
    ):
        claimed_region = None  # learnt from the user's row below
    bind_context(
        session,
        tenant_id=tenant_id,
        region=claimed_region,
        user_id=user_id,
        username=claims.get("usr"),
        role=claims.get("rol"),
        request_id=request_id,
    )
    row = session.execute(
        select(User, Tenant, AuthSession.revoked_at, AuthSession.expires_at)
        .join(Tenant, Tenant.id == User.tenant_id)
        .join(
            AuthSession,
            (AuthSession.tenant_id == User.tenant_id)
            & (AuthSession.user_id == User.id)
            & (AuthSession.id == session_id),
        )
        .where(User.tenant_id == tenant_id, User.id == user_id)
    ).one_or_none()
    if row is None or not row.User.is_active:
        raise NotAuthenticated("the account no longer exists or is disabled")
    if row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("the login session has ended; log in again")
    user, tenant = row.User, row.Tenant
    region = db_region(user.region_code, tenant.code)
    if (
        user.role != claims.get("rol")
        or user.username != claims.get("usr")
        or region != claimed_region
    ):  # the token is older than a change of the user: bind what the database says now
        bind_context(
            session,
            tenant_id=tenant_id,
            region=region,
            user_id=user_id,
            username=user.username,
            role=user.role,
            request_id=request_id,
        )
    scope = Scope(
        user_id=user.id,
        username=user.username,
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        role=Role(user.role),
        region_code=user.region_code,
        session_id=session_id,
        required_kinds=tuple(tenant.required_kinds or DEFAULT_REQUIRED_KINDS),
    )
    request.state.scope = scope
    return scope


CurrentScope = Annotated[Scope, Depends(current_scope)]
AsOfQuery = Annotated[
    PlausibleDate | None,
    Query(description=f"answer as of this date ({RANGE_TEXT}; default today)"),
]
