"""OGC API — Features (Part 1 Core, GeoJSON, HTML; Part 2 CRS) under /ogc, for desktop GIS
(QGIS, GDAL, ArcGIS) and other systems. Every response is the caller's: the same token, the
same region scope and row-level security as /api/v1 (docs/architecture.md, "OGC API")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from geo.crs import OGC_CRS, crs_uri
from service.features import filters
from service.features.catalogue import region_extent
from service.features.collections import COLLECTIONS, Collection
from service.features.filters import MAX_FILTER
from service.features.items import fetch_items
from service.features.params import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, items_request
from service.http.deps import CurrentScope, SessionDep
from service.ogc.common import (
    GEOJSON,
    HTML,
    JSON,
    TITLE,
    Format,
    collection_of,
    feature_response,
    json_response,
    link,
    only,
    reader,
    url,
    wants_html,
)
from service.pages.templating import render

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 4 on the offices collection (service/ogc/edit_router.py)
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    # Part 3 and CQL2 (service/features/filters.py); temporal functions are read from
    # CQL2-JSON only: the text parser of pygeofilter 0.4 takes them in an older syntax
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
]
COMMON = frozenset({"f"})


@router.get("", summary="Landing page")
@router.get("/", include_in_schema=False)
def landing(request: Request, scope: CurrentScope, session: SessionDep, f: Format = None) -> Any:
    only(request, COMMON)
    reader(scope)
    links = [
        link(url(request, "/ogc", f="json"), "self", JSON, "本页(JSON)"),
        link(url(request, "/ogc", f="html"), "alternate", HTML, "本页(HTML)"),
        link(
            url(request, "/openapi.json"),
            "service-desc",
            "application/vnd.oai.openapi+json;version=3.1",
            "API 定义(OpenAPI)",
        ),
        link(url(request, "/docs"), "service-doc", HTML, "API 文档"),
        link(url(request, "/ogc/conformance"), "conformance", JSON, "符合的标准类"),
        link(url(request, "/ogc/collections"), "data", JSON, "数据集合"),
    ]
    body = {
        "title": TITLE,
        "description": f"{scope.tenant_name}的区划边界与司法所,限于您的辖区({scope.region_code})。",
        "links": links,
    }
    if wants_html(request, f):
        return render("ogc_landing.html", scope, session, body=body)
    return json_response(body)


@router.get("/conformance", summary="Conformance classes")
def conformance(
    request: Request, scope: CurrentScope, session: SessionDep, f: Format = None
) -> Any:
    only(request, COMMON)
    reader(scope)
    body = {"conformsTo": CONFORMANCE}
    if wants_html(request, f):
        return render("ogc_conformance.html", scope, session, body=body)
    return json_response(body)


def _describe(request: Request, c: Collection, extent: Any) -> dict[str, Any]:
    path = f"/ogc/collections/{c.id}"
    spatial = (
        {"bbox": [list(extent.bbox)], "crs": crs_uri(None)} if extent and extent.bbox else None
    )
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {
            **({"spatial": spatial} if spatial else {}),
            "temporal": {
                "interval": [
                    [extent.first_day.isoformat() if extent and extent.first_day else None, None]
                ],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        },
        "crs": [crs_uri(e) for e in OGC_CRS],
        "storageCrs": crs_uri(None),
        "links": [
            link(url(request, path, f="json"), "self", JSON, c.title),
            link(url(request, path, f="html"), "alternate", HTML, c.title),
            link(url(request, f"{path}/items", f="json"), "items", GEOJSON, f"{c.title}(GeoJSON)"),
            link(url(request, f"{path}/items", f="html"), "items", HTML, f"{c.title}(HTML)"),
            link(
                url(request, f"{path}/queryables"),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "可用于筛选的属性",
            ),
        ],
    }


@router.get("/collections", summary="The collections")
def collections(
    request: Request, scope: CurrentScope, session: SessionDep, f: Format = None
) -> Any:
    only(request, COMMON)
    region = reader(scope)
    extent = region_extent(session, scope.tenant_id, region)
    body = {
        "links": [
            link(url(request, "/ogc/collections", f="json"), "self", JSON, "数据集合"),
            link(url(request, "/ogc/collections", f="html"), "alternate", HTML, "数据集合"),
        ],
        "collections": [_describe(request, c, extent) for c in COLLECTIONS.values()],
    }
    if wants_html(request, f):
        return render("ogc_collections.html", scope, session, body=body)
    return json_response(body)


@router.get("/collections/{collection_id}", summary="A collection")
def collection(
    collection_id: str,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    f: Format = None,
) -> Any:
    only(request, COMMON)
    c = collection_of(collection_id)
    region = reader(scope)
    body = _describe(request, c, region_extent(session, scope.tenant_id, region))
    if wants_html(request, f):
        return render("ogc_collection.html", scope, session, body=body, collection=c)
    return json_response(body)


ITEMS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "properties",
        "sortby",
        "filter",
        "filter-lang",
        "filter-crs",
    }
)
FilterLang = Annotated[
    str | None,
    Query(alias="filter-lang", pattern="^cql2-(text|json)$", description="cql2-text (default)"),
]


@router.get("/collections/{collection_id}/items", summary="Features of a collection")
def items(
    collection_id: str,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    f: Format = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None,
    crs: Annotated[str | None, Query(max_length=200)] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100)] = None,
    properties: Annotated[str | None, Query(max_length=2000)] = None,
    sortby: Annotated[str | None, Query(max_length=2000)] = None,
    filter_: Annotated[str | None, Query(alias="filter", max_length=MAX_FILTER)] = None,
    filter_lang: FilterLang = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200)] = None,
) -> Any:
    """Features of a collection: `filter` is CQL2 (text or JSON) over its queryables."""
    only(request, ITEMS)
    c = collection_of(collection_id)
    region = reader(scope)
    query = items_request(
        c,
        limit=limit,
        offset=offset,
        bbox=bbox,
        bbox_crs=bbox_crs,
        crs=crs,
        datetime_=datetime_,
        properties=properties,
        sortby=sortby,
        filter_=filter_,
        filter_lang=filter_lang,
        filter_crs=filter_crs,
    )
    matched, features = fetch_items(
        session,
        query,
        tenant_id=scope.tenant_id,
        region=region,
        required_kinds=scope.required_kinds,
    )
    returned = max(0, min(limit, matched - offset))
    html = wants_html(request, f)
    asked = {k: v for k, v in request.query_params.items() if k not in ("f", "offset", "limit")}
    path = f"/ogc/collections/{c.id}/items"

    def page(rel: str, at: int, fmt: str, type_: str, title: str) -> dict[str, str]:
        return link(url(request, path, **asked, limit=limit, offset=at, f=fmt), rel, type_, title)

    links = [
        page("self", offset, "html" if html else "json", HTML if html else GEOJSON, "本页"),
        page("alternate", offset, "json" if html else "html", GEOJSON if html else HTML, "本页"),
        link(url(request, f"/ogc/collections/{c.id}"), "collection", JSON, c.title),
    ]
    if offset + returned < matched:
        fmt, type_ = ("html", HTML) if html else ("json", GEOJSON)
        links.append(page("next", offset + limit, fmt, type_, "下一页"))
    if offset > 0:
        fmt, type_ = ("html", HTML) if html else ("json", GEOJSON)
        links.append(page("prev", max(0, offset - limit), fmt, type_, "上一页"))
    content_crs = f"<{crs_uri(query.epsg)}>"
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if html:
        response = render(
            "ogc_items.html",
            scope,
            session,
            collection=c,
            features=json.loads(features),
            matched=matched,
            offset=offset,
            links=links,
            columns=query.properties or [p.name for p in c.properties],
        )
        response.headers["Content-Crs"] = content_crs
        return response
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": stamp,
            "links": links,
        },
        ensure_ascii=False,
    )
    body = f'{head[:-1]},"features":{features}}}'
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": content_crs})


@router.get("/collections/{collection_id}/queryables", summary="What a filter may name")
def queryables(
    collection_id: str,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    f: Format = None,
) -> Any:
    only(request, COMMON)
    c = collection_of(collection_id)
    reader(scope)
    body = filters.queryables(c, url(request, f"/ogc/collections/{c.id}/queryables"))
    if wants_html(request, f):
        return render(
            "ogc_collection.html", scope, session, body=_describe(request, c, None), collection=c
        )
    return json_response(body, "application/schema+json")


FEATURE = frozenset({"f", "crs", "properties", "datetime"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(
    collection_id: str,
    feature_id: Annotated[str, Path(max_length=40)],
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    f: Format = None,
    crs: Annotated[str | None, Query(max_length=200)] = None,
    properties: Annotated[str | None, Query(max_length=2000)] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100)] = None,
) -> Any:
    only(request, FEATURE)
    return feature_response(
        request,
        scope,
        session,
        collection_of(collection_id),
        feature_id,
        f=f,
        crs=crs,
        properties=properties,
        datetime_=datetime_,
    )
