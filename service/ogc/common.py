"""What the OGC API's routes share: media types, content negotiation, links, the parameter
check, the caller's region, and one feature as a response (read by GET, answered by the
writes of Part 4)."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from geo.crs import crs_uri
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.errors import InvalidParameter, NotFound
from service.features.collections import COLLECTIONS, Collection
from service.features.filters import MAX_FILTER
from service.features.items import fetch_items
from service.features.params import items_request
from service.http.caching import client_holds
from service.http.deps import CurrentScope, SessionDep
from service.http.hop import CHECKS_CREDENTIAL, SECURITY, in_one_hop
from service.http.params import in_loop
from service.http.routing import Router
from service.offices.service import representation_etag
from service.pages.templating import render

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
TITLE = "司法所登记系统 OGC API"


class Problem(BaseModel):
    """An error's body (service/core/errors.py `error_body`, answered by
    service/http/errors.py): what the API definition says every 4xx and 5xx carries."""

    code: str
    message: str
    details: Any = None


# every route of /ogc answers errors so (a browser asking for HTML gets a Chinese page);
# declared on the routers, so FastAPI does not describe its own validation error instead
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "description": "请求有误、未认证、无权限或不存在"},
    "5XX": {"model": Problem, "description": "服务器或数据库错误"},
}


def answers(
    *media_types: str, status: int = 200, others: dict[int, str] | None = None
) -> dict[int | str, Any]:
    """The responses a route declares beside ERRORS: its success in each media type it
    answers in (`f` and Accept choose), and any other status it answers with, described."""
    described: dict[int | str, Any] = {
        status: {"description": "成功", "content": {m: {} for m in media_types}}
    }
    return described | {code: {"description": d} for code, d in (others or {}).items()}


Format = Annotated[
    str | None,
    Query(alias="f", pattern="^(json|html)$", description="json (GeoJSON for features) or html"),
]


@dataclass(frozen=True)
class Selection:
    """The query parameters that choose which features and which of their properties, the
    same for items and for tiles (each read by service/features/params.py)."""

    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100)] = None
    properties: Annotated[str | None, Query(max_length=2000)] = None
    filter_: Annotated[str | None, Query(alias="filter", max_length=MAX_FILTER)] = None
    filter_lang: Annotated[
        str | None,
        Query(alias="filter-lang", pattern="^cql2-(text|json)$", description="cql2-text (default)"),
    ] = None
    filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200)] = None


SelectionDep = Annotated[Selection, Depends(in_loop(Selection))]
SELECTION = frozenset({"datetime", "properties", "filter", "filter-lang", "filter-crs"})


@dataclass(frozen=True)
class Call:
    """One request to the OGC API: the HTTP request, the caller, their transaction, the
    region they read (their own: checked that they may read), and the format asked (`f`)."""

    request: Request
    scope: Scope
    session: Session
    region: str
    f: str | None

    @property
    def html(self) -> bool:
        return asks_html(self.request, self.f)

    def only(self, allowed: frozenset[str]) -> None:
        """A parameter this API does not define is a 400 naming it (Features Part 1 asks so:
        a client must not believe a filter applied that was ignored)."""
        unknown = [k for k in self.request.query_params if k not in allowed | {"f"}]
        if unknown:
            raise InvalidParameter(
                f"{unknown[0][:60]}: not a parameter of this resource"
                f" (parameters: {', '.join(sorted(allowed | {'f'}))})",
                {"field": unknown[0][:60]},
            )

    def url(self, path: str, **params: Any) -> str:
        base = str(self.request.base_url).rstrip("/") + path
        query = {k: v for k, v in params.items() if v is not None}
        return f"{base}?{urlencode(query)}" if query else base

    def link(self, path: str, rel: str, type_: str, title: str, **params: Any) -> dict[str, str]:
        return {"href": self.url(path, **params), "rel": rel, "type": type_, "title": title}

    def holds(self, tag: str) -> bool:
        """The client holds what `tag` names: If-None-Match on a GET (weak or strong)."""
        return client_holds(self.request, tag)

    def render(self, template: str, **context: Any) -> Response:
        return render(template, self.scope, self.session, **context)

    def answer(self, body: Any, template: str, media_type: str = JSON, **context: Any) -> Response:
        """`body` as JSON, or the page `template` shows it in."""
        if self.html:
            return self.render(template, body=body, **context)
        return Response(json.dumps(body, ensure_ascii=False, default=str), media_type=media_type)


def asks_html(request: Request, f: str | None) -> bool:
    """Whether the answer is a page: `f` decides; without it, a browser (text/html before
    any JSON type) gets HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    html_at, json_at = accept.find(HTML), accept.find("json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


async def _call(
    request: Request, scope: CurrentScope, session: SessionDep, f: Format = None
) -> Call:
    scope.require(Action.read)
    return Call(request, scope, session, scope.region(None), f)


CallDep = Annotated[Call, Depends(_call)]
# the path's collection, as a route of one_hop takes it (looked up before the hop: an unknown
# one is a 404 without a transaction)
CollectionPath = Annotated[str, Path()]


def one_hop(handler: Callable[..., Any]) -> Callable[..., Any]:
    """An OGC route's `handler` (a plain function taking a `CallDep`) as an endpoint that runs
    in one trip to the thread pool (`in_one_hop`, service/http/hop.py): the transaction, the
    credential check, the handler and the commit — which, as dependencies, cost each request
    four trips between the event loop and the pool (0.2 ms or more each on a busy machine).
    The handler's other parameters stay FastAPI's to read and check, but for its collection
    (`CollectionDep`), looked up here, and the bearer token, read by `in_one_hop`: as
    dependencies of their own, FastAPI solved each on every request (a fifth of an item's
    time in the app)."""
    signature = inspect.signature(handler, eval_str=True)
    (name,) = (p.name for p in signature.parameters.values() if p.annotation is CallDep)
    collection = next(
        (p.name for p in signature.parameters.values() if p.annotation is CollectionDep), None
    )
    kept = [p for p in signature.parameters.values() if p.name not in (name, collection)]
    taken = {"request", "f", "collection_id"} & {p.name for p in kept}
    if taken:  # (the endpoint's own parameters: the handler's would be shadowed)
        raise TypeError(f"{handler.__name__}: parameter names taken by one_hop: {taken}")
    keyword = inspect.Parameter.KEYWORD_ONLY

    async def endpoint(request: Request, f: Format = None, **values: Any) -> Any:
        if collection is not None:
            values[collection] = collection_of(values.pop("collection_id"))

        def work(scope: Scope, session: Session) -> Any:
            scope.require(Action.read)
            return handler(**{name: Call(request, scope, session, scope.region(None), f)}, **values)

        # a read answered in JSON, GeoJSON or tiles waits for the database on the event loop
        # (PostgreSQL makes the body); a page, made by Python from templates, and a write in
        # a thread
        reads = request.method in ("GET", "HEAD") and not asks_html(request, f)
        return await in_one_hop(request, work, on_loop=reads)

    setattr(endpoint, CHECKS_CREDENTIAL, True)
    own = [inspect.Parameter("request", keyword, annotation=Request)]
    if collection is not None:
        own.append(inspect.Parameter("collection_id", keyword, annotation=CollectionPath))
    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            *own,
            *(p.replace(kind=keyword) for p in kept),
            inspect.Parameter("f", keyword, annotation=Format, default=None),
        ]
    )
    endpoint.__name__, endpoint.__doc__ = handler.__name__, handler.__doc__
    endpoint.__qualname__ = handler.__qualname__
    return endpoint


class OgcRouter(Router):
    """The OGC API's routers: a route whose handler takes a `CallDep` runs in one hop
    (`one_hop`), so that no route of the API can forget it."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        takes_call = any(
            p.annotation is CallDep
            for p in inspect.signature(endpoint, eval_str=True).parameters.values()
        )
        if takes_call:
            endpoint = one_hop(endpoint)
            kwargs["openapi_extra"] = {"security": SECURITY, **(kwargs.get("openapi_extra") or {})}
        super().add_api_route(path, endpoint, **kwargs)


def collection_of(collection_id: str) -> Collection:
    """The collection a path names; 404 naming those there are."""
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFound(
            f"no collection {collection_id[:60]!r} (collections: {', '.join(COLLECTIONS)})",
            {"field": "collection_id"},
        )
    return collection


def feature_response(
    call: Call,
    c: Collection,
    feature_id: str,
    *,
    crs: str | None = None,
    properties: str | None = None,
    datetime_: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """One feature of the caller's region as GeoJSON (or HTML), with its ETag: an office's
    as the office API gives it (its version: what If-Match of a write compares) in the
    default representation, else a hash of the body."""
    query = items_request(c, crs=crs, datetime_=datetime_, properties=properties)
    matched, features = fetch_items(call.session, query, call.scope, call.region, fid=feature_id)
    if not matched:
        raise NotFound(
            f"no feature {feature_id[:40]!r} in {c.id} in your region", {"field": "feature_id"}
        )
    feature = features[1:-1]  # the array's one element
    path = f"/ogc/collections/{c.id}/items/{feature_id}"
    links = [
        call.link(path, "self", GEOJSON, "本要素", f="json"),
        call.link(path, "alternate", HTML, "本要素", f="html"),
        call.link(f"/ogc/collections/{c.id}", "collection", JSON, c.title),
    ]
    content_crs = f"<{crs_uri(query.epsg)}>"
    if call.html:
        page = call.render("ogc_item.html", collection=c, feature=json.loads(feature), links=links)
        page.headers["Content-Crs"] = content_crs
        return page
    body = f'{feature[:-1]},"links":{json.dumps(links, ensure_ascii=False)}}}'
    digest = hashlib.sha256(body.encode()).hexdigest()
    if c.id == "offices" and crs is None and properties is None and datetime_ is None:
        # the office's version (what If-Match of a write compares) and the body's digest: the
        # compliance score changes with the office's records, not with its version
        tag = representation_etag(json.loads(feature)["properties"]["version"], digest[:16])
    else:
        tag = f'"{digest[:32]}"'
    if call.holds(tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(
        body,
        status_code=status_code,
        media_type=GEOJSON,
        headers={"Content-Crs": content_crs, "ETag": tag, **(headers or {})},
    )


async def _collection(collection_id: str) -> Collection:
    return collection_of(collection_id)


CollectionDep = Annotated[Collection, Depends(_collection)]
