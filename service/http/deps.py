"""Request dependencies: the database session, the authenticated user and their Scope, and
the question every region report is asked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import AuthSession, User
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.accounts.security import decode_token
from service.core.context import request_id_var
from service.core.db import WHOLE_TENANT, Database, bind_context
from service.core.errors import NotAuthenticated
from service.core.settings import Settings
from service.http.params import AsOfQuery, RegionParam
from service.tenants.models import DEFAULT_REQUIRED_KINDS, Tenant, db_region

TOKEN_COOKIE = "registry_token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session: the one place where the service commits."""
    db: Database = request.app.state.db
    with db.session() as session:
        yield session


# scope="function": the commit runs when the route returns, before the response is sent, so
# a failed commit turns into an error response instead of a 200 for a change that was lost.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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


# the level of the sub-regions a report is broken down into (default: the one below the region)
Level = Literal["province", "city", "county", "township"]
# a report as JSON, or as a sheet to save
ReportFormat = Literal["json", "csv", "xlsx"]


@dataclass(frozen=True)
class ReportQuery:
    """What a region report is asked: the region (already checked against the user's scope),
    as of when, broken down to which level, answered in which format."""

    region: str
    as_of: date | None
    level: Level | None
    format: ReportFormat


def report_query(
    scope: CurrentScope,
    region: RegionParam = None,
    as_of: AsOfQuery = None,
    level: Level | None = None,
    format: ReportFormat = "json",
) -> ReportQuery:
    return ReportQuery(scope.region(region), as_of, level, format)


ReportParams = Annotated[ReportQuery, Depends(report_query)]
