"""Who a request's credential says it is: a password login's bearer token (a JWT naming its
login session) or a personal access token (`accounts/access_tokens.py`).

Either way the same steps: bind the transaction to the credential's tenant and look the user
up together with their tenant and the credential's row, in one round trip (`_find`); check
the credential; then (`_scope_of`) check the user, bind the transaction to them as the
database knows them now (region, role: row-level security and the audit trail read them) and
build the Scope. A read-only
access token's transaction is then made read-only as well: after its last use is written,
nothing else can be. `service/http/deps.py` reads the credential from the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from service.accounts import access_tokens
from service.accounts.models import AccessToken, AuthSession, User
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.accounts.security import decode_token, secret_matches
from service.core.db import WHOLE_TENANT, bind_context
from service.core.errors import NotAuthenticated
from service.tenants.models import DEFAULT_REQUIRED_KINDS, Tenant, db_region

DISABLED = "the account no longer exists or is disabled"


def _user_with(credential: type[AuthSession] | type[AccessToken], *columns: Any) -> Select[Any]:
    """The user, their tenant and `columns` of the credential's row `:credential_id`, in
    tenant `:tenant_id` (built once: this runs on every request)."""
    return (
        select(User, Tenant, *columns)
        .join(Tenant, Tenant.id == User.tenant_id)
        .join(
            credential,
            (credential.tenant_id == User.tenant_id)
            & (credential.user_id == User.id)
            & (credential.id == bindparam("credential_id")),
        )
        .where(User.tenant_id == bindparam("tenant_id"))
    )


_LOGIN = _user_with(AuthSession, AuthSession.revoked_at, AuthSession.expires_at).where(
    User.id == bindparam("user_id")
)
_TOKEN = _user_with(
    AccessToken,
    AccessToken.secret_hash,
    AccessToken.revoked_at,
    AccessToken.expires_at,
    AccessToken.last_used_at,
    AccessToken.can_write,
)


Claimed = tuple[str | None, str | None, str | None]  # region, username, role


def _find(
    session: Session,
    *,
    tenant_id: int,
    lookup: Select[Any],
    params: dict[str, Any],
    claimed: Claimed | None,
    request_id: str | None,
) -> Row[Any] | None:
    """The user a credential names, with their tenant and the credential's row, for either
    kind of credential. The transaction is bound first to the tenant and to what the
    credential `claimed` of its user (None: nothing yet) — enough for the lookup."""
    region, username, role = claimed or (None, None, None)
    bind_context(
        session,
        tenant_id=tenant_id,
        region=region,
        user_id=params.get("user_id"),
        username=username,
        role=role,
        request_id=request_id,
    )
    return session.execute(lookup, {"tenant_id": tenant_id, **params}).one_or_none()


def _scope_of(
    session: Session,
    row: Row[Any],
    *,
    claimed: Claimed | None,
    request_id: str | None,
    session_id: int = 0,
    access_token_id: int | None = None,
    can_write: bool = True,
) -> Scope:
    """The Scope of the user `_find` found (401 if disabled), for either kind of credential;
    the transaction bound again to the user as found if that is not as claimed, and made
    read-only for a read-only credential."""
    user, tenant = row.User, row.Tenant
    if not user.is_active:
        raise NotAuthenticated(DISABLED)
    region = db_region(user.region_code, tenant.code)
    if (region, user.username, user.role) != claimed or not can_write:
        bind_context(
            session,
            tenant_id=tenant.id,
            region=region,
            user_id=user.id,
            username=user.username,
            role=user.role,
            request_id=request_id,
            read_only=not can_write,
        )
    return Scope(
        user_id=user.id,
        username=user.username,
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        role=Role(user.role),
        region_code=user.region_code,
        session_id=session_id,
        required_kinds=tuple(tenant.required_kinds or DEFAULT_REQUIRED_KINDS),
        access_token_id=access_token_id,
        can_write=can_write,
    )


def scope_of_login(session: Session, *, token: str, key: str, request_id: str | None) -> Scope:
    """The Scope of a password login's bearer token: 401 when it is invalid or expired, its
    login session was revoked (logout) or has ended, or the user was disabled."""
    claims = decode_token(token, key=key)
    if claims is None:
        raise NotAuthenticated("invalid or expired token")
    try:
        user_id, tenant_id, session_id = int(claims["sub"]), int(claims["tid"]), int(claims["sid"])
    except (TypeError, ValueError) as exc:
        raise NotAuthenticated("invalid token") from exc
    if not (0 < tenant_id < 2**31 and 0 < user_id < 2**63 and 0 < session_id < 2**63):
        raise NotAuthenticated("invalid token")
    region = claims.get("reg")
    if not isinstance(region, str) or not (region == WHOLE_TENANT or region.isdigit()):
        region = None  # learnt from the user's row
    claimed = (region, claims.get("usr"), claims.get("rol"))
    row = _find(
        session,
        tenant_id=tenant_id,
        lookup=_LOGIN,
        params={"user_id": user_id, "credential_id": session_id},
        claimed=claimed,
        request_id=request_id,
    )
    if row is None:
        raise NotAuthenticated(DISABLED)
    if row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("the login session has ended; log in again")
    return _scope_of(session, row, claimed=claimed, request_id=request_id, session_id=session_id)


def scope_of_access_token(
    session: Session, *, token: str, username: str | None, request_id: str | None
) -> Scope:
    """The Scope of a personal access token (with `username`: sent as HTTP Basic's password
    by that user): 401 saying why when it is malformed, unknown, wrong, revoked or expired,
    the username is not its user's, or the user was disabled. Its use is recorded (once a
    minute at most; a refused request rolls it back); a read-only token's transaction is
    read-only from then on."""
    presented = access_tokens.parse_token(token)
    row = _find(
        session,
        tenant_id=presented.tenant_id,
        lookup=_TOKEN,
        params={"credential_id": presented.token_id},
        claimed=None,
        request_id=request_id,
    )
    # (the secret first: only its holder learns whose it is and whether it still works)
    if row is None or not secret_matches(row.secret_hash, presented.secret):
        raise NotAuthenticated("invalid access token")
    if username is not None and username.strip().lower() != row.User.username:
        raise NotAuthenticated("the username is not that of the access token's user")
    if row.revoked_at is not None:
        raise NotAuthenticated("this access token was revoked")
    now = datetime.now(UTC)
    if row.expires_at <= now:
        raise NotAuthenticated(f"this access token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    if row.last_used_at is None or now - row.last_used_at >= access_tokens.LAST_USE_EVERY:
        access_tokens.record_use(session, presented)
    return _scope_of(
        session,
        row,
        claimed=None,
        request_id=request_id,
        access_token_id=presented.token_id,
        can_write=row.can_write,
    )
