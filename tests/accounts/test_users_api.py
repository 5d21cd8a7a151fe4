"""The province admin manages the tenant's users; nobody else does."""

from __future__ import annotations

import pytest
from conftest import PASSWORD


def new_user(**over):
    return {
        "username": "kaifeng_city",
        "password": "kaifeng-password-123",
        "role": "city_bureau",
        "region_code": "4102",
        "display_name": "开封市司法局",
        **over,
    }


def test_admin_creates_lists_and_changes_users(client, auth):
    h = auth("henan_admin")
    created = client.post("/api/v1/users", json=new_user(), headers=h)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["role"] == "city_bureau" and user["region_code"] == "4102" and user["is_active"]
    assert "password" not in user and "password_hash" not in user
    listed = client.get("/api/v1/users", params={"region": "4102"}, headers=h).json()
    assert [u["username"] for u in listed["items"]] == ["kaifeng_city"]
    token = client.post(
        "/api/v1/auth/token", data={"username": "kaifeng_city", "password": "kaifeng-password-123"}
    ).json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["region_code"] == "4102"
    off = client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=h)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize(
    ("over", "status", "fragment"),
    [
        ({"region_code": "410184"}, 422, "4-digit region code"),
        ({"region_code": "1401"}, 422, "outside"),
        ({"role": "county_bureau", "region_code": "410184"}, 201, None),
        ({"username": "zhengzhou_city"}, 409, "taken"),
        ({"username": "shanxi_admin"}, 409, "taken"),  # usernames are unique across tenants
        ({"password": "short"}, 422, "password"),
        ({"username": "x"}, 422, "username"),
        ({"display_name": "名\x1b字"}, 422, "control"),
    ],
)
def test_user_checks(client, auth, over, status, fragment):
    r = client.post("/api/v1/users", json=new_user(**over), headers=auth("henan_admin"))
    assert r.status_code == status, r.text
    if fragment:
        assert fragment in r.text


@pytest.mark.parametrize(
    "who", ["henan_planner", "zhengzhou_city", "xinzheng_county", "henan_viewer"]
)
def test_only_province_admins_manage_users(client, auth, who):
    h = auth(who)
    assert client.get("/api/v1/users", headers=h).status_code == 403
    assert client.post("/api/v1/users", json=new_user(), headers=h).status_code == 403


def test_other_tenants_users_are_invisible(client, auth, base_data):
    shanxi_admin = base_data.logins["shanxi_admin"].user_id
    r = client.get(f"/api/v1/users/{shanxi_admin}", headers=auth("henan_admin"))
    assert r.status_code == 404
    names = [
        u["username"]
        for u in client.get("/api/v1/users", headers=auth("henan_admin")).json()["items"]
    ]
    assert "shanxi_admin" not in names and "henan_admin" in names


def test_last_admin_cannot_lock_the_tenant_out(client, auth, base_data):
    me = base_data.logins["henan_admin"].user_id
    h = auth("henan_admin")
    r = client.patch(f"/api/v1/users/{me}", json={"is_active": False}, headers=h)
    assert r.status_code == 409 and "last active province admin" in r.json()["message"]
    r = client.patch(f"/api/v1/users/{me}", json={"role": "viewer"}, headers=h)
    assert r.status_code == 409


def test_password_reset_ends_sessions(client, auth, base_data):
    viewer = base_data.logins["henan_viewer"]
    token = client.post(
        "/api/v1/auth/token", data={"username": "henan_viewer", "password": PASSWORD}
    ).json()["access_token"]
    r = client.patch(
        f"/api/v1/users/{viewer.user_id}",
        json={"password": "reset-by-admin-123"},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
