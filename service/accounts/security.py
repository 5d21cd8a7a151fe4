"""Password hashing (argon2id via argon2-cffi) and bearer tokens (JWT via PyJWT)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user like a real one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
TOKEN_ALGORITHM = "HS256"
TOKEN_AUDIENCE = "registry-api"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always does the work of one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def issue_token(
    *,
    key: str,
    user_id: int,
    tenant_id: int,
    session_id: int,
    username: str,
    role: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A signed access token of login session `session_id`, and its expiry time."""
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    claims = {
        "sub": str(user_id),
        "tid": tenant_id,
        "sid": session_id,
        "usr": username,
        "rol": role,
        "aud": TOKEN_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM), expires


def decode_token(token: str, *, key: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token, or None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[TOKEN_ALGORITHM],
            audience=TOKEN_AUDIENCE,
            options={"require": ["sub", "tid", "sid", "exp", "iat"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def new_refresh_secret() -> tuple[str, bytes]:
    """A refresh secret for the client and the hash we keep (we never store the secret)."""
    secret = secrets.token_urlsafe(32)
    return secret, refresh_hash(secret)


def refresh_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def refresh_matches(stored: bytes, secret: str) -> bool:
    return hmac.compare_digest(stored, refresh_hash(secret))
