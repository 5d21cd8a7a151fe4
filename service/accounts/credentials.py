"""Who a request's credential says it is: a password login's bearer token (a JWT naming its
login session) or a personal access token (`accounts/access_tokens.py`).

Either way one statement, the same for both: look up the user the credential names, their
tenant and the credential's row (through a narrow database function: the request has no
tenant bound yet for row-level security to admit it, migrations/versions/…0023), and bind
the transaction to that tenant and user as the database knows them now (region, role, name:
row-level security and the audit trail read them). The credential is checked after that
statement: when it is refused, the request fails and its transaction, settings included, is
rolled back before anything else runs in it. A read-only access token's transaction is made
read-only by the same statement (or, once a minute, right after its last use is written).
`service/http/deps.py` reads the credential from the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableValuedAlias

from service.accounts import access_tokens
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.accounts.security import decode_token, secret_matches
from service.core.db import Precompiled, context_settings, make_read_only
from service.core.errors import NotAuthenticated
from service.tenants.models import DEFAULT_REQUIRED_KINDS, db_region_of

DISABLED = "the account no longer exists or is disabled"

_TENANT = bindparam("tenant_id", type_=Integer)
# the same tenant as text, for its setting: cast from `_TENANT` in the statement, PostgreSQL
# re-planned the whole statement at every run (custom plans; pg_prepared_statements counted
# no generic one), which cost each request ≈0.035 ms more of the database's CPU
_TENANT_TEXT = bindparam("tenant_text", type_=Text)
_CREDENTIAL = bindparam("credential_id", type_=BigInteger)
_USER = (
    column("user_id", BigInteger),
    column("username", Text),
    column("role", Text),
    column("region_code", Text),
    column("is_active", Boolean),
    column("tenant_code", Text),
    column("tenant_name", Text),
    column("required_kinds", ARRAY(Text)),
)
_MOMENT = DateTime(timezone=True)


def _bound(found: TableValuedAlias) -> Select[Any]:
    """All of what `found` (a credential lookup's one row, or none) returns, binding the
    transaction to its tenant and user (built once: this runs on every request)."""
    c = found.c
    return select(
        found,
        *context_settings(
            {
                "tenant_id": _TENANT_TEXT,
                "region": db_region_of(c.region_code, c.tenant_code),
                "user_id": cast(c.user_id, Text),
                "username": c.username,
                "role": c.role,
                "request_id": bindparam("request_id", type_=Text),
            }
        ),
    )


_LOGIN = Precompiled(
    _bound(
        func.registry_login_of(_TENANT, bindparam("user_id", type_=BigInteger), _CREDENTIAL)
        .table_valued(*_USER, column("revoked_at", _MOMENT), column("expires_at", _MOMENT))
        .alias("found")
    )
)
_TOKEN_ROW = (
    func.registry_access_token_of(_TENANT, _CREDENTIAL)
    .table_valued(
        *_USER,
        column("secret_hash", LargeBinary),
        column("revoked_at", _MOMENT),
        column("expires_at", _MOMENT),
        column("can_write", Boolean),
        column("last_used_at", _MOMENT),
    )
    .alias("found")
)
# whether the token's last use is to be written now (as `record_use` decides it)
_STALE_USE = or_(
    _TOKEN_ROW.c.last_used_at.is_(None),
    _TOKEN_ROW.c.last_used_at < func.now() - literal(access_tokens.LAST_USE_EVERY),
)
_TOKEN = Precompiled(
    _bound(_TOKEN_ROW).add_columns(
        _STALE_USE.label("stale_use"),
        # read-only from here on, unless the last use must be written first
        case(
            (
                and_(~_TOKEN_ROW.c.can_write, ~_STALE_USE),
                func.set_config("transaction_read_only", "on", True),
            )
        ).label("made_read_only"),
    )
)


def _find(
    session: Session,
    *,
    tenant_id: int,
    lookup: Precompiled,
    params: dict[str, Any],
    request_id: str | None,
) -> Any:
    """The user a credential names, with their tenant and the credential's row, for either
    kind of credential; the transaction bound to them by the same statement."""
    values = {
        "tenant_id": tenant_id,
        "tenant_text": str(tenant_id),
        "request_id": request_id or "",
        **params,
    }
    return lookup.one_or_none(session, values)


def _scope_of(
    row: Any,
    *,
    tenant_id: int,
    session_id: int = 0,
    access_token_id: int | None = None,
    can_write: bool = True,
) -> Scope:
    """The Scope of the user `_find` found (401 if disabled), for either kind of credential."""
    if not row.is_active:
        raise NotAuthenticated(DISABLED)
    return Scope(
        user_id=row.user_id,
        username=row.username,
        tenant_id=tenant_id,
        tenant_code=row.tenant_code,
        tenant_name=row.tenant_name,
        role=Role(row.role),
        region_code=row.region_code,
        session_id=session_id,
        required_kinds=tuple(row.required_kinds or DEFAULT_REQUIRED_KINDS),
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
    row = _find(
        session,
        tenant_id=tenant_id,
        lookup=_LOGIN,
        params={"user_id": user_id, "credential_id": session_id},
        request_id=request_id,
    )
    if row is None:
        raise NotAuthenticated(DISABLED)
    if row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("the login session has ended; log in again")
    return _scope_of(row, tenant_id=tenant_id, session_id=session_id)


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
        request_id=request_id,
    )
    # (the secret first: only its holder learns whose it is and whether it still works)
    if row is None or not secret_matches(row.secret_hash, presented.secret):
        raise NotAuthenticated("invalid access token")
    if username is not None and username.strip().lower() != row.username:
        raise NotAuthenticated("the username is not that of the access token's user")
    if row.revoked_at is not None:
        raise NotAuthenticated("this access token was revoked")
    now = datetime.now(UTC)
    if row.expires_at <= now:
        raise NotAuthenticated(f"this access token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    if row.stale_use:
        access_tokens.record_use(session, presented)
        if not row.can_write:
            make_read_only(session)
    return _scope_of(
        row,
        tenant_id=presented.tenant_id,
        access_token_id=presented.token_id,
        can_write=row.can_write,
    )
