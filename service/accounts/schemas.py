"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.accounts.roles import Role
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
