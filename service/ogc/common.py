"""What the OGC API's routes share: media types, content negotiation, links, the parameter
check, the caller's region, and one feature as a response (read by GET, answered by the
writes of Part 4)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from geo.crs import crs_uri
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.errors import InvalidParameter, NotFound
from service.features.collections import COLLECTIONS, Collection
from service.features.items import fetch_items
from service.features.params import items_request
from service.pages.templating import render

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
TITLE = "司法所登记系统 OGC API"

Format = Annotated[
    str | None,
    Query(alias="f", pattern="^(json|html)$", description="json (GeoJSON for features) or html"),
]


def wants_html(request: Request, f: str | None) -> bool:
    """`f` decides; without it, a browser (text/html before any JSON type) gets HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    html_at, json_at = accept.find(HTML), accept.find("json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


def only(request: Request, allowed: frozenset[str]) -> None:
    """A parameter this API does not define is a 400 naming it (Features Part 1 asks so: a
    client must not believe a filter applied that was ignored)."""
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise InvalidParameter(
            f"{unknown[0][:60]}: not a parameter of this resource"
            f" (parameters: {', '.join(sorted(allowed))})",
            {"field": unknown[0][:60]},
        )


def url(request: Request, path: str, **params: Any) -> str:
    base = str(request.base_url).rstrip("/") + path
    query = {k: v for k, v in params.items() if v is not None}
    return f"{base}?{urlencode(query)}" if query else base


def link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def json_response(
    body: Any, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, default=str), media_type=media_type, headers=headers
    )


def reader(scope: Scope) -> str:
    scope.require(Action.read)
    return scope.region(None)


def collection_of(cid: str) -> Collection:
    collection = COLLECTIONS.get(cid)
    if collection is None:
        raise NotFound(
            f"no collection {cid[:60]!r} (collections: {', '.join(COLLECTIONS)})",
            {"field": "collection_id"},
        )
    return collection


def feature_response(
    request: Request,
    scope: Scope,
    session: Session,
    c: Collection,
    feature_id: str,
    *,
    f: str | None = None,
    crs: str | None = None,
    properties: str | None = None,
    datetime_: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """One feature of the caller's region as GeoJSON (or HTML), with its ETag: an office's
    as the office API gives it (its version: what If-Match of a write compares) in the
    default representation, else a hash of the body."""
    region = reader(scope)
    query = items_request(
        c,
        limit=1,
        offset=0,
        bbox=None,
        bbox_crs=None,
        crs=crs,
        datetime_=datetime_,
        properties=properties,
        sortby=None,
    )
    matched, features = fetch_items(
        session,
        query,
        tenant_id=scope.tenant_id,
        region=region,
        fid=feature_id,
        required_kinds=scope.required_kinds,
    )
    if not matched:
        raise NotFound(
            f"no feature {feature_id[:40]!r} in {c.id} in your region", {"field": "feature_id"}
        )
    feature = features[1:-1]  # the array's one element
    path = f"/ogc/collections/{c.id}/items/{feature_id}"
    links = [
        link(url(request, path, f="json"), "self", GEOJSON, "本要素"),
        link(url(request, path, f="html"), "alternate", HTML, "本要素"),
        link(url(request, f"/ogc/collections/{c.id}"), "collection", JSON, c.title),
    ]
    content_crs = f"<{crs_uri(query.epsg)}>"
    if wants_html(request, f):
        response = render(
            "ogc_item.html",
            scope,
            session,
            collection=c,
            feature=json.loads(feature),
            links=links,
        )
        response.headers["Content-Crs"] = content_crs
        return response
    body = f'{feature[:-1]},"links":{json.dumps(links, ensure_ascii=False)}}}'
    if c.id == "offices" and crs is None and properties is None and datetime_ is None:
        tag = f'"{json.loads(feature)["properties"]["version"]}"'
    else:
        tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    sent = request.headers.get("if-none-match", "")
    if request.method == "GET" and tag in [t.strip().removeprefix("W/") for t in sent.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(
        body,
        status_code=status_code,
        media_type=GEOJSON,
        headers={"Content-Crs": content_crs, "ETag": tag, **(headers or {})},
    )
