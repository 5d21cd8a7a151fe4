"""Password hashing (argon2id via argon2-cffi), bearer tokens (JWT via PyJWT) and the secrets
of refresh and access tokens (random, kept as SHA-256)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
TOKEN_ALGORITHM = "HS256"
TOKEN_AUDIENCE = "registry-api"


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of a login for an unknown user like a real one.
    Made by the first login, not at import: argon2id takes 64 MiB for a moment, which a
    worker that serves no login never needs to hold."""
    return _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always does the work of one verification."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
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
    region: str | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A signed access token of login session `session_id`, and its expiry time. `region`
    (the row-level-security region of the user) saves each request a second binding; the
    request checks it against the user's row all the same."""
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    claims = {
        "sub": str(user_id),
        "tid": tenant_id,
        "sid": session_id,
        "usr": username,
        "rol": role,
        **({"reg": region} if region is not None else {}),
        "aud": TOKEN_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM), expires


def decode_token(token: str, *, key: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token, or None. A token found valid is kept with its
    claims (checking its signature again was a tenth of a small request's time); its expiry
    is checked at every use. Whether its login session still stands is the database's to
    say, at every request (service/accounts/credentials.py)."""
    try:
        claims = _verified(token, key)
    except jwt.PyJWTError:
        return None
    if claims["exp"] <= time.time():
        return None
    return dict(claims)


@lru_cache(maxsize=4096)  # (an invalid token raises: it is not kept)
def _verified(token: str, key: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[TOKEN_ALGORITHM],
        audience=TOKEN_AUDIENCE,
        options={"require": ["sub", "tid", "sid", "exp", "iat"]},
    )
    return claims


SECRET_BYTES = 32


def new_secret() -> tuple[str, bytes]:
    """A secret for the client (a refresh token's, an access token's: 32 random bytes,
    base64url) and the hash we keep (we never store the secret)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secret, secret_hash(secret)


def secret_hash(secret: str) -> bytes:
    """SHA-256: a secret of 32 random bytes cannot be guessed, so a slow hash (as for
    passwords) would only cost every request time."""
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(stored: bytes, secret: str) -> bool:
    """Whether `secret` is the one `stored` was made from (in constant time)."""
    return hmac.compare_digest(stored, secret_hash(secret))


DEVICE_AUDIENCE = "registry-device"
DEVICE_TTL = timedelta(days=180)


def issue_device_token(*, key: str, username: str, device_id: str | None = None) -> str:
    """A token a client keeps after logging in as `username`: presented with a later login of
    the same user it marks a client the user has used before (see accounts/throttle.py)."""
    now = datetime.now(UTC)
    claims = {
        "usr": username.lower(),
        "did": device_id or secrets.token_urlsafe(16),
        "aud": DEVICE_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + DEVICE_TTL).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM)


def device_of(token: str | None, *, key: str, username: str) -> str | None:
    """The device id of a valid device token issued for `username`, else None."""
    if not token or len(token) > 1000:
        return None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[TOKEN_ALGORITHM],
            audience=DEVICE_AUDIENCE,
            options={"require": ["usr", "did", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    did = claims.get("did")
    if claims.get("usr") != username.lower() or not isinstance(did, str) or len(did) > 64:
        return None
    return did
