"""Login sessions: password login with throttling, token refresh with rotation, logout.

An access token (JWT, minutes) names its login session; the session row holds the hash of
a refresh token (hours) and of the ones it replaced. Every request checks the session, so
logout — or deactivating the user — revokes all of the session's tokens at once.

Login and refresh run as a few short transactions of their own rather than in the request's
session: the attempt counters must commit whatever the outcome (accounts/throttle.py), and
no connection may be held while a password hash is checked (argon2 takes tens of
milliseconds of CPU; a storm of logins must not starve other requests of connections or
threads). The hash is checked in a worker thread under a capacity limiter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.accounts import throttle
from service.accounts.models import AuthSession, User
from service.accounts.security import (
    device_of,
    hash_password,
    issue_device_token,
    issue_token,
    needs_rehash,
    new_secret,
    secret_hash,
    secret_matches,
    verify_password,
)
from service.accounts.throttle import Allowance, Rule
from service.core.db import Database, bind_context
from service.core.errors import NotAuthenticated, TooManyAttempts
from service.core.metrics import LOGIN_FAILURES
from service.core.settings import Settings
from service.tenants.models import Tenant, db_region

USER_LIMIT = 5  # attempts per username per window from clients it has not logged in from
DEVICE_LIMIT = 5  # failed attempts per username per window from a client it logged in from
ADDRESS_LIMIT = 30  # failed attempts per client address per window
REFRESH_LIMIT = 30  # failed refreshes per client address per window
PASSWORD_LIMIT = 5  # wrong current passwords per user per window (changing one's password)
ROTATED_KEPT = 64  # refresh secrets a session remembers having replaced (reuse detection)

T = TypeVar("T")


@dataclass
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    device_token: str | None = None


@dataclass(frozen=True)
class Client:
    """Who is knocking: the address, the user agent and a device token if they kept one."""

    ip: str | None
    user_agent: str | None
    request_id: str | None
    device_token: str | None = None


def login_allowances(username: str, client: Client, device: str | None) -> list[Allowance]:
    """A client the user logged in from before has its own allowance: an anonymous client
    that exhausts the username's allowance does not keep the user out of their own browser."""
    if device is not None:
        return [Allowance(f"device:{device}", DEVICE_LIMIT, Rule.FAILURES_RESET)]
    allowances = [Allowance(f"user:{username}", USER_LIMIT, Rule.ATTEMPTS)]
    if client.ip:
        allowances.append(Allowance(f"ip:{client.ip}", ADDRESS_LIMIT, Rule.FAILURES))
    return allowances


async def _in_thread(db: Database, fn: Callable[..., T], *args: Any) -> T:
    """A step that works with `db`, in a thread once the database admits it (at most as many
    at once as its pool has connections: service/core/admission.py)."""
    async with db.admission.admitted():
        return await anyio.to_thread.run_sync(fn, *args)


async def check_password(
    limiter: anyio.CapacityLimiter, password_hash: str | None, password: str
) -> bool:
    """Verify off the event loop, at most `limiter` verifications at a time."""
    return await anyio.to_thread.run_sync(verify_password, password_hash, password, limiter=limiter)


@dataclass(frozen=True)
class _Found:
    tenant_id: int
    user_id: int
    password_hash: str
    is_active: bool


def _lookup(db: Database, username: str) -> _Found | None:
    with db.session() as session:
        row = session.execute(
            text("SELECT * FROM registry_login_lookup(:u)"), {"u": username}
        ).one_or_none()
    return _Found(row.tenant_id, row.user_id, row.password_hash, row.is_active) if row else None


def _bind_user(session: Session, user: User, tenant: Tenant, request_id: str | None) -> None:
    bind_context(
        session,
        tenant_id=user.tenant_id,
        region=db_region(user.region_code, tenant.code),
        user_id=user.id,
        username=user.username,
        role=user.role,
        request_id=request_id,
    )


def _open(
    db: Database, settings: Settings, found: _Found, password: str, client: Client
) -> TokenPair:
    """A new login session of a user whose password was just verified."""
    with db.session() as session:
        bind_context(session, tenant_id=found.tenant_id, region=None, request_id=client.request_id)
        user = session.get_one(User, (found.tenant_id, found.user_id))
        tenant = session.get_one(Tenant, found.tenant_id)
        _bind_user(session, user, tenant, client.request_id)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        secret, digest = new_secret()
        login = AuthSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            refresh_hash=digest,
            expires_at=datetime.now(UTC) + timedelta(hours=settings.refresh_ttl_hours),
            ip=client.ip,
            user_agent=(client.user_agent or "")[:300] or None,
        )
        session.add(login)
        session.flush()
        return _tokens(settings, user, tenant, login, secret)


def _tokens(
    settings: Settings, user: User, tenant: Tenant, login: AuthSession, secret: str
) -> TokenPair:
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = issue_token(
        key=settings.signing_key(),
        user_id=user.id,
        tenant_id=user.tenant_id,
        session_id=login.id,
        username=user.username,
        role=user.role,
        region=db_region(user.region_code, tenant.code),
        ttl=ttl,
    )
    return TokenPair(
        access_token=token,
        expires_in=int(ttl.total_seconds()),
        refresh_token=f"{user.tenant_id}.{login.id}.{secret}",
        refresh_expires_in=int((login.expires_at - datetime.now(UTC)).total_seconds()),
    )


async def login(
    *,
    db: Database,
    settings: Settings,
    limiter: anyio.CapacityLimiter,
    username: str,
    password: str,
    client: Client,
) -> TokenPair:
    """Check a password (throttled) and open a login session; the pair carries a device
    token for the client to present at its next login."""
    name = username.strip().lower()[:64]
    device = device_of(client.device_token, key=settings.signing_key(), username=name)
    allowances = login_allowances(name, client, device)
    try:
        reservation = await _in_thread(
            db, lambda: throttle.reserve(db.counters, allowances, what="login attempts")
        )
    except TooManyAttempts:
        LOGIN_FAILURES.labels(reason="throttled").inc()
        raise
    found = await _in_thread(db, _lookup, db, name)
    ok = await check_password(limiter, found.password_hash if found else None, password)
    if not ok or found is None or not found.is_active:
        LOGIN_FAILURES.labels(reason="wrong_credentials").inc()
        raise NotAuthenticated("wrong username or password")
    pair = await _in_thread(db, _open, db, settings, found, password, client)
    await _in_thread(db, lambda: throttle.settle(db.counters, reservation, success=True))
    pair.device_token = issue_device_token(
        key=settings.signing_key(), username=name, device_id=device
    )
    return pair


def _parse_refresh(token: str) -> tuple[int, int, str]:
    try:
        tenant_part, session_part, secret = token.split(".", 2)
        tenant_id, session_id = int(tenant_part), int(session_part)
    except ValueError as exc:
        raise NotAuthenticated("invalid refresh token") from exc
    if not (0 < tenant_id < 2**31 and 0 < session_id < 2**63) or not secret:
        raise NotAuthenticated("invalid refresh token")
    return tenant_id, session_id, secret


def _rotate(
    db: Database, settings: Settings, token: str, request_id: str | None
) -> TokenPair | str:
    """The new pair, or why the token was refused (a reuse ends the session, committed)."""
    tenant_id, session_id, secret = _parse_refresh(token)
    with db.session() as session:
        bind_context(session, tenant_id=tenant_id, region=None, request_id=request_id)
        login = session.scalar(
            select(AuthSession)
            .where(AuthSession.tenant_id == tenant_id, AuthSession.id == session_id)
            .with_for_update()
        )
        now = datetime.now(UTC)
        if login is None or login.revoked_at is not None or login.expires_at <= now:
            return "the session has ended; log in again"
        if not secret_matches(login.refresh_hash, secret):
            if secret_hash(secret) in login.rotated_hashes:
                # a refresh token this session issued and already replaced: stolen or
                # replayed. End the session (committed with the block).
                login.revoked_at, login.revoked_reason = now, "refresh token reused"
                return "refresh token already used; the session was ended"
            return "invalid refresh token"  # never issued here: nothing to end
        user = session.get_one(User, (tenant_id, login.user_id))
        tenant = session.get_one(Tenant, tenant_id)
        if not user.is_active:
            return "the account is disabled"
        _bind_user(session, user, tenant, request_id)
        fresh, digest = new_secret()
        login.rotated_hashes = [*login.rotated_hashes, login.refresh_hash][-ROTATED_KEPT:]
        login.refresh_hash, login.last_used_at = digest, now
        session.flush()
        return _tokens(settings, user, tenant, login, fresh)


async def refresh(*, db: Database, settings: Settings, token: str, client: Client) -> TokenPair:
    """A new access token and a rotated refresh token; a reused refresh token ends the session.
    Failed refreshes are limited per client address."""
    allowance = [Allowance(f"refresh-ip:{client.ip or '-'}", REFRESH_LIMIT, Rule.FAILURES)]
    reservation = await _in_thread(
        db, lambda: throttle.reserve(db.counters, allowance, what="failed token refreshes")
    )
    outcome = await _in_thread(db, _rotate, db, settings, token, client.request_id)
    if isinstance(outcome, str):
        raise NotAuthenticated(outcome)
    await _in_thread(db, lambda: throttle.settle(db.counters, reservation, success=True))
    return outcome


def logout(
    *, session: Session, tenant_id: int, user_id: int, session_id: int, everywhere: bool
) -> int:
    """Revoke this login session (or all of the user's); returns how many were revoked."""
    where = [AuthSession.tenant_id == tenant_id, AuthSession.revoked_at.is_(None)]
    where += [AuthSession.user_id == user_id] if everywhere else [AuthSession.id == session_id]
    result = session.execute(
        update(AuthSession)
        .where(*where)
        .values(revoked_at=datetime.now(UTC), revoked_reason="logout")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_user_sessions(
    session: Session, *, tenant_id: int, user_id: int, reason: str, keep: int | None = None
) -> None:
    """End every login session of a user (but `keep`, the one asking, if given)."""
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.tenant_id == tenant_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.id != (keep or 0),
        )
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
