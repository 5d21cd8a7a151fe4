"""User accounts: each belongs to one tenant, has one role and one home region."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.accounts.roles import Role
from service.core.columns import Moment, RowId, TenantKey, WrittenAt, tenant_reference
from service.core.db import Base

_ROLES = ", ".join(f"'{r.value}'" for r in Role)


class User(Base):
    """A login. Usernames are unique across tenants so that login needs no tenant field."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES})", name="role_valid"),
        CheckConstraint("username ~ '^[a-z0-9_.@-]{3,64}$'", name="username_format"),
        CheckConstraint(
            "region_code ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})$'", name="region_format"
        ),
        Index("uq_users_username", text("lower(username)"), unique=True),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(Text, server_default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(24))
    region_code: Mapped[str] = mapped_column(String(9))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[WrittenAt]


class AuthSession(Base):
    """A login: the refresh token's hash; revoking it ends every token of the session."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        tenant_reference("fk_auth_sessions_user", ondelete="CASCADE", user_id="users.id"),
        Index("ix_auth_sessions_user", "tenant_id", "user_id"),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    user_id: Mapped[int] = mapped_column(BigInteger)
    refresh_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # the refresh secrets this session issued and then replaced: presenting one of them is a
    # reuse (a stolen token) and ends the session; any other wrong secret is only refused
    rotated_hashes: Mapped[list[bytes]] = mapped_column(
        ARRAY(LargeBinary), server_default=text("'{}'")
    )
    created_at: Mapped[WrittenAt]
    expires_at: Mapped[Moment]
    last_used_at: Mapped[Moment | None]
    revoked_at: Mapped[Moment | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)


class LoginFailure(Base):
    """Failed-login counter per key ("user:<name>" or "ip:<address>") within a time window."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[Moment]
    failures: Mapped[int] = mapped_column(Integer)


class AccessToken(Base):
    """A personal access token: what a desktop client or a script presents instead of a
    login (accounts/access_tokens.py). Only the SHA-256 of its secret is kept; it acts as its
    user, with the user's role and region as they are at each request, and only reads unless
    `can_write`."""

    __tablename__ = "access_tokens"
    __table_args__ = (
        tenant_reference("fk_access_tokens_user", ondelete="CASCADE", user_id="users.id"),
        Index("ix_access_tokens_user", "tenant_id", "user_id"),
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),
        CheckConstraint("octet_length(secret_hash) = 32", name="secret_hash_sha256"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    tenant_id: Mapped[TenantKey]
    id: Mapped[RowId]
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # the secret's first characters: after the tenant and id that precede the secret in the
    # token they make its visible beginning (rgt_1_17_Ab3x…), by which a user recognises it
    prefix: Mapped[str] = mapped_column(String(8))
    can_write: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[WrittenAt]
    expires_at: Mapped[Moment]
    last_used_at: Mapped[Moment | None]
    revoked_at: Mapped[Moment | None]
