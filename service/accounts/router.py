"""Login and "who am I" endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from service.accounts import service
from service.accounts.permissions import Action
from service.accounts.schemas import MeOut, TenantRef, TokenOut
from service.accounts.security import issue_token
from service.db import SessionDep
from service.deps import CurrentScope, SettingsDep
from service.errors import NotAuthenticated

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a username and password for a short-lived bearer token."""
    user = service.authenticate(session=session, username=form.username, password=form.password)
    if user is None:
        raise NotAuthenticated("wrong username or password")
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = issue_token(
        key=settings.signing_key(), user_id=user.id, tenant_id=user.tenant_id, ttl=ttl
    )
    return TokenOut(access_token=token, expires_in=int(ttl.total_seconds()))


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
