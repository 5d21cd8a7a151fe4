"""OGC API — Features (Part 1 Core, GeoJSON, HTML, OAS 3.0; Part 2 CRS) under /ogc, for
desktop GIS (QGIS, GDAL, ArcGIS) and other systems; the writes are in edit_router.py, the
vector tiles in tiles_router.py, the API definition is made by openapi.py. Every response is the caller's: the same token, the same region scope
and row-level security as /api/v1 (docs/architecture.md, "OGC API")."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from geo.crs import OGC_CRS, crs_uri
from service.features import filters
from service.features.catalogue import Extent, region_extent
from service.features.collections import COLLECTIONS, Collection
from service.features.items import fetch_items
from service.features.params import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, items_request
from service.http.params import in_loop
from service.ogc.common import (
    ERRORS,
    GEOJSON,
    HTML,
    JSON,
    SELECTION,
    TITLE,
    Call,
    CallDep,
    CollectionDep,
    OgcRouter,
    SelectionDep,
    answers,
    feature_response,
)
from service.ogc.openapi import ogc_definition

router = OgcRouter(prefix="/ogc", tags=["OGC API - Features"], responses=ERRORS)
# the API definition's media type, as Features Part 1 (class oas30) names it
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
# the success of a route answered by `Call.answer` (JSON, or HTML by `f` or Accept)
PAGE = answers(JSON, HTML)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 4 on the offices collection (service/ogc/edit_router.py)
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    # Part 3 and CQL2 (service/features/filters.py); temporal functions (T_AFTER, T_BEFORE,
    # T_DURING, T_EQUALS, T_DISJOINT, T_OVERLAPS between a date and a date or interval) are
    # read in both encodings but not all of the class "temporal-functions", so not declared
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    # vector tiles of every collection in two tile matrix sets (service/ogc/tiles_router.py)
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
NONE = frozenset[str]()


@router.get("", summary="Landing page", response_class=Response, responses=PAGE)
@router.get("/", include_in_schema=False)
def landing(call: CallDep) -> Any:
    call.only(NONE)
    links = [
        call.link("/ogc", "self", JSON, "本页(JSON)", f="json"),
        call.link("/ogc", "alternate", HTML, "本页(HTML)", f="html"),
        call.link("/ogc/api", "service-desc", OPENAPI_30, "API 定义(OpenAPI 3.0)", f="json"),
        call.link("/docs", "service-doc", HTML, "API 文档"),
        call.link("/ogc/conformance", "conformance", JSON, "符合的标准类"),
        call.link("/ogc/collections", "data", JSON, "数据集合"),
        call.link(
            "/ogc/tileMatrixSets",
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
            JSON,
            "瓦片矩阵集",
        ),
    ]
    scope = call.scope
    body = {
        "title": TITLE,
        "description": f"{scope.tenant_name}的区划边界与司法所,限于您的辖区({scope.region_code})。",
        "links": links,
    }
    return call.answer(body, "ogc_landing.html")


@router.get(
    "/api",
    summary="The API definition (OpenAPI 3.0)",
    response_class=Response,
    responses=answers(OPENAPI_30, others={303: "HTML:转到 API 文档页 /docs"}),
)
def api_definition(call: CallDep) -> Response:
    """This API's paths in OpenAPI 3.0, made from the routes served (openapi.py); in HTML,
    the app's API documentation page, which shows them among the others."""
    call.only(NONE)
    if call.html:
        return RedirectResponse(call.url("/docs"), status_code=303)
    server = str(call.request.base_url).rstrip("/")
    body = ogc_definition(call.request.app, server, TITLE)
    return Response(json.dumps(body, ensure_ascii=False), media_type=OPENAPI_30)


@router.get("/conformance", summary="Conformance classes", response_class=Response, responses=PAGE)
def conformance(call: CallDep) -> Any:
    call.only(NONE)
    return call.answer({"conformsTo": CONFORMANCE}, "ogc_conformance.html")


def _describe(call: Call, c: Collection, extent: Extent | None) -> dict[str, Any]:
    path = f"/ogc/collections/{c.id}"
    spatial = (
        {"bbox": [list(extent.bbox)], "crs": crs_uri(None)} if extent and extent.bbox else None
    )
    first_day = extent.first_day.isoformat() if extent and extent.first_day else None
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {
            **({"spatial": spatial} if spatial else {}),
            "temporal": {
                "interval": [[first_day, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        },
        "crs": [crs_uri(e) for e in OGC_CRS],
        "storageCrs": crs_uri(None),
        "links": [
            call.link(path, "self", JSON, c.title, f="json"),
            call.link(path, "alternate", HTML, c.title, f="html"),
            call.link(f"{path}/items", "items", GEOJSON, f"{c.title}(GeoJSON)", f="json"),
            call.link(f"{path}/items", "items", HTML, f"{c.title}(HTML)", f="html"),
            call.link(
                f"{path}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "可用于筛选的属性",
            ),
            call.link(
                f"{path}/tiles",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                f"{c.title}(矢量瓦片)",
            ),
        ],
    }


@router.get("/collections", summary="The collections", response_class=Response, responses=PAGE)
def collections(call: CallDep) -> Any:
    call.only(NONE)
    extent = region_extent(call.session, call.scope.tenant_id, call.region)
    body = {
        "links": [
            call.link("/ogc/collections", "self", JSON, "数据集合", f="json"),
            call.link("/ogc/collections", "alternate", HTML, "数据集合", f="html"),
        ],
        "collections": [_describe(call, c, extent) for c in COLLECTIONS.values()],
    }
    return call.answer(body, "ogc_collections.html")


@router.get(
    "/collections/{collection_id}", summary="A collection", response_class=Response, responses=PAGE
)
def collection(c: CollectionDep, call: CallDep) -> Any:
    call.only(NONE)
    extent = region_extent(call.session, call.scope.tenant_id, call.region)
    return call.answer(_describe(call, c, extent), "ogc_collection.html", collection=c)


@dataclass(frozen=True)
class ItemsParams:
    """The query parameters of /items beyond the `Selection` tiles share (each read by
    service/features/params.py)."""

    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
    bbox: Annotated[str | None, Query(max_length=200)] = None
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None
    crs: Annotated[str | None, Query(max_length=200)] = None
    sortby: Annotated[str | None, Query(max_length=2000)] = None


ITEMS = SELECTION | {"limit", "offset", "bbox", "bbox-crs", "crs", "sortby"}


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=Response,
    responses=answers(GEOJSON, HTML),
)
def items(
    c: CollectionDep,
    call: CallDep,
    params: Annotated[ItemsParams, Depends(in_loop(ItemsParams))],
    selection: SelectionDep,
) -> Any:
    """Features of a collection: `filter` is CQL2 (text or JSON) over its queryables."""
    call.only(ITEMS)
    query = items_request(c, **asdict(params), **asdict(selection))
    matched, features = fetch_items(call.session, query, call.scope, call.region)
    limit, offset = params.limit, params.offset
    returned = max(0, min(limit, matched - offset))
    fmt, type_ = ("html", HTML) if call.html else ("json", GEOJSON)
    other, other_type = ("json", GEOJSON) if call.html else ("html", HTML)
    asked = {
        k: v for k, v in call.request.query_params.items() if k not in ("f", "offset", "limit")
    }
    path = f"/ogc/collections/{c.id}/items"

    def page(rel: str, at: int, f: str, media: str, title: str) -> dict[str, str]:
        return call.link(path, rel, media, title, **asked, limit=limit, offset=at, f=f)

    links = [
        page("self", offset, fmt, type_, "本页"),
        page("alternate", offset, other, other_type, "本页"),
        call.link(f"/ogc/collections/{c.id}", "collection", JSON, c.title),
    ]
    if offset + returned < matched:
        links.append(page("next", offset + limit, fmt, type_, "下一页"))
    if offset > 0:
        links.append(page("prev", max(0, offset - limit), fmt, type_, "上一页"))
    content_crs = f"<{crs_uri(query.epsg)}>"
    if call.html:
        response = call.render(
            "ogc_items.html",
            collection=c,
            features=json.loads(features),
            matched=matched,
            offset=offset,
            links=links,
            columns=query.properties or [p.name for p in c.properties],
        )
        response.headers["Content-Crs"] = content_crs
        return response
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
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


@router.get(
    "/collections/{collection_id}/queryables",
    summary="What a filter may name",
    response_class=Response,
    responses=answers(SCHEMA, HTML),
)
def queryables(c: CollectionDep, call: CallDep) -> Any:
    call.only(NONE)
    body = filters.queryables(c, call.url(f"/ogc/collections/{c.id}/queryables"))
    if call.html:
        return call.render("ogc_collection.html", body=_describe(call, c, None), collection=c)
    return call.answer(body, "", SCHEMA)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=Response,
    responses=answers(GEOJSON, HTML, others={304: "If-None-Match 所指的 ETag 仍是当前版本"}),
)
def item(
    c: CollectionDep,
    feature_id: Annotated[str, Path(max_length=40)],
    call: CallDep,
    crs: Annotated[str | None, Query(max_length=200)] = None,
    properties: Annotated[str | None, Query(max_length=2000)] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100)] = None,
) -> Any:
    call.only(frozenset({"crs", "properties", "datetime"}))
    return feature_response(
        call, c, feature_id, crs=crs, properties=properties, datetime_=datetime_
    )
