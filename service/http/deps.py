"""Request dependencies: the database session, the authenticated user and their Scope (from
the credential the request carries; `accounts/credentials.py` checks it), and the question
every region report is asked."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.accounts.access_tokens import is_access_token
from service.accounts.credentials import scope_of_access_token, scope_of_login
from service.accounts.scope import Scope
from service.core.context import request_id_var
from service.core.db import Database
from service.core.errors import NotAuthenticated, ReadOnly
from service.core.settings import Settings
from service.http.params import AsOfQuery, RegionParam

TOKEN_COOKIE = "registry_token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Request-scoped session: the one place where the service commits (`Database.session`).

    Its beginning makes a Session object, nothing more, unless it is a read replica's
    (which asks the databases first): then, and for the commit, it goes to the thread pool.
    As a plain generator FastAPI took it there twice, entering and leaving — a hop between
    the event loop and the pool (0.1–0.2 ms) on every request for nothing. The request is
    admitted to the database first (service/core/admission.py)."""
    db: Database = request.app.state.db
    async with db.admission.admitted():  # (before the first thread: core/admission.py)
        context = db.session()
        if db.begins_with_io():
            session = await run_in_threadpool(context.__enter__)
        else:
            session = context.__enter__()
        try:
            yield session
        except BaseException as error:
            # (rolls back and re-raises `error`, or raises what it became: ReplicaUnusable)
            await run_in_threadpool(context.__exit__, type(error), error, error.__traceback__)
            raise
        await run_in_threadpool(context.__exit__, None, None, None)


# scope="function": the commit runs when the route returns, before the response is sent, so
# a failed commit turns into an error response instead of a 200 for a change that was lost.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# Dependencies that only compute are `async def`: FastAPI runs them in the event loop, where
# a plain `def` would cost each request a hop to the thread pool and back.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


READING = ("GET", "HEAD", "OPTIONS")  # what a read-only access token may ask
BASIC_NEEDS_TOKEN = (
    "HTTP Basic takes an access token as the password, not the account's password:"
    " create one on the page /account/tokens or at POST /api/v1/auth/tokens"
)
READ_ONLY = (
    "this access token is read-only: it may read, not change anything;"
    " create a token with write access to change data"
)
MALFORMED_BASIC = "malformed HTTP Basic credentials: expected base64 of username:access-token"


def current_scope(
    request: Request,
    session: SessionDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Scope:
    """The Scope of the request's user, with the transaction bound to their tenant and region
    (`authenticate`)."""
    return authenticate(request, session, bearer)


def authenticate(request: Request, session: Session, bearer: str | None) -> Scope:
    """The Scope of the request's user, with the transaction `session` bound to their tenant
    and region: the one check of a request's credential, for every route (CurrentScope) and
    for the OGC API's routes, which run it in the same thread as their work
    (service/ogc/common.py).

    The credential is `Authorization: Bearer` with a login's token or a personal access token,
    `Authorization: Basic` with the username and a personal access token as the password
    (what QGIS, GDAL and ArcGIS send), or — for pages and maps in a browser — the login
    cookie. Never a URL's query: a token there would end up in proxies' logs and browsers'
    histories. 401 saying why a credential is refused; 403 for a read-only access token
    asking to change something.
    """
    request_id = request_id_var.get()
    basic = basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        username, password = basic
        if not is_access_token(password):
            raise NotAuthenticated(BASIC_NEEDS_TOKEN)
        scope = scope_of_access_token(
            session, token=password, username=username, request_id=request_id
        )
    elif bearer and is_access_token(bearer):
        scope = scope_of_access_token(session, token=bearer, username=None, request_id=request_id)
    else:
        if not bearer and request.method in ("GET", "HEAD"):
            # pages and maps in a browser: the login cookie (HttpOnly, SameSite=Strict); it
            # never authorises a change, which needs the bearer header (no cross-site request
            # forgery)
            bearer = request.cookies.get(TOKEN_COOKIE)
        if not bearer:
            raise NotAuthenticated("authentication required: send Authorization: Bearer <token>")
        settings: Settings = request.app.state.settings
        scope = scope_for_token(request, session, settings, bearer)
    if not scope.can_write and request.method not in READING:
        raise ReadOnly(READ_ONLY)
    request.state.scope = scope
    return scope


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) of an `Authorization: Basic` header; None for another scheme or
    none; 401 for one that cannot be read."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        if len(value) > 1000:  # (an access token and a username fit in a fraction of it)
            raise ValueError
        username, colon, password = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except (ValueError, binascii.Error) as exc:  # (UnicodeDecodeError is a ValueError)
        raise NotAuthenticated(MALFORMED_BASIC) from exc
    if not colon:
        raise NotAuthenticated(MALFORMED_BASIC)
    return username, password


def scope_for_token(request: Request, session: Session, settings: Settings, token: str) -> Scope:
    """The Scope of a password login's bearer token (from the header or the login cookie)."""
    scope = scope_of_login(
        session, token=token, key=settings.signing_key(), request_id=request_id_var.get()
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


async def report_query(
    scope: CurrentScope,
    region: RegionParam = None,
    as_of: AsOfQuery = None,
    level: Level | None = None,
    format: ReportFormat = "json",
) -> ReportQuery:
    return ReportQuery(scope.region(region), as_of, level, format)


ReportParams = Annotated[ReportQuery, Depends(report_query)]
