"""Login sessions: password login with throttling, token refresh with rotation, logout.

An access token (JWT, minutes) names its login session; the session row holds the hash of
a refresh token (hours). Every request checks the session, so logout — or deactivating the
user — revokes all of the session's tokens at once. Failed logins are counted per username
and per client address in their own transaction (the failing request itself rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.accounts.models import AuthSession, User
from service.accounts.security import (
    hash_password,
    issue_token,
    needs_rehash,
    new_refresh_secret,
    refresh_matches,
    verify_password,
)
from service.db import Database, bind_context
from service.errors import NotAuthenticated, TooManyAttempts
from service.settings import Settings

WINDOW = timedelta(minutes=15)
USER_LIMIT = 5  # failed logins per username per window
ADDRESS_LIMIT = 30  # failed logins per client address per window


@dataclass
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _throttle_keys(username: str, ip: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:64]}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def check_throttle(session: Session, keys: list[str]) -> None:
    """429 while a username or an address has too many recent failures."""
    rows = session.execute(
        text(
            "SELECT key, failures, window_start FROM login_failures"
            " WHERE key = ANY(:keys) AND window_start > now() - make_interval(secs => :window)"
        ),
        {"keys": keys, "window": WINDOW.total_seconds()},
    ).all()
    for row in rows:
        limit = USER_LIMIT if row.key.startswith("user:") else ADDRESS_LIMIT
        if row.failures >= limit:
            retry = int((row.window_start + WINDOW - datetime.now(UTC)).total_seconds()) + 1
            raise TooManyAttempts(
                f"too many failed logins; try again in {max(retry, 1)} s",
                {"retry_after": max(retry, 1)},
                headers={"Retry-After": str(max(retry, 1))},
            )


def record_failure(db: Database, keys: list[str]) -> None:
    """Count a failed login, committed on its own (the request's transaction rolls back)."""
    with db.engine.begin() as conn:
        for key in keys:
            conn.execute(
                text(
                    "INSERT INTO login_failures AS f (key, window_start, failures)"
                    " VALUES (:key, now(), 1) ON CONFLICT (key) DO UPDATE SET"
                    "  failures = CASE WHEN f.window_start <= now() - make_interval(secs => :w)"
                    "                  THEN 1 ELSE f.failures + 1 END,"
                    "  window_start = CASE WHEN f.window_start <= now() - make_interval(secs => :w)"
                    "                      THEN now() ELSE f.window_start END"
                ),
                {"key": key, "w": WINDOW.total_seconds()},
            )
        conn.execute(
            text("DELETE FROM login_failures WHERE window_start < now() - interval '1 day'")
        )


def clear_failures(db: Database, key: str) -> None:
    """Forget a username's failures after a good login (own transaction, like counting)."""
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM login_failures WHERE key = :k"), {"k": key})


def _open(
    session: Session,
    settings: Settings,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair:
    secret, digest = new_refresh_secret()
    refresh_ttl = timedelta(hours=settings.refresh_ttl_hours)
    login = AuthSession(
        tenant_id=user.tenant_id,
        user_id=user.id,
        refresh_hash=digest,
        expires_at=datetime.now(UTC) + refresh_ttl,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(login)
    session.flush()
    return _tokens(settings, user, login, secret)


def _tokens(settings: Settings, user: User, login: AuthSession, secret: str) -> TokenPair:
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = issue_token(
        key=settings.signing_key(),
        user_id=user.id,
        tenant_id=user.tenant_id,
        session_id=login.id,
        username=user.username,
        role=user.role,
        ttl=ttl,
    )
    return TokenPair(
        access_token=token,
        expires_in=int(ttl.total_seconds()),
        refresh_token=f"{user.tenant_id}.{login.id}.{secret}",
        refresh_expires_in=int((login.expires_at - datetime.now(UTC)).total_seconds()),
    )


def login(
    *,
    session: Session,
    db: Database,
    settings: Settings,
    username: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    request_id: str | None,
) -> TokenPair:
    """Check a password (throttled) and open a login session."""
    keys = _throttle_keys(username, ip)
    check_throttle(session, keys)
    found = session.execute(
        text("SELECT * FROM registry_login_lookup(:u)"), {"u": username.strip()[:64]}
    ).one_or_none()
    ok = verify_password(found.password_hash if found else None, password)
    if not ok or found is None or not found.is_active:
        record_failure(db, keys)
        raise NotAuthenticated("wrong username or password")
    bind_context(session, tenant_id=found.tenant_id, user_id=found.user_id, request_id=request_id)
    user = session.get_one(User, (found.tenant_id, found.user_id))
    bind_context(
        session,
        tenant_id=user.tenant_id,
        user_id=user.id,
        username=user.username,
        role=user.role,
        request_id=request_id,
    )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    clear_failures(db, keys[0])
    return _open(session, settings, user, ip=ip, user_agent=user_agent)


def refresh(
    *, session: Session, settings: Settings, token: str, request_id: str | None
) -> TokenPair:
    """A new access token and a rotated refresh token; a reused refresh token ends the session."""
    try:
        tenant_part, session_part, secret = token.split(".", 2)
        tenant_id, session_id = int(tenant_part), int(session_part)
    except ValueError as exc:
        raise NotAuthenticated("invalid refresh token") from exc
    if not (0 < tenant_id < 2**31 and 0 < session_id < 2**63):
        raise NotAuthenticated("invalid refresh token")
    bind_context(session, tenant_id=tenant_id, request_id=request_id)
    login = session.scalar(
        select(AuthSession)
        .where(AuthSession.tenant_id == tenant_id, AuthSession.id == session_id)
        .with_for_update()
    )
    now = datetime.now(UTC)
    if login is None or login.revoked_at is not None or login.expires_at <= now:
        raise NotAuthenticated("the session has ended; log in again")
    if not refresh_matches(login.refresh_hash, secret):
        # A refresh token that was already rotated: stolen or replayed. End the session.
        login.revoked_at, login.revoked_reason = now, "refresh token reused"
        session.commit()  # the revocation must outlive the 401 that this request ends with
        raise NotAuthenticated("refresh token already used; the session was ended")
    user = session.get_one(User, (tenant_id, login.user_id))
    if not user.is_active:
        raise NotAuthenticated("the account is disabled")
    new_secret, digest = new_refresh_secret()
    login.refresh_hash, login.last_used_at = digest, now
    session.flush()
    return _tokens(settings, user, login, new_secret)


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


def revoke_user_sessions(session: Session, *, tenant_id: int, user_id: int, reason: str) -> None:
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.tenant_id == tenant_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
