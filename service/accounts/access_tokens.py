"""Personal access tokens: a user creates them for themselves (the token is shown once), lists
and revokes them; and the form of a token a request presents.

What QGIS, GDAL, ArcGIS and scripts send instead of logging in: `Authorization: Bearer
<token>`, or HTTP Basic with the username and the token as the password. A token reads
`rgt_<tenant id>_<token id>_<secret>`: the tenant comes first so that a request can bind its
transaction to the tenant (row-level security) before looking the token up by its id
(`accounts/credentials.py`); the secret is 32 random bytes, of which only the SHA-256 is kept.
The secret is never stored, logged or audited, and no `repr` shows it.

A token acts as its user — their role and region as they are at each request — and only
reads unless created with `write`. Creating one needs a password login: a token cannot make
tokens (a stolen one would otherwise outlive its revocation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, or_, select, update
from sqlalchemy.orm import Session

from service.accounts.models import AccessToken
from service.accounts.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenOut,
    TokenState,
)
from service.accounts.scope import Scope
from service.accounts.security import new_secret
from service.audit import service as audit
from service.core.errors import Conflict, NotAuthenticated, NotFound

TOKEN_PREFIX = "rgt_"
PREFIX_CHARS = 4  # of the secret, kept for the user to recognise a token by
MAX_ACTIVE = 20  # unrevoked, unexpired tokens a user may hold at once
LAST_USE_EVERY = timedelta(minutes=1)  # last use is written at most this often per token
ENTITY = "access_tokens"  # in the audit trail
MALFORMED = f"malformed access token: expected {TOKEN_PREFIX}<tenant>_<id>_<secret>"
_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of 32 bytes, unpadded


@dataclass(frozen=True)
class PresentedToken:
    """A token as a request presented it, read but not yet checked."""

    tenant_id: int
    token_id: int
    secret: str = field(repr=False)


def is_access_token(credential: str) -> bool:
    """Whether a credential is meant as an access token (and not a login's bearer token)."""
    return credential.startswith(TOKEN_PREFIX)


def parse_token(token: str) -> PresentedToken:
    """The parts of a token; 401 naming the expected form when it has another (the message
    never repeats what was sent)."""
    tenant, token_id, secret = [*token.removeprefix(TOKEN_PREFIX).split("_", 2), "", ""][:3]
    if not (
        is_access_token(token)
        and _ID.match(tenant)
        and _ID.match(token_id)
        and _SECRET.match(secret)
        and int(tenant) < 2**31
        and int(token_id) < 2**63
    ):
        raise NotAuthenticated(MALFORMED)
    return PresentedToken(int(tenant), int(token_id), secret)


def _prefix(row: AccessToken) -> str:
    """The token's first characters (rgt_1_17_Ab3x), which its list shows."""
    return f"{TOKEN_PREFIX}{row.tenant_id}_{row.id}_{row.prefix}"


def state_of(row: AccessToken, now: datetime) -> TokenState:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "active"


def token_out(row: AccessToken, now: datetime) -> AccessTokenOut:
    return AccessTokenOut(
        id=row.id,
        name=row.name,
        prefix=_prefix(row),
        write=row.can_write,
        state=state_of(row, now),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _audit(session: Session, scope: Scope, action: str, row: AccessToken) -> None:
    """An audit event of the token: which one and what it may do, never its secret or hash."""
    audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=action,
        entity_type=ENTITY,
        entity_id=str(row.id),
        region_code=scope.region_code,
        after={
            "id": row.id,
            "name": row.name,
            "prefix": _prefix(row),
            "user_id": row.user_id,
            "expires_at": row.expires_at,
            "write": row.can_write,
            "revoked_at": row.revoked_at,
        },
    )


def _callers(scope: Scope) -> list[ColumnElement[bool]]:
    """The tokens of the user who asks: a user reaches only their own."""
    return [AccessToken.tenant_id == scope.tenant_id, AccessToken.user_id == scope.user_id]


def create_token(*, session: Session, scope: Scope, data: AccessTokenCreate) -> AccessTokenCreated:
    """A new token of the caller's, with the token itself (shown this once). Audited."""
    scope.require_interactive("creating an access token")
    active = (AccessToken.revoked_at.is_(None), AccessToken.expires_at > func.now())
    held = session.scalar(select(func.count()).where(*_callers(scope), *active)) or 0
    if held >= MAX_ACTIVE:
        raise Conflict(
            f"you hold {MAX_ACTIVE} active access tokens, the most allowed: revoke one first",
            {"limit": MAX_ACTIVE},
        )
    secret, digest = new_secret()
    row = session.scalars(
        insert(AccessToken)
        .values(
            tenant_id=scope.tenant_id,
            user_id=scope.user_id,
            name=data.name,
            secret_hash=digest,
            prefix=secret[:PREFIX_CHARS],
            can_write=data.write,
            # (the database's clock, as created_at's: expiry is a whole number of days later)
            expires_at=func.now() + timedelta(days=data.expires_in_days),
        )
        .returning(AccessToken)
    ).one()
    _audit(session, scope, "create", row)
    out = token_out(row, datetime.now(UTC))
    return AccessTokenCreated(
        **out.model_dump(), token=f"{TOKEN_PREFIX}{row.tenant_id}_{row.id}_{secret}"
    )


def list_tokens(*, session: Session, scope: Scope) -> list[AccessTokenOut]:
    """The caller's own tokens, newest first: active, expired and revoked."""
    rows = session.scalars(
        select(AccessToken).where(*_callers(scope)).order_by(AccessToken.id.desc())
    )
    now = datetime.now(UTC)
    return [token_out(row, now) for row in rows]


def revoke_token(*, session: Session, scope: Scope, token_id: int) -> None:
    """Revoke one of the caller's tokens: it stops working at once. Revoking it again does
    nothing; another user's token is not found. The first revocation is audited."""
    mine = [*_callers(scope), AccessToken.id == token_id]
    revoked = session.scalars(
        update(AccessToken)
        .where(*mine, AccessToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(AccessToken)
    ).one_or_none()
    if revoked is not None:
        _audit(session, scope, "revoke", revoked)
        return
    if session.scalar(select(AccessToken.id).where(*mine)) is None:
        raise NotFound(f"you have no access token {token_id}")


def record_use(session: Session, presented: PresentedToken) -> None:
    """Note that the token was used now — unless that was noted in the last minute, or another
    request is noting it at this moment (SKIP LOCKED: a burst of requests waits on nothing)."""
    stale = (
        select(AccessToken.id)
        .where(
            AccessToken.tenant_id == presented.tenant_id,
            AccessToken.id == presented.token_id,
            or_(
                AccessToken.last_used_at.is_(None),
                AccessToken.last_used_at < func.now() - LAST_USE_EVERY,
            ),
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    session.execute(
        update(AccessToken)
        .where(AccessToken.tenant_id == presented.tenant_id, AccessToken.id == stale)
        .values(last_used_at=func.now())
    )
