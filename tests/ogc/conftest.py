"""What the OGC API tests share: offices in two townships of 郑州 and one of 开封, and a
committed access token of the 郑州 city bureau for the tests against a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cql2_cases import STAFFED
from factories import office_body
from sqlalchemy import text

from service.accounts.security import new_secret

OFFICE_TOWNSHIPS = ("410184101", "410122101", "410222101")  # 新郑, 中牟 (郑州); 通许 (开封)


@pytest.fixture
def offices(client, auth) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """An office in two townships of 郑州 and one of 开封, by township code."""
    made = {}
    for code in OFFICE_TOWNSHIPS:
        r = client.post("/api/v1/offices", json=office_body(code), headers=auth("henan_admin"))
        assert r.status_code == 201, r.text
        made[code] = r.json()["id"]
    return made


@pytest.fixture
def staffed_offices(offices, client, auth) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The offices above, two of them with staff numbers and an area (what the CQL2 cases of
    tests/cql2_cases.py compare)."""
    for code, staff, area in STAFFED:
        r = client.get(f"/api/v1/offices/{offices[code]}", headers=auth("henan_admin"))
        patch = {"staff_total": staff, "staff_formal": staff, "area_m2": area}
        r = client.patch(
            f"/api/v1/offices/{offices[code]}",
            json=patch,
            headers={**auth("henan_admin"), "If-Match": r.headers["etag"]},
        )
        assert r.status_code == 200, r.text
    return offices


@pytest.fixture
def city_token(base_data, owner_engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A personal access token of the city bureau, committed for the live server (which has
    transactions of its own) and removed afterwards, as the tables' owner."""
    secret, digest = new_secret()
    login = base_data.logins["zhengzhou_city"]
    with owner_engine.begin() as conn:
        token_id = conn.scalar(
            text(
                "INSERT INTO access_tokens (tenant_id, user_id, name, secret_hash, prefix,"
                " expires_at) VALUES (:t, :u, 'GDAL', :h, :p, now() + interval '1 day')"
                " RETURNING id"
            ),
            {"t": login.tenant_id, "u": login.user_id, "h": digest, "p": secret[:4]},
        )
    try:
        yield f"rgt_{login.tenant_id}_{token_id}_{secret}"
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_tokens WHERE id = :id"), {"id": token_id})
