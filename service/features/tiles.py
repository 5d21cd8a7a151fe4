"""Vector tiles (Mapbox Vector Tile) of a collection, made by PostGIS in one statement:
`ST_AsMVTGeom` clips each feature to the tile (with a buffer) and quantises it to the tile's
4,096 units, `ST_AsMVT` encodes the layer. The statement is built over the collection's
source at a time (`Collection.source`) with a list of conditions — the tile's box, and a
CQL2 filter (service/features/filters.py) — so region, row-level security, `datetime` and
`filter` apply exactly as for items; it is built once per shape and kept, the tile and its
values bound (a filtered tile builds its own, as filtered items do).

Polygons are snapped to the grid of the tile's pixels (the tile matrix's cell) before they
are clipped: a shared edge is the same vertices in both neighbours, and snapping moves each
vertex by itself, so neighbours still share their edge after it, in this tile and the next
(Douglas–Peucker and ST_SimplifyPreserveTopology simplify each polygon alone, and a shared
edge then leaves a sliver or an overlap of up to two tolerances). A vertex moves at most
half a pixel; the work is bounded by the pixels a boundary crosses, not by its stored
vertices. Snapping is done in lon/lat, before the transformation to Web Mercator, so that
only the vertices that remain are transformed (2.5× faster at zoom 4–6). Points are thinned
to one a pixel (the first by feature id): 40,000 offices at zoom 0 were 2.9 MB and 0.8 s.

A tile's ETag names what made it: the statement, the data versions of the tables it reads
(service/core/versions.py), the tenant, the region, the tenant's required kinds and the
request. A client revalidates with If-None-Match and is told 304 without the tile being
made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from geo.crs import WEB_MERCATOR
from service.accounts.scope import Scope
from service.core.db import plan_for_values
from service.features import filters
from service.features.collections import COLLECTIONS, Collection, When
from service.features.items import Window, source_params
from service.features.tilematrixsets import (
    TILE_MATRIX_SETS,
    WEB_MERCATOR_QUAD,
    WORLD_CRS84_QUAD,
    TileMatrixSet,
)

MVT = "application/vnd.mapbox-vector-tile"
EXTENT = 4096  # units across a tile: 16 to a pixel of a 256-pixel tile
BUFFER = 64  # units drawn beyond each edge (4 pixels), so strokes meet across tile seams
# The tile matrices served: both are 1:8,530 (2.4 m a pixel, 0.15 m a unit); a client
# zoomed in further draws these tiles larger.
MAX_TILE_MATRIX = {WEB_MERCATOR_QUAD.id: 16, WORLD_CRS84_QUAD.id: 15}

# Below this zoom a tile is planned for its values (service/core/db.py plan_for_values): a
# tile of a quarter of the country with the cached plan of a county's took 1.6× as long at
# its slowest. From it, the cached plan: the planning and its round trip were a third of a
# zoom-12 tile's time (`scripts/bench maps`, tiles cold at z12: 4.2 → 3.1 ms).
PLANNED_BELOW = 6
Z, X, Y = (bindparam(n, type_=Integer) for n in ("z", "x", "y"))
# the snapping grid (a pixel in degrees of lon and lat), the tile's box grown by the buffer
# in lon/lat (what a feature must meet), the tile itself in lon/lat (WorldCRS84Quad)
SX, SY = (bindparam(n, type_=Float) for n in ("sx", "sy"))
BX1, BY1, BX2, BY2 = (bindparam(n, type_=Float) for n in ("bx1", "by1", "bx2", "by2"))
TX1, TY1, TX2, TY2 = (bindparam(n, type_=Float) for n in ("tx1", "ty1", "tx2", "ty2"))


@dataclass(frozen=True)
class TileShape:
    """What of a tile request changes its statement."""

    collection: str
    tms: str
    when: When
    properties: tuple[str, ...]
    coalesce: bool = False


@dataclass(frozen=True)
class TileRequest:
    """One tile of a collection: its address, the time asked about, the layer's fields, a
    CQL2 filter as the client wrote it. Ids and text, not objects, so that its repr is the
    same in every process: it is part of the ETag."""

    collection: str
    tms: str
    z: int
    y: int
    x: int
    window: Window = field(default_factory=Window)
    properties: tuple[str, ...] = ()
    filter_text: str | None = None
    filter_lang: str | None = None
    filter_epsg: int | None = None
    # the features with equal properties merged into one
    coalesce: bool = False
    # the filter's syntax tree (pygeofilter's), read from filter_text
    filter: Any = field(default=None, compare=False, repr=False)

    def shape(self) -> TileShape:
        return TileShape(
            self.collection, self.tms, self.window.when, self.properties, self.coalesce
        )

    def params(self) -> dict[str, Any]:
        """The tile's values for its statement."""
        tms = TILE_MATRIX_SETS[self.tms]
        sx, sy = tms.pixel_degrees(self.z, self.y)
        box = tms.lonlat_bounds(self.z, self.y, self.x, margin=BUFFER / EXTENT)
        tile = tms.lonlat_bounds(self.z, self.y, self.x)
        return {
            "z": self.z,
            "y": self.y,
            "x": self.x,
            "sx": sx,
            "sy": sy,
            **dict(zip(("bx1", "by1", "bx2", "by2"), box, strict=True)),
            **dict(zip(("tx1", "ty1", "tx2", "ty2"), tile, strict=True)),
        }


def in_tile(geom: Any) -> ColumnElement[bool]:
    """The feature meets the tile grown by its buffer (bounding boxes: the index decides,
    and what only the boxes share is clipped away to nothing)."""
    return geom.op("&&")(func.ST_MakeEnvelope(BX1, BY1, BX2, BY2, 4326))


def _envelope(tms: TileMatrixSet) -> ColumnElement[Any]:
    if tms.epsg == WEB_MERCATOR:
        return func.ST_TileEnvelope(Z, X, Y)
    # WorldCRS84Quad: 2^(z+1) × 2^z tiles in the stored lon/lat
    return func.ST_MakeEnvelope(TX1, TY1, TX2, TY2, 4326)


def _drawn(geom: Any, tms: TileMatrixSet, polygonal: bool) -> ColumnElement[Any]:
    """The geometry as `ST_AsMVTGeom` gets it: polygons snapped to the pixel grid, in the
    tile matrix set's CRS."""
    if polygonal:
        geom = func.ST_SnapToGrid(geom, -180.0, 90.0, SX, SY)
    return geom if tms.epsg is None else func.ST_Transform(geom, tms.epsg)


def _tile_value(column: Any, prop_type: str) -> Any:
    # MVT values are strings, integers, floats and booleans: numeric(9,1) → float, a date → text
    if prop_type == "number":
        return cast(column, Float)
    if prop_type == "date":
        return cast(column, String)
    return column


@lru_cache(maxsize=256)
def tile_statement(shape: TileShape) -> Select[Any]:
    """The tile of `shape`'s collection: its bytes (none when nothing is in it). Built once
    per shape; a tile with a filter builds its own (`filtered_tile_statement`)."""
    source = COLLECTIONS[shape.collection].source(shape.when).subquery("f")
    return tile_statement_over(shape, source, [in_tile(source.c.geom)])


def filtered_tile_statement(request: TileRequest) -> Select[Any]:
    """The tile statement of a request with a CQL2 filter: its values are in the tree, so
    the statement is the filter's own (as items' `filtered_statement`). Kept by the filter's
    text: a map asks every tile of its view with the same filter (its region, its kinds),
    and building the statement and its cache key again was a third of a tile's time."""
    assert request.filter_text is not None
    return _filtered_statement(
        request.shape(),
        request.filter_text,
        request.filter_lang or "cql2-text",
        request.filter_epsg,
    )


@lru_cache(maxsize=256)
def _filtered_statement(shape: TileShape, text: str, lang: str, epsg: int | None) -> Select[Any]:
    collection = COLLECTIONS[shape.collection]
    source = collection.source(shape.when).subquery("f")
    tree = filters.parse(text, lang)  # (the request's own tree, read again from its text)
    where = [in_tile(source.c.geom), filters.condition(tree, collection, source, epsg)]
    return tile_statement_over(shape, source, where)


def tile_statement_over(
    shape: TileShape, source: Any, where: list[ColumnElement[bool]]
) -> Select[Any]:
    """The tile statement over `source` with the conditions `where` (the tile's own among
    them; a filter a library parsed joins the list)."""
    collection = COLLECTIONS[shape.collection]
    tms = TILE_MATRIX_SETS[shape.tms]
    if collection.geometry == "Point":
        # one point a pixel, chosen before any is drawn: a pixel shows one anyway, and a
        # tile over the nation stays small
        pixel = (
            func.floor((func.ST_X(source.c.geom) + 180.0) / SX),
            func.floor((90.0 - func.ST_Y(source.c.geom)) / SY),
        )
        source = (
            select(source).where(*where).ext(distinct_on(*pixel)).order_by(*pixel, source.c.fid)
        ).subquery("p")
        where = []
    drawn = _drawn(source.c.geom, tms, collection.geometry == "MultiPolygon")
    columns = []
    for name in shape.properties:
        prop = collection.property(name)
        assert prop is not None
        columns.append(_tile_value(source.c[name], prop.type).label(name))
    rows = (
        select(
            func.ST_AsMVTGeom(drawn, _envelope(tms), EXTENT, BUFFER, True).label("geom"), *columns
        )
        .where(*where)
        .subquery("t")
    )
    if shape.coalesce:
        rows = _coalesced(rows, collection, shape.properties)
    # A feature only the bounding boxes put in the tile is clipped to NULL, and ST_AsMVT
    # leaves NULL geometries out (a WHERE on it would make PostgreSQL clip every feature twice).
    return select(
        func.ST_AsMVT(rows.table_valued(), literal(collection.id), EXTENT, literal("geom"))
    )


def _coalesced(rows: Any, collection: Collection, names: tuple[str, ...]) -> Any:
    """The tile's features with equal `names` as one: their clipped geometries collected
    (not unioned: each keeps its own rings, so a township's hole filled by a neighbour of
    the same class is drawn filled under either fill rule, and no vertex moves)."""
    parts = 3 if collection.geometry == "MultiPolygon" else 1
    keys = [rows.c[name] for name in names]
    collected = func.ST_CollectionExtract(func.ST_Collect(rows.c.geom), parts)
    return select(collected.label("geom"), *keys).group_by(*keys).subquery("c")


@cache
def _statement_digest(shape: TileShape) -> str:
    """The statement's SQL, hashed: a release that changes how tiles are made changes their
    ETags."""
    sql = str(tile_statement(shape).compile(dialect=postgresql.dialect()))
    return hashlib.sha256(sql.encode()).hexdigest()


def tile_etag(request: TileRequest, *, version: int, scope: Scope, region: str) -> str:
    """The tile's entity tag: equal exactly when the same statement read the same data with
    the same values (the caller's tenant, region and the tenant's required kinds, which the
    coverage status reads)."""
    key = "|".join(
        (
            _statement_digest(request.shape()),
            str(version),
            str(scope.tenant_id),
            region,
            ",".join(scope.required_kinds),
            repr(request),
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def fetch_tile(session: Session, request: TileRequest, scope: Scope, region: str) -> bytes:
    """The tile's MVT bytes; empty when no feature of the caller's region is in it."""
    params = {**source_params(scope, region, request.window), **request.params()}
    if request.z < PLANNED_BELOW:
        plan_for_values(session)
    if request.filter is None:
        statement = tile_statement(request.shape())
    else:
        statement = filtered_tile_statement(request)
    data = session.execute(statement, params).scalar_one()
    return bytes(data or b"")


def layer_description(collection: Collection, tms: TileMatrixSet, names: tuple[str, ...]) -> dict:
    """The tileset's one layer in the TMS 2.0 tileset metadata: its fields as a JSON schema."""
    fields = {p.name: p.json_schema() for p in collection.properties if p.name in names}
    return {
        "id": collection.id,
        "title": collection.title,
        "dataType": "vector",
        "geometryDimension": 2 if collection.geometry == "MultiPolygon" else 0,
        "featureType": collection.id,
        "minTileMatrix": "0",
        "maxTileMatrix": str(MAX_TILE_MATRIX[tms.id]),
        "propertiesSchema": {"type": "object", "properties": fields},
    }


def matrix_limits(tms: TileMatrixSet) -> list[dict[str, Any]]:
    """The tile matrices served, each whole (a tile outside the caller's region is empty,
    not missing)."""
    limits = []
    for z in range(MAX_TILE_MATRIX[tms.id] + 1):
        columns, rows = tms.matrix_size(z)
        limits.append(
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": rows - 1,
                "minTileCol": 0,
                "maxTileCol": columns - 1,
            }
        )
    return limits
