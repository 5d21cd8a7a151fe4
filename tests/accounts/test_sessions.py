"""Login sessions: refresh rotation, reuse detection, logout that revokes, throttling."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, api_login, bearer

pytestmark = pytest.mark.usefixtures("clean_throttle")


def test_refresh_rotates_and_reuse_ends_the_session(client):
    first = api_login(client).json()
    assert client.get("/api/v1/me", headers=bearer(first["access_token"])).status_code == 200
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code == 200
    # the first refresh token was used already: presenting it again ends the whole session
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["message"]
    assert client.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code == 401
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        "x" * 12,
        "1.2-long-enough",
        "abc.def.ghi",
        "99999.1.secret-secret",
        "1.99999999.secret-secret",
    ],
)
def test_malformed_or_unknown_refresh_tokens(client, token):
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401


def test_logout_revokes_tokens_now(client):
    pair = api_login(client).json()
    other = api_login(client).json()
    h = bearer(pair["access_token"])
    out = client.post("/api/v1/auth/logout", headers=h)
    assert out.status_code == 200 and out.json() == {"revoked_sessions": 1}
    assert client.get("/api/v1/me", headers=h).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        ).status_code
        == 401
    )
    # another login of the same user is untouched, until "everywhere"
    h2 = bearer(other["access_token"])
    assert client.get("/api/v1/me", headers=h2).status_code == 200
    third = api_login(client).json()
    everywhere = client.post("/api/v1/auth/logout", params={"everywhere": True}, headers=h2)
    assert everywhere.json()["revoked_sessions"] == 3  # other, third and the fixture's own
    assert client.get("/api/v1/me", headers=bearer(third["access_token"])).status_code == 401


def test_failed_logins_are_throttled_per_user(client):
    for _ in range(5):
        assert api_login(client, password="wrong-password-1").status_code == 401
    locked = api_login(client)  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.json()["code"] == "too_many_attempts"
    assert api_login(client, username="zhongmu_county").status_code == 200  # others are not locked


def test_failed_logins_are_throttled_per_address(client):
    for i in range(30):
        api_login(client, username=f"nobody{i:02d}", password="wrong-password-1")
    assert api_login(client, username="zhongmu_county").status_code == 429


def test_a_client_that_logged_in_has_its_own_allowance(client):
    for _ in range(3):
        api_login(client, password="wrong-password-1")
    ok = api_login(client)
    assert ok.status_code == 200
    device = {"device_token": ok.json()["device_token"]}
    # the device's failures are cleared by each success; the anonymous allowance is not
    for _ in range(2):
        for _ in range(4):
            assert api_login(client, password="wrong-password-1", **device).status_code == 401
        assert api_login(client, **device).status_code == 200
    # the anonymous allowance: 3 failures and the success used 4 of its 5 attempts
    assert api_login(client, password="wrong-password-1").status_code == 401
    assert api_login(client).status_code == 429


def test_change_own_password(client):
    h = bearer(api_login(client).json()["access_token"])
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it-at-all", "new_password": "a-brand-new-password"},
        headers=h,
    )
    assert wrong.status_code == 401
    short = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=h,
    )
    assert short.status_code == 422 and short.json()["details"][0]["field"] == "new_password"
    ok = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers=h,
    )
    assert ok.status_code == 204
    assert api_login(client, password="a-brand-new-password").status_code == 200
    assert api_login(client).status_code == 401
