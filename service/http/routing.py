"""The service's routers: FastAPI's, answering "no" at once for a path none of their routes
can match.

FastAPI tries an app's routes in order, each included router's one by one, for every
request: a path served by a router included late was tried against a hundred routes before
its own (/livez: 111 tries, a third of its time in the app; a map tile: 85). A route
without parameters matches its path only; every other route's path starts with a fixed part
(up to its first `{parameter}`). A router with no route of the request's path, and no fixed
part beginning it, answers Match.NONE without trying each route. Where one route could
match, all are tried as before, in the same order: which route answers, and 404/405 and the
trailing-slash redirect, stay FastAPI's. (/livez now: 2 tries, 0.10 ms in the app, was
0.27 ms.)

Every router of the app is a `Router` (tests/ops/test_routing.py walks them)."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from fastapi import APIRouter
from starlette.routing import Match, Route

from service.http.hop import SECURITY, one_hop_endpoint

Scope = MutableMapping[str, Any]


def fixed_part(path: str) -> str:
    """The part of a route's path before its first parameter ('/ogc/collections/' of
    '/ogc/collections/{collection_id}/items'): every path the route matches starts so."""
    return path.partition("{")[0]


class Router(APIRouter):
    """An APIRouter that skips its routes for a path none of their fixed parts begins."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._whole: frozenset[str] = frozenset()  # the paths of routes without parameters
        self._fixed_parts: tuple[str, ...] = ()  # the fixed parts of the others
        self._counted = -1  # how many routes they were made from

    def may_match(self, path: str) -> bool:
        """Whether any of the router's routes could match `path` (a route path, without
        the app's root_path)."""
        if self._counted != len(self.routes):  # (routes are added before the app serves)
            whole, parts = set(), set()
            for route in self.routes:
                if isinstance(route, Route) and "{" not in route.path:
                    whole.add(route.path)  # (a Route's regex is its path, whole)
                else:  # (a mount, or another kind: it may match what begins with its path)
                    parts.add(fixed_part(getattr(route, "path", "")))
            self._whole, self._fixed_parts = frozenset(whole), tuple(sorted(parts))
            self._counted = len(self.routes)
        return path in self._whole or path.startswith(self._fixed_parts)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        """The route; in one hop (service/http/hop.py) when it can be."""
        hopping = one_hop_endpoint(
            self.prefix + path, endpoint, [*self.dependencies, *(kwargs.get("dependencies") or [])]
        )
        if hopping is not None:
            endpoint = hopping
            kwargs["openapi_extra"] = {"security": SECURITY, **(kwargs.get("openapi_extra") or {})}
        super().add_api_route(path, endpoint, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("type") in ("http", "websocket") and not self.may_match(route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


def route_path(scope: Scope) -> str:
    """The path routes are matched against: the request's, without the app's root_path when
    it begins with it up to a "/" (as Starlette's routes read it)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    rest = path[len(root) :]
    return rest if rest == "" or rest.startswith("/") else path
