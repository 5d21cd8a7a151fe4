"""Request and response bodies of the accounts API."""

from __future__ import annotations

from pydantic import BaseModel


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class TenantRef(BaseModel):
    code: str
    name: str


class MeOut(BaseModel):
    username: str
    role: str
    region_code: str
    tenant: TenantRef
    actions: list[str]
