"""Test helpers for personal access tokens: one created over HTTP, its secret, and the HTTP
Basic header a desktop client (QGIS, GDAL) sends with it."""

from __future__ import annotations

import base64
from typing import Any


def create(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A new access token of the user of `headers` (the creation's body, token included)."""
    r = client.post("/api/v1/auth/tokens", json={"name": "QGIS", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def secret_of(token: str) -> str:
    """The secret part of a token (rgt_<tenant>_<id>_<secret>; the secret may hold "_")."""
    return token.split("_", 3)[3]


def basic(username: str, password: str) -> dict[str, str]:
    """Authorization headers of HTTP Basic, as QGIS and GDAL send them."""
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}
