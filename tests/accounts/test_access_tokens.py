"""Personal access tokens over HTTP: created (shown once), listed, revoked; accepted as Bearer
and as HTTP Basic's password; refused, saying why, when they are malformed, wrong, revoked or
expired or their user is disabled; read-only in the route and in the database; scoped as
their user is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import bearer
from office_records import township_office_name, township_point
from personal_tokens import basic, create, secret_of
from sqlalchemy import text

from service.audit import service as audit
from service.core.db import read_only
from service.http.deps import CurrentScope, SessionDep

XINCUN, TONGXU = "410184101", "410222101"  # a township of 郑州 (4101), one of 开封 (4102)


def office_body(code: str) -> dict[str, Any]:
    lon, lat = township_point(code)
    return {"name": township_office_name(code), "location": {"lon": lon, "lat": lat}}


def _days(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp() / 86400


def refused(response) -> str:  # type: ignore[no-untyped-def]
    """The message of a 401, checked to be one."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    return str(response.json()["message"])


def test_create_list_and_revoke(client, auth, base_data):
    city = auth("zhengzhou_city")
    made = create(client, city, name="QGIS 工作站", expires_in_days=30, write=True)
    token = made["token"]
    tenant = base_data.henan_id
    assert token.startswith(f"rgt_{tenant}_{made['id']}_") and token.startswith(made["prefix"])
    assert len(token) == len(f"rgt_{tenant}_{made['id']}_") + 43
    assert (made["name"], made["write"], made["state"]) == ("QGIS 工作站", True, "active")
    assert (made["last_used_at"], made["revoked_at"]) == (None, None)
    assert 29.9 < (_days(made["expires_at"]) - _days(made["created_at"])) < 30.1
    default = create(client, city)
    assert default["write"] is False
    assert 89.9 < (_days(default["expires_at"]) - _days(default["created_at"])) < 90.1
    listed = client.get("/api/v1/auth/tokens", headers=city)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [default["id"], made["id"]]
    assert "token" not in listed.json()["items"][0]
    assert secret_of(token) not in listed.text
    # another user sees neither, and cannot revoke them
    other = auth("zhongmu_county")
    assert client.get("/api/v1/auth/tokens", headers=other).json() == {"items": [], "total": 0}
    r = client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=other)
    assert r.status_code == 404
    assert client.delete("/api/v1/auth/tokens/999999", headers=city).status_code == 404
    # revoking is idempotent
    for _ in range(2):
        assert client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=city).status_code == 204
    states = {
        t["id"]: t["state"] for t in client.get("/api/v1/auth/tokens", headers=city).json()["items"]
    }
    assert states == {made["id"]: "revoked", default["id"]: "active"}
    assert "revoked" in refused(client.get("/api/v1/me", headers=bearer(token)))


def test_creating_and_revoking_are_audited(client, auth, session, base_data):
    city = auth("zhengzhou_city")
    made = create(client, city, name="GDAL 脚本", expires_in_days=7)
    client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=city)
    client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=city)  # (nothing to record)
    events = session.execute(
        text(
            "SELECT action, username, role, region_code, after FROM audit_events"
            " WHERE entity_type = 'access_tokens' AND entity_id = :id ORDER BY id"
        ),
        {"id": str(made["id"])},
    ).all()
    assert [(e.action, e.username, e.role, e.region_code) for e in events] == [
        ("create", "zhengzhou_city", "city_bureau", "4101"),
        ("revoke", "zhengzhou_city", "city_bureau", "4101"),
    ]
    created = events[0].after
    assert {k: created[k] for k in ("id", "name", "prefix", "write", "user_id")} == {
        "id": made["id"],
        "name": "GDAL 脚本",
        "prefix": made["prefix"],
        "write": False,
        "user_id": base_data.logins["zhengzhou_city"].user_id,
    }
    assert created["expires_at"].replace(" ", "T")[:16] == made["expires_at"][:16]
    assert events[1].after["revoked_at"]
    secret = secret_of(made["token"])
    assert all(secret not in str(e.after) and "hash" not in str(e.after) for e in events)


def test_bearer_and_basic_both_work(client, auth):
    token = create(client, auth("zhengzhou_city"))["token"]
    for headers in (
        bearer(token),
        basic("zhengzhou_city", token),
        basic("ZhengZhou_City", token),  # (usernames are case-insensitive, as at login)
    ):
        r = client.get("/api/v1/me", headers=headers)
        assert r.status_code == 200, r.text
        assert (r.json()["username"], r.json()["region_code"]) == ("zhengzhou_city", "4101")


def test_refusals_say_why(client, auth, base_data):
    city = auth("zhengzhou_city")
    token = create(client, city)["token"]
    _, tenant, token_id, secret = token.split("_", 3)
    head = f"rgt_{tenant}_{token_id}"
    wrong = "A" * 43 if secret != "A" * 43 else "B" * 43
    expected = {
        # Basic with the username of another user, or with the account's password
        "the username is not that of the access token's user": basic("zhongmu_county", token),
        "HTTP Basic takes an access token as the password": basic(
            "zhengzhou_city", base_data.logins["zhengzhou_city"].password
        ),
        "malformed HTTP Basic credentials": {"Authorization": "Basic not-base64!"},
        "malformed access token": bearer(f"{head}_short"),
        "invalid access token": bearer(f"rgt_{tenant}_999999_{secret}"),
    }
    for why, headers in expected.items():
        assert why in refused(client.get("/api/v1/me", headers=headers)), why
    for malformed in ("rgt_", "rgt_x_1_" + secret, f"rgt_{tenant}_0_{secret}", f"{token}="):
        assert "malformed access token" in refused(
            client.get("/api/v1/me", headers=bearer(malformed))
        )
    assert "invalid access token" in refused(
        client.get("/api/v1/me", headers=bearer(f"{head}_{wrong}"))
    )
    assert "invalid access token" in refused(
        client.get("/api/v1/me", headers=bearer(f"rgt_{base_data.shanxi_id}_{token_id}_{secret}"))
    )
    # a token is never read from the URL
    r = client.get("/api/v1/me", params={"access_token": token, "token": token})
    assert "authentication required" in refused(r)


def test_expired_revoked_and_disabled(client, auth, session):
    city = auth("zhengzhou_city")
    expiring, revoked = create(client, city), create(client, city)
    viewer = create(client, auth("henan_viewer"))
    session.execute(
        text(
            "UPDATE access_tokens SET created_at = now() - interval '10 days',"
            " expires_at = now() - interval '1 day' WHERE id = :id"
        ),
        {"id": expiring["id"]},
    )
    session.execute(text("UPDATE users SET is_active = false WHERE username = 'henan_viewer'"))
    session.commit()
    client.delete(f"/api/v1/auth/tokens/{revoked['id']}", headers=city)
    assert "expired" in refused(client.get("/api/v1/me", headers=bearer(expiring["token"])))
    assert "revoked" in refused(client.get("/api/v1/me", headers=bearer(revoked["token"])))
    why = refused(client.get("/api/v1/me", headers=basic("henan_viewer", viewer["token"])))
    assert "disabled" in why


def test_account_actions_need_a_password_login(client, auth):
    token = bearer(create(client, auth("zhengzhou_city"), write=True)["token"])
    for path, body in (
        ("/api/v1/auth/tokens", {"name": "another"}),
        ("/api/v1/me/password", {"current_password": "x", "new_password": "y" * 12}),
        ("/api/v1/auth/logout", None),
    ):
        r = client.post(path, json=body, headers=token)
        assert r.status_code == 403, (path, r.text)
        assert "needs a password login" in r.json()["message"]
    assert client.get("/api/v1/auth/tokens", headers=token).json()["total"] == 1


def test_read_only_tokens_cannot_write(client, auth, app):
    """Refused by the route's method (403), and by the database for a route that would write
    on a GET: the transaction is read-only."""

    def probe(scope: CurrentScope, session: SessionDep) -> dict[str, bool]:
        was_read_only = read_only(session)
        audit.record(
            session,
            tenant_id=scope.tenant_id,
            action="probe",
            entity_type="test",
            entity_id=None,
            region_code=None,
        )
        return {"read_only": was_read_only}

    app.add_api_route("/api/v1/test/writes-on-get", probe, methods=["GET"])
    county = auth("xinzheng_county")
    read_only_token = bearer(create(client, county)["token"])
    writer = basic("xinzheng_county", create(client, county, write=True)["token"])
    r = client.post("/api/v1/offices", json=office_body(XINCUN), headers=read_only_token)
    assert r.status_code == 403 and r.json()["code"] == "read_only"
    assert "read-only" in r.json()["message"]
    r = client.get("/api/v1/test/writes-on-get", headers=read_only_token)
    assert r.status_code == 403 and r.json()["code"] == "read_only", r.text
    assert client.get("/api/v1/offices", headers=read_only_token).status_code == 200
    # its use written a moment ago, the lookup itself makes the transaction read-only
    r = client.get("/api/v1/test/writes-on-get", headers=read_only_token)
    assert r.status_code == 403 and r.json()["code"] == "read_only", r.text
    r = client.get("/api/v1/test/writes-on-get", headers=writer)
    assert r.status_code == 200 and r.json() == {"read_only": False}
    r = client.post("/api/v1/offices", json=office_body(XINCUN), headers=writer)
    assert r.status_code == 201, r.text
    # the boundary checks and maps keep a cache: a read-only request answers without writing it
    r = client.get("/api/v1/coverage/boundaries", headers=read_only_token)
    assert r.status_code == 200 and r.json()["cached"] is False
    r = client.get("/api/v1/coverage/boundaries", headers=county)
    assert r.status_code == 200 and r.json()["cached"] is False
    r = client.get("/api/v1/coverage/boundaries", headers=read_only_token)
    assert r.status_code == 200 and r.json()["cached"] is True


def test_a_token_sees_what_its_user_sees(client, auth):
    """A city bureau's token: its city, never another's — as the city's login."""
    xincun = client.post("/api/v1/offices", json=office_body(XINCUN), headers=auth("henan_admin"))
    tongxu = client.post("/api/v1/offices", json=office_body(TONGXU), headers=auth("henan_admin"))
    assert xincun.status_code == tongxu.status_code == 201
    login = auth("zhengzhou_city")
    token = create(client, login)["token"]
    for headers in (login, bearer(token), basic("zhengzhou_city", token)):
        listed = client.get("/api/v1/offices", headers=headers).json()["items"]
        assert [o["id"] for o in listed] == [xincun.json()["id"]]
        own = client.get(f"/api/v1/offices/{xincun.json()['id']}", headers=headers)
        assert own.status_code == 200
        other = client.get(f"/api/v1/offices/{tongxu.json()['id']}", headers=headers)
        assert other.status_code == 404
        r = client.get("/api/v1/offices", params={"region": "4102"}, headers=headers)
        assert r.status_code == 403


def test_a_token_follows_its_users_changes(client, auth, session):
    """Role and region are the user's as they are now, not as they were at creation."""
    token = bearer(create(client, auth("zhengzhou_city"))["token"])
    session.execute(text("UPDATE users SET region_code = '4102' WHERE username = 'zhengzhou_city'"))
    session.commit()
    assert client.get("/api/v1/me", headers=token).json()["region_code"] == "4102"


def test_last_use_is_recorded_once_a_minute(client, auth, session):
    made = create(client, auth("zhengzhou_city"))
    token = bearer(made["token"])

    def last_used() -> Any:
        return session.scalar(
            text("SELECT last_used_at FROM access_tokens WHERE id = :id"), {"id": made["id"]}
        )

    assert last_used() is None
    assert client.get("/api/v1/me", headers=token).status_code == 200
    first = last_used()
    assert first is not None
    session.execute(
        text(
            "UPDATE access_tokens SET last_used_at = now() - interval '30 seconds' WHERE id = :id"
        ),
        {"id": made["id"]},
    )
    session.commit()
    half_a_minute_ago = last_used()
    assert client.get("/api/v1/me", headers=token).status_code == 200
    assert last_used() == half_a_minute_ago  # (not written again within the minute)
    session.execute(
        text("UPDATE access_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = :id"),
        {"id": made["id"]},
    )
    session.commit()
    assert client.get("/api/v1/me", headers=token).status_code == 200
    assert last_used() == first


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "QGIS\u202e"}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "scope": "all"}, "scope"),
    ],
)
def test_what_a_token_may_be_called_and_live(client, auth, body, field):
    r = client.post("/api/v1/auth/tokens", json=body, headers=auth("henan_viewer"))
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["details"]] == [field]


def test_a_user_holds_at_most_twenty_active_tokens(client, auth):
    viewer = auth("henan_viewer")
    made = [create(client, viewer, name=f"t{i}") for i in range(20)]
    r = client.post("/api/v1/auth/tokens", json={"name": "one more"}, headers=viewer)
    assert r.status_code == 409 and "revoke one first" in r.json()["message"]
    client.delete(f"/api/v1/auth/tokens/{made[0]['id']}", headers=viewer)
    create(client, viewer, name="one more")


def test_desktop_clients_are_offered_basic_under_ogc_only(client, auth):
    """GDAL and QGIS answer a Basic challenge (tests/ogc/test_gdal.py: GDAL_HTTP_AUTH=ANY);
    pages and the API do not offer one (a browser would open its own login dialog)."""
    wrong = basic("zhengzhou_city", "rgt_1_1_" + "x" * 43)  # (refused: asked again)
    for path, headers in (
        ("/ogc", {}),
        ("/ogc/collections", {}),
        ("/ogc/collections/offices/items", {}),
        ("/ogc/collections", wrong),
    ):
        r = client.get(path, headers=headers)
        assert r.status_code == 401
        assert r.headers.get_list("WWW-Authenticate") == ["Bearer", 'Basic realm="registry"']
    for path in ("/api/v1/me", "/api/v1/offices", "/ogcx"):
        r = client.get(path)
        assert r.status_code in (401, 404)
        assert "Basic" not in str(r.headers.get_list("WWW-Authenticate"))
    token = create(client, auth("zhengzhou_city"))["token"]
    r = client.get("/ogc/collections", headers=basic("zhengzhou_city", token))
    assert r.status_code == 200


def test_a_refused_token_binds_nothing_that_outlives_its_refusal(client, auth, session):
    """The lookup binds the transaction to the token's user in the same statement, before the
    secret is compared (service/accounts/credentials.py): a wrong secret is refused, and the
    rollback that follows every refusal takes the binding with it."""
    from service.accounts.credentials import scope_of_access_token
    from service.core.errors import NotAuthenticated

    token = create(client, auth("zhengzhou_city"))["token"]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")

    def bound(name: str) -> Any:
        return session.scalar(text("SELECT current_setting(:n, true)"), {"n": name})

    before = bound("app.request_id")
    refused = session.begin_nested()
    with pytest.raises(NotAuthenticated):
        scope_of_access_token(session, token=wrong, username=None, request_id="refused-probe")
    assert (bound("app.request_id"), bound("app.username")) == ("refused-probe", "zhengzhou_city")
    refused.rollback()
    assert bound("app.request_id") == before != "refused-probe"
    assert bound("app.username") != "zhengzhou_city"


def test_the_credential_checks_keep_their_plans(client, auth, session):
    """The statement that checks a credential and binds the transaction runs on every request:
    once prepared, PostgreSQL keeps its plan rather than planning it again at each run (it
    did so while the tenant's setting was cast from its integer parameter in the statement,
    service/accounts/credentials.py)."""
    login = auth("zhengzhou_city")
    token = bearer(create(client, login)["token"])
    for headers in (login, token):
        # psycopg prepares a statement at its fifth run, and PostgreSQL plans it for the
        # values of its first five runs as a prepared statement before it may keep a plan
        for _ in range(12):
            assert client.get("/api/v1/me", headers=headers).status_code == 200
    plans = dict(
        session.execute(
            text(
                "SELECT substring(statement FROM 'FROM (registry_\\w+_of)'), generic_plans"
                " FROM pg_prepared_statements WHERE statement LIKE 'SELECT found.%'"
            )
        ).all()
    )
    assert plans.keys() == {"registry_login_of", "registry_access_token_of"}
    assert all(generic > 0 for generic in plans.values()), plans
