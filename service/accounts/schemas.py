"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.accounts.roles import Role
from service.core.text import NO_CONTROL_CHARS
from service.divisions.codes import RegionCode

Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    device_token: str | None = Field(
        default=None,
        description="keep it and send it with your next login (form field device_token): "
        "failed logins from other clients then cannot lock you out",
    )


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class LogoutOut(BaseModel):
    revoked_sessions: int


class TenantRef(BaseModel):
    code: str
    name: str


class MeOut(BaseModel):
    username: str
    role: str
    region_code: str
    tenant: TenantRef
    actions: list[str]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, StringConstraints(max_length=256)]
    new_password: Password


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{3,64}$")]
    password: Password
    role: Role
    region_code: RegionCode | None = Field(default=None, description="default: the whole tenant")
    display_name: Annotated[str, StringConstraints(max_length=100)] = ""


class UserUpdate(BaseModel):
    """Fields to change; a new password or deactivation ends the user's login sessions."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    role: Role | None = None
    region_code: RegionCode | None = None
    display_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    region_code: str
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    total: int


class AccessTokenCreate(BaseModel):
    """A personal access token to create: what it is for, how long it lives, whether it may
    change data (by default it only reads)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=100), NO_CONTROL_CHARS] = Field(
        description="what the token is for, e.g. “QGIS on the GIS office's PC”"
    )
    expires_in_days: int = Field(default=90, ge=1, le=365)
    write: bool = Field(default=False, description="may change data (default: read only)")


TokenState = Literal["active", "expired", "revoked"]


class AccessTokenOut(BaseModel):
    """A personal access token as its user sees it later: never the token itself."""

    id: int
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it by")
    write: bool
    state: TokenState
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="to the minute: recorded once a minute")
    revoked_at: datetime | None


class AccessTokenCreated(AccessTokenOut):
    token: str = Field(
        description="the token: shown in this response only. Send it as "
        "`Authorization: Bearer <token>`, or as the password of HTTP Basic with your username"
    )


class AccessTokenPage(BaseModel):
    items: list[AccessTokenOut]
    total: int
