"""Login, tokens and "who am I"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from service.accounts.security import issue_token


def login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_and_me(client, base_data):
    r = login(client, "zhengzhou_city", base_data.logins["zhengzhou_city"].password)
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 30 * 60
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "username": "zhengzhou_city",
        "role": "city_bureau",
        "region_code": "4101",
        "tenant": {"code": "41", "name": "河南省司法厅"},
        "actions": ["read", "audit:read"],
    }


def test_usernames_are_case_insensitive(client, base_data):
    assert (
        login(client, "ZhengZhou_City", base_data.logins["zhengzhou_city"].password).status_code
        == 200
    )


def test_wrong_password_and_unknown_user_look_the_same(client):
    a = login(client, "zhengzhou_city", "wrong-password-123")
    b = login(client, "nobody_here", "wrong-password-123")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_requests_without_a_valid_token(client, settings, base_data):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    login_ = base_data.logins["henan_admin"]
    common = {
        "user_id": login_.user_id,
        "tenant_id": login_.tenant_id,
        "session_id": login_.session_id,
        "username": login_.username,
        "role": login_.role.value,
    }
    expired, _ = issue_token(
        key=settings.signing_key(),
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
        **common,
    )
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    forged, _ = issue_token(
        key="another-key-another-key-another-key", ttl=timedelta(minutes=5), **common
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_disabled_user_is_locked_out(client, auth, session):
    headers = auth("henan_viewer")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    session.execute(text("UPDATE users SET is_active = false WHERE username = 'henan_viewer'"))
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_admin_actions(client, auth):
    me = client.get("/api/v1/me", headers=auth("henan_admin")).json()
    assert set(me["actions"]) >= {"divisions:import", "offices:create", "users:manage"}
