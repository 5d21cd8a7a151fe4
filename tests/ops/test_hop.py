"""Routes whose function takes the scope (and the session) run the request's database work in
one trip to the thread pool (service/http/hop.py): the credential check, the route's work and
the commit, in the request's one transaction, as FastAPI's dependencies did them in several."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import anyio.to_thread
import pytest
from conftest import bearer
from fastapi import Depends
from personal_tokens import create

from service.http.deps import CurrentScope, SessionDep
from service.http.hop import one_hop_endpoint
from service.offices.dependencies import ValidOffice


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


def test_a_dependency_that_needs_the_session_is_called_in_the_hop(client, auth, trips) -> None:  # type: ignore[no-untyped-def]
    """An office by id: `valid_office` needs the scope and the session; it is called in the
    route's one trip, after the credential check (an unknown office: 404 by it)."""
    r = client.get("/api/v1/offices/999999999", headers=auth("zhengzhou_city"))
    assert r.status_code == 404 and "999999999" in r.json()["message"]
    assert trips == ["_in_transaction"]
    trips.clear()
    assert client.get("/api/v1/offices/999999999").status_code == 401
    assert trips == ["_in_transaction"]


def test_a_report_export_is_named_in_the_hop_and_answered_again_from_what_is_kept(
    client, auth, trips
) -> None:  # type: ignore[no-untyped-def]
    """The route's own dependency `kept_export` (it reads the data versions) runs in the
    route's one trip too; the file it names is answered again without computing it: 304 to
    a client that holds it, the kept file to one that does not."""
    who = auth("henan_planner")
    path = "/api/v1/coverage/gaps"
    first = client.get(path, params={"region": "41", "format": "csv"}, headers=who)
    assert first.status_code == 200 and first.headers["ETag"]
    assert trips == ["_in_transaction"]
    trips.clear()
    again = client.get(
        path,
        params={"region": "41", "format": "csv"},
        headers={**who, "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    assert trips == ["_in_transaction"]
    kept = client.get(path, params={"region": "41", "format": "csv"}, headers=who)
    assert kept.status_code == 200 and kept.content == first.content


def test_a_page_whose_dependencies_depend_on_one_another_makes_one_trip(
    client, auth, trips
) -> None:  # type: ignore[no-untyped-def]
    """A record page: `viewed_record` depends on `valid_office`, and the page's notice on
    `viewed_record`; each is called once, in the page's one trip (the unknown office: 404
    by `valid_office`, as a page)."""
    r = client.get(
        "/offices/999999999/facilities",
        headers={**auth("zhengzhou_city"), "accept": "text/html"},
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert trips == ["_in_transaction"]


async def _session_coroutine(session: SessionDep) -> int:
    return 1


def _nested_coroutine(n: Annotated[int, Depends(_session_coroutine)]) -> int:
    return n


def _once(office: ValidOffice) -> int:
    return office.id


def _route_of(dependency: Any) -> Any:
    """A route taking the scope and `dependency`'s value (its signature written out: the
    annotations of a function defined here would be text naming a local)."""

    def route(**values: Any) -> Any:
        return values

    keyword = inspect.Parameter.KEYWORD_ONLY
    route.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("value", keyword, annotation=Annotated[int, Depends(dependency)]),
            inspect.Parameter("scope", keyword, annotation=CurrentScope),
        ]
    )
    return route


def _bare(scope: CurrentScope) -> None:
    return None


@pytest.mark.parametrize(
    ("dependency", "in_hop"),
    [
        (_session_coroutine, False),
        (_nested_coroutine, False),
        (_once, True),
    ],
)
def test_which_dependencies_are_called_in_the_hop(dependency, in_hop) -> None:  # type: ignore[no-untyped-def]
    """A dependency that needs the session is called in the hop when it is a plain function
    whose own such dependencies are too; else the route is left to FastAPI's trips (as a
    parameter's dependency, and among the route's own `dependencies=[...]`)."""
    assert (one_hop_endpoint("/x/{office_id}", _route_of(dependency)) is not None) is in_hop
    hopping = one_hop_endpoint("/x/{office_id}", _bare, [Depends(dependency)])
    assert (hopping is not None) is in_hop


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
