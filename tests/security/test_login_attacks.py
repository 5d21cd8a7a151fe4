"""Attacks on logging in and staying logged in, from outside through HTTP.

- Refresh: only a secret the session really issued and then replaced ends it (a thief's
  replay); any other wrong secret is a plain 401, so sweeping session numbers ends nobody's
  session; failed refreshes are limited per address.
- Changing one's password ends one's other sessions; guesses of the current password are
  limited.
- Login CSRF: a form posted from another site cannot log the browser in.
- Lockout: an anonymous client that exhausts a username's allowance does not keep the user
  out of a browser they logged in from before.
"""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, api_login, bearer, browser_login
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("clean_throttle")


def me(client, pair) -> int:  # type: ignore[no-untyped-def]
    return int(client.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code)


def test_a_wrong_refresh_secret_ends_no_session(client):
    pair = api_login(client).json()
    tenant, sid, _ = pair["refresh_token"].split(".", 2)
    secret = pair["refresh_token"].split(".", 2)[2]
    near = secret[:-1] + ("A" if secret[-1] != "A" else "B")  # one character off
    for forged in (f"{tenant}.{sid}.not-the-secret-at-all", f"{tenant}.{sid}.{near}"):
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": forged})
        assert r.status_code == 401 and "invalid refresh token" in r.json()["message"]
    assert me(client, pair) == 200
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200


def test_a_sweep_over_session_numbers_ends_nothing_and_is_stopped(client, session):
    pairs = [api_login(client, user).json() for user in ("zhengzhou_city", "zhongmu_county")]
    tenant = pairs[0]["refresh_token"].split(".")[0]
    top = max(int(p["refresh_token"].split(".")[1]) for p in pairs)
    codes = []
    for sid in range(top - 40, top + 1):  # 41 guesses, two of them live sessions
        r = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": f"{tenant}.{sid}.guessed-secret"}
        )
        codes.append(r.status_code)
    assert set(codes) <= {401, 429} and codes.count(401) == 30  # then refused outright
    assert all(me(client, p) == 200 for p in pairs)
    revoked = session.scalar(
        text("SELECT count(*) FROM auth_sessions WHERE revoked_reason = 'refresh token reused'")
    )
    assert revoked == 0


def test_a_replayed_refresh_token_ends_the_session(client):
    first = api_login(client).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    third = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert third.status_code == 200
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["message"]
    assert me(client, third.json()) == 401


def test_changing_ones_password_ends_the_other_sessions(client):
    mine, other = api_login(client).json(), api_login(client).json()
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers=bearer(mine["access_token"]),
    )
    assert r.status_code == 204
    assert me(client, mine) == 200
    assert me(client, other) == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refreshed.status_code == 401


def test_guesses_of_the_current_password_are_limited(client):
    pair = api_login(client).json()
    codes = [
        client.post(
            "/api/v1/me/password",
            json={"current_password": f"guess-number-{i}", "new_password": "a-brand-new-password"},
            headers=bearer(pair["access_token"]),
        ).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers=bearer(pair["access_token"]),
    )
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_a_login_form_from_another_site_logs_nobody_in(client):
    forged = client.post(
        "/login",
        data={"username": "zhengzhou_city", "password": PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "registry_token" not in forged.cookies
    for headers in (
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ):  # a fresh form each time: the token and its cookie match, only the origin is wrong
        page = client.get("/login")
        token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        cross = client.post(
            "/login",
            data={"username": "zhengzhou_city", "password": PASSWORD, "form_token": token},
            headers=headers,
            follow_redirects=False,
        )
        assert cross.status_code == 403 and "registry_token" not in cross.cookies, headers
        assert "登录页面已失效" in cross.text
    ok = browser_login(client, "zhengzhou_city")
    assert ok.status_code == 303 and ok.cookies.get("registry_token")


def test_an_anonymous_client_cannot_lock_a_user_out_of_their_browser(client, app):
    from fastapi.testclient import TestClient

    # the admin logs in from their browser once; it keeps a device cookie
    first = browser_login(client, "henan_admin")
    assert first.status_code == 303 and client.cookies.get("registry_device")
    client.cookies.delete("registry_token")
    # an attacker elsewhere exhausts the username's allowance, with wrong passwords
    with TestClient(app, raise_server_exceptions=False) as attacker:
        codes = [
            api_login(attacker, "henan_admin", "wrong-password-x").status_code for _ in range(8)
        ]
        assert codes == [401] * 4 + [429] * 4  # the admin's own first login was the 5th
        assert api_login(attacker, "henan_admin").status_code == 429  # even with the password
    # the admin's own browser still gets in
    again = browser_login(client, "henan_admin")
    assert again.status_code == 303 and again.cookies.get("registry_token")


def test_password_changes_at_once_cannot_exhaust_the_pool(settings, auth, monkeypatch):  # type: ignore[no-untyped-def]
    """A password change counts its attempt on a connection of its own while its request holds
    one: as many changes at once as the worker has connections (2 here) each waited for a
    second one until the pool's timeout, and every request of the worker with them. The
    counters have their own connections (service/core/db.py `Database.counters`)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from service.core import db as db_module
    from service.main import create_app

    monkeypatch.setattr(db_module, "POOL_TIMEOUT_S", 3.0)  # (a deadlock ends in 3 s)
    app = create_app(settings.model_copy(update={"db_pool_size": 1}))
    headers = auth("zhengzhou_city")
    wrong = {"current_password": "not-my-password", "new_password": "a-brand-new-password"}
    with TestClient(app, raise_server_exceptions=False) as client:

        def change(_: int) -> int:
            return client.post("/api/v1/me/password", json=wrong, headers=headers).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(4) as clients:
            statuses = list(clients.map(change, range(4)))
        took = time.monotonic() - started
    assert statuses == [401] * 4, statuses
    assert took < 3.0


def test_a_login_storm_waits_its_turn_for_the_counters(settings, auth, monkeypatch):  # type: ignore[no-untyped-def]
    """Logins count their attempts on the counters' own 2 connections a worker: a storm of
    anonymous logins at once queues there briefly and is answered, none waits out the pool
    (503), and the worker's other requests are not held behind it."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from service.core import db as db_module
    from service.main import create_app

    monkeypatch.setattr(db_module, "POOL_TIMEOUT_S", 3.0)  # (a stall ends in 3 s as 503)
    app = create_app(settings.model_copy(update={"db_pool_size": 1}))
    with TestClient(app, raise_server_exceptions=False) as client:

        def attempt(i: int) -> int:
            form = {"username": f"nobody-{i}", "password": "not-a-password"}
            return client.post("/api/v1/auth/token", data=form).status_code

        with ThreadPoolExecutor(24) as clients:
            statuses = list(clients.map(attempt, range(48)))
        assert set(statuses) <= {401, 429}, statuses
        assert client.get("/api/v1/me", headers=auth("zhengzhou_city")).status_code == 200
