"""Routes whose function takes the scope (and the session) run the request's database work in
one trip to the thread pool (service/http/hop.py): the credential check, the route's work and
the commit, in the request's one transaction, as FastAPI's dependencies did them in several."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest
from conftest import bearer
from personal_tokens import create


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions a request sends to the thread pool, by name."""
    sent: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        inner = getattr(func, "func", func)  # (starlette hands over a functools.partial)
        sent.append(getattr(inner, "__name__", repr(inner)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return sent


def test_a_route_taking_the_scope_makes_one_trip(client, auth, trips) -> None:  # type: ignore[no-untyped-def]
    login = auth("zhengzhou_city")
    for headers in (login, bearer(create(client, login)["token"])):
        trips.clear()
        r = client.get("/api/v1/me", headers=headers)
        assert r.status_code == 200 and r.json()["username"] == "zhengzhou_city"
        assert trips == ["_in_transaction"]
    trips.clear()
    assert client.get("/api/v1/me").status_code == 401  # (checked in the same trip)
    assert trips == ["_in_transaction"]


def test_a_route_whose_dependencies_need_the_session_is_left_to_fastapi(
    client, auth, trips
) -> None:  # type: ignore[no-untyped-def]
    """An office by id: `valid_office` needs the scope and the session, so FastAPI solves
    them for it and for the route alike (one transaction, as before)."""
    r = client.get("/api/v1/offices/999999999", headers=auth("zhengzhou_city"))
    assert r.status_code == 404  # (by valid_office, in FastAPI's trips)
    assert "_in_transaction" not in trips and len(trips) > 1


def test_routes_in_one_hop_still_declare_their_credential(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert paths["/api/v1/offices"]["post"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert paths["/api/v1/offices/{office_id}"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


def test_a_refused_credential_is_answered_before_invalid_parameters(client, auth) -> None:  # type: ignore[no-untyped-def]
    """FastAPI reads a route's parameters before a route in one hop checks the credential:
    when they are invalid, the credential is checked first all the same, so a client it
    refuses learns nothing of them (as under FastAPI's dependencies)."""
    bad_user = "/api/v1/users/not-a-number"
    bad_items = "/ogc/collections/offices/items?limit=many"
    for path in (bad_user, bad_items):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer("rgt_1_1_" + "x" * 43)).status_code == 401
    admin = auth("henan_admin")
    assert client.get(bad_user, headers=admin).status_code == 422
    assert client.get(bad_items, headers=admin).status_code == 422
    read_only = bearer(create(client, admin)["token"])
    r = client.post("/api/v1/users", json={"username": 5}, headers=read_only)
    assert r.status_code == 403  # (a read-only token asking to change something)
    r = client.post("/api/v1/users", json={"username": 5}, headers=admin)
    assert r.status_code == 422
    page = client.get("/regions/children", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
