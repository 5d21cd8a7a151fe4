"""The routers' shortcut (service/http/routing.py): a router none of whose routes' fixed parts
begins a path answers "no" without trying each route. Tested from outside, through the whole
app: for every route of every method, the route that answers (and the status) is the same
with the shortcut as without it — the path itself, with and without a trailing slash."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.http.ops import router as ops_router
from service.http.routing import Router, route_path

PARAMETER = re.compile(r"\{([^}:]+)(?::(\w+))?\}")
SAMPLE = {"int": "7", "path": "a/b", "float": "1.5", "uuid": "00000000-0000-0000-0000-000000000007"}


def concrete(path: str) -> str:
    """A path the route matches: each parameter filled in by a value its convertor takes."""
    return PARAMETER.sub(lambda m: SAMPLE.get(m.group(2) or "", "7"), path)


def included_routers(app: Any) -> list[Any]:
    """The routers create_app includes (FastAPI keeps each behind a wrapper)."""
    return [r.original_router for r in app.router.routes if hasattr(r, "original_router")]


def api_routes(app: Any) -> Iterator[APIRoute]:
    for router in included_routers(app):
        yield from (r for r in router.routes if isinstance(r, APIRoute))


class RouteSeen:
    """The app, noting which route answered each request (the template Starlette leaves in
    the request's scope, as /metrics reads it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.last = getattr(scope.get("route"), "path", None)


def answers(app: Any) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(method, path) → (status, the route that answered), for every route's own path and its
    trailing-slash twin, each method the route takes."""
    seen = RouteSeen(app)
    out: dict[tuple[str, str], tuple[int, str | None]] = {}
    with TestClient(seen, raise_server_exceptions=False, follow_redirects=False) as client:
        for route in api_routes(app):
            path = concrete(route.path)
            twin = path[:-1] if path.endswith("/") and path != "/" else path + "/"
            for method in sorted(route.methods or ()):
                for p in (path, twin):
                    seen.last = None
                    status = client.request(method, p).status_code
                    out[method, p] = (status, seen.last)
    return out


def test_every_router_of_the_app_takes_the_shortcut(app) -> None:  # type: ignore[no-untyped-def]
    routers = included_routers(app)
    assert len(routers) >= 20
    assert [type(r).__name__ for r in routers if not isinstance(r, Router)] == []


def test_the_same_route_answers_with_the_shortcut_and_without(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shortcut = answers(app)
    monkeypatch.setattr(Router, "may_match", lambda self, path: True)
    assert answers(app) == shortcut
    # (and the walk reached routes of every kind of answer: not only 404s)
    statuses = {status for status, _ in shortcut.values()}
    assert {200, 401, 404} <= statuses
    # every route answered a request to its own path
    assert {route for _, route in shortcut.values()} >= {r.path for r in api_routes(app)}


def test_a_router_tries_none_of_its_routes_for_a_path_none_can_match(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tried: list[str] = []
    original = APIRoute.matches

    def counted(self: APIRoute, scope: Any) -> Any:
        tried.append(self.path)
        return original(self, scope)

    monkeypatch.setattr(APIRoute, "matches", counted)
    with TestClient(app) as client:
        assert client.get("/livez").status_code == 200
    # only the routes of the one router holding /livez (without the shortcut: 100 and more)
    assert tried and set(tried) <= {r.path for r in ops_router.routes}


@pytest.mark.parametrize(
    ("path", "root", "seen"),
    [
        ("/ogc/collections", "", "/ogc/collections"),
        ("/registry/ogc", "/registry", "/ogc"),
        ("/registry", "/registry", ""),
        ("/registryx/ogc", "/registry", "/registryx/ogc"),
        ("/ogc", "/registry", "/ogc"),
    ],
)
def test_the_path_routes_read_is_starlettes(path: str, root: str, seen: str) -> None:
    from starlette._utils import get_route_path

    scope = {"type": "http", "path": path, "root_path": root}
    assert route_path(scope) == get_route_path(scope) == seen
