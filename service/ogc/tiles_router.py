"""OGC API — Tiles (Part 1: core, tileset, tilesets-list, geodata-tilesets, MVT) and the tile
matrix sets (TMS 2.0, JSON) under /ogc: every collection as Mapbox Vector Tiles in
WebMercatorQuad and WorldCRS84Quad, scoped and selected like its items — the same token,
region, row-level security, `datetime`, `properties` and CQL2 `filter`
(docs/architecture.md, "OGC API").

An empty tile is a 204 without a body (OGC API Tiles allows it or an empty 200): a client
knows there is nothing to draw without parsing, and GDAL, MapLibre and Leaflet.VectorGrid
read it as an empty tile. Every tile carries an ETag from the data versions it read and
`Cache-Control: private, no-cache` (what it holds depends on who asks): a client revalidates
with If-None-Match and is answered 304 without the tile being made; a worker keeps the
tiles it made under their ETags (service/core/byte_cache.py) and answers the next
request for the same tag without making it again.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response

from geo.crs import CRS84
from service.core.byte_cache import ByteCache
from service.core.versions import data_version
from service.features.catalogue import region_extent
from service.features.collections import Collection
from service.features.params import tile_matrix_set, tile_request
from service.features.tilematrixsets import TILE_MATRIX_SETS, TileMatrixSet
from service.features.tiles import MVT, fetch_tile, layer_description, matrix_limits, tile_etag
from service.ogc.common import (
    ERRORS,
    JSON,
    SELECTION,
    Call,
    CallDep,
    CollectionDep,
    OgcRouter,
    SelectionDep,
)

router = OgcRouter(prefix="/ogc", tags=["OGC API - Tiles"], responses=ERRORS)

TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
NONE = frozenset[str]()
CACHING = "private, no-cache"

TileMatrixSetId = Annotated[str, Path(alias="tileMatrixSetId", max_length=40)]


def _json(body: Any) -> Response:
    """Tile metadata is JSON whatever `f` asks (there is no HTML of it)."""
    return Response(json.dumps(body, ensure_ascii=False), media_type=JSON)


def _tms_link(call: Call, tms: TileMatrixSet, rel: str) -> dict[str, str]:
    return call.link(f"/ogc/tileMatrixSets/{tms.id}", rel, JSON, tms.title)


@router.get("/tileMatrixSets", summary="The tile matrix sets tiles are offered in")
def tile_matrix_sets(call: CallDep) -> Response:
    call.only(NONE)
    return _json(
        {
            "links": [call.link("/ogc/tileMatrixSets", "self", JSON, "瓦片矩阵集")],
            "tileMatrixSets": [
                {
                    "id": tms.id,
                    "title": tms.title,
                    "uri": tms.uri,
                    "crs": tms.crs,
                    "links": [_tms_link(call, tms, "self")],
                }
                for tms in TILE_MATRIX_SETS.values()
            ],
        }
    )


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set's definition")
def tile_matrix_set_definition(tms_id: TileMatrixSetId, call: CallDep) -> Response:
    call.only(NONE)
    return _json(tile_matrix_set(tms_id).document())


def _region_box(call: Call) -> dict[str, Any]:
    """The caller's region's box as tileset metadata gives it (nothing for an empty region)."""
    extent = region_extent(call.session, call.scope.tenant_id, call.region)
    if extent.bbox is None:
        return {}
    x1, y1, x2, y2 = extent.bbox
    return {"boundingBox": {"lowerLeft": [x1, y1], "upperRight": [x2, y2], "crs": CRS84}}


def _tileset(call: Call, c: Collection, tms: TileMatrixSet) -> dict[str, Any]:
    """A tileset as the list and its own document begin it: what it is, where its tile
    matrix set and its tiles are."""
    path = f"/ogc/collections/{c.id}/tiles/{tms.id}"
    return {
        "title": f"{c.title}:{tms.id}",
        "dataType": "vector",
        "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "links": [
            call.link(path, "self", JSON, f"{c.title}:{tms.id}"),
            _tms_link(call, tms, TILING_SCHEME),
            {
                "href": call.url(path) + "/{tileMatrix}/{tileRow}/{tileCol}",
                "rel": "item",
                "type": MVT,
                "title": f"{c.title}(MVT 瓦片)",
                "templated": True,
            },
        ],
    }


@router.get("/collections/{collection_id}/tiles", summary="A collection's vector tilesets")
def tilesets(c: CollectionDep, call: CallDep) -> Response:
    call.only(NONE)
    path, box = f"/ogc/collections/{c.id}", _region_box(call)
    return _json(
        {
            "links": [
                call.link(f"{path}/tiles", "self", JSON, f"{c.title}(矢量瓦片)"),
                call.link(path, "collection", JSON, c.title),
            ],
            "tilesets": [{**_tileset(call, c, tms), **box} for tms in TILE_MATRIX_SETS.values()],
        }
    )


@router.get(
    "/collections/{collection_id}/tiles/{tileMatrixSetId}",
    summary="A collection's vector tileset in one tile matrix set",
)
def tileset(c: CollectionDep, tms_id: TileMatrixSetId, call: CallDep) -> Response:
    call.only(NONE)
    tms = tile_matrix_set(tms_id)
    return _json(
        {
            **_tileset(call, c, tms),
            **_region_box(call),
            "description": c.description,
            "tileMatrixSetLimits": matrix_limits(tms),
            "layers": [layer_description(c, tms, c.tile_properties)],
        }
    )


@router.get(
    "/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile (Mapbox Vector Tile) of a collection",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "the tile"},
        204: {"description": "no feature of the caller's region in the tile"},
        304: {"description": "the tile the ETag in If-None-Match names is still current"},
    },
)
def tile(
    c: CollectionDep,
    tms_id: TileMatrixSetId,
    z: Annotated[int, Path(alias="tileMatrix")],
    y: Annotated[int, Path(alias="tileRow")],
    x: Annotated[int, Path(alias="tileCol")],
    call: CallDep,
    params: SelectionDep,
    coalesce: Annotated[
        bool,
        Query(
            description="true: the features of the tile whose chosen `properties` are equal"
            " are merged into one (a client has fewer features to draw; none can be told"
            " apart from the others with the same values)"
        ),
    ] = False,
) -> Response:
    """One tile: `properties` chooses the layer's fields (default: the collection's styling
    fields), `datetime` and `filter` (CQL2) choose the features as for items; `coalesce`
    merges those with the same properties (a map styled by a class draws a few features a
    tile instead of thousands)."""
    call.only(SELECTION | {"coalesce"})
    wanted = tile_request(c, tms_id, z, y, x, coalesce=coalesce, **asdict(params))
    version = data_version(call.session, tenant_id=call.scope.tenant_id, names=c.reads)
    tag = tile_etag(wanted, version=version, scope=call.scope, region=call.region)
    headers = {"ETag": tag, "Cache-Control": CACHING}
    if call.holds(tag):
        return Response(status_code=304, headers=headers)
    cache: ByteCache = call.request.app.state.tile_cache
    data = cache.get(tag)
    if data is None:
        data = fetch_tile(call.session, wanted, call.scope, call.region)
        cache.put(tag, data)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
