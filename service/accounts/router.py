"""Login, token refresh, logout, "who am I", one's own personal access tokens and the province
admin's user management."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from service.accounts import access_tokens, sessions, users
from service.accounts.permissions import Action
from service.accounts.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenPage,
    LogoutOut,
    MeOut,
    PasswordChange,
    RefreshIn,
    TenantRef,
    TokenOut,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from service.core.context import client_ip_var, request_id_var
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.params import RegionParam
from service.http.routing import Router

router = Router(prefix="/api/v1", tags=["accounts"])


def client_of(request: Request, device_token: str | None = None) -> sessions.Client:
    return sessions.Client(
        ip=client_ip_var.get(),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id_var.get(),
        device_token=device_token,
    )


@router.post("/auth/token", response_model=TokenOut)
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
    device_token: Annotated[str | None, Form(max_length=1000)] = None,
) -> TokenOut:
    """Exchange a username and password for an access token (minutes) and a refresh token
    (hours). Attempts are limited per username and address (429); a client that sends the
    `device_token` of its last login has an allowance of its own."""
    pair = await sessions.login(
        db=request.app.state.db,
        settings=settings,
        limiter=request.app.state.password_limiter,
        username=form.username,
        password=form.password,
        client=client_of(request, device_token),
    )
    return TokenOut(**pair.__dict__)


@router.post("/auth/refresh", response_model=TokenOut)
async def refresh(request: Request, data: RefreshIn, settings: SettingsDep) -> TokenOut:
    """A new access token; the refresh token is rotated (each one works once)."""
    pair = await sessions.refresh(
        db=request.app.state.db,
        settings=settings,
        token=data.refresh_token,
        client=client_of(request),
    )
    return TokenOut(**pair.__dict__)


@router.post("/auth/logout", response_model=LogoutOut)
def logout(scope: CurrentScope, session: SessionDep, everywhere: bool = False) -> LogoutOut:
    """End this login session (or every session of the user): its tokens stop working now.
    (An access token has no login session: it is revoked at DELETE /api/v1/auth/tokens/{id}.)"""
    scope.require_interactive("logging out")
    n = sessions.logout(
        session=session,
        tenant_id=scope.tenant_id,
        user_id=scope.user_id,
        session_id=scope.session_id,
        everywhere=everywhere,
    )
    return LogoutOut(revoked_sessions=n)


@router.get("/me", response_model=MeOut)
def me(scope: CurrentScope) -> MeOut:
    """Who I am, where I may act, and what I may do."""
    return MeOut(
        username=scope.username,
        role=scope.role.value,
        region_code=scope.region_code,
        tenant=TenantRef(code=scope.tenant_code, name=scope.tenant_name),
        actions=[a.value for a in Action if scope.can(a)],
    )


@router.post("/me/password", status_code=204)
async def change_password(
    request: Request, data: PasswordChange, scope: CurrentScope, session: SessionDep
) -> Response:
    """Change my own password (the current one is required; wrong guesses are limited). Every
    other login session of mine ends."""
    await users.change_own_password(
        db=request.app.state.db,
        session=session,
        scope=scope,
        limiter=request.app.state.password_limiter,
        current_password=data.current_password,
        new_password=data.new_password,
    )
    return Response(status_code=204)


TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("/auth/tokens", response_model=AccessTokenCreated, status_code=201)
def create_access_token(
    data: AccessTokenCreate, scope: CurrentScope, session: SessionDep
) -> AccessTokenCreated:
    """Create a personal access token of my own, for QGIS, GDAL, ArcGIS or a script: sent as
    `Authorization: Bearer <token>`, or as the password of HTTP Basic with my username. The
    token is in this response only. It acts as me, reads only unless `write`, and expires
    after `expires_in_days`. Needs a password login (an access token cannot make another)."""
    return access_tokens.create_token(session=session, scope=scope, data=data)


@router.get("/auth/tokens", response_model=AccessTokenPage)
def list_access_tokens(scope: CurrentScope, session: SessionDep) -> AccessTokenPage:
    """My personal access tokens, newest first (never the tokens themselves)."""
    items = access_tokens.list_tokens(session=session, scope=scope)
    return AccessTokenPage(items=items, total=len(items))


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke_access_token(token_id: TokenId, scope: CurrentScope, session: SessionDep) -> Response:
    """Revoke one of my access tokens: it stops working at once (again: nothing happens)."""
    access_tokens.revoke_token(session=session, scope=scope, token_id=token_id)
    return Response(status_code=204)


UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/users", response_model=UserPage)
def list_users(
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
) -> UserPage:
    """The tenant's users in a region (province admins)."""
    items = users.list_users(session=session, scope=scope, region=scope.region(region))
    return UserPage(items=items, total=len(items))


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(data: UserCreate, scope: CurrentScope, session: SessionDep) -> UserOut:
    """Create a user of this tenant (province admins)."""
    return users.user_out(users.add_user(session=session, scope=scope, data=data))


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: UserId, scope: CurrentScope, session: SessionDep) -> UserOut:
    return users.user_out(users.get_user(session=session, scope=scope, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: UserId, data: UserUpdate, scope: CurrentScope, session: SessionDep
) -> UserOut:
    """Change a user's role, region, name, password or active flag (province admins)."""
    user = users.get_user(session=session, scope=scope, user_id=user_id)
    return users.user_out(users.change_user(session=session, scope=scope, user=user, data=data))
