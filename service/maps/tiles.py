"""A map page's own vector tiles: its townships and its county and city lines in one tile
(`/maps/{theme}/tiles/{z}/{y}/{x}`, maps/layers.py VectorTiles). Each layer is made as the
OGC API's tile of its collection is (service/features/tiles.py: the same statement, ETag
and kept tile), and the layers' bytes are joined: a Mapbox Vector Tile is a list of layers,
so two tiles' bytes one after the other are one tile holding both. A browser then asks for
one tile where it asked for three: a pan over Henan at zoom 10 was 72 requests, and most of
its time went on them, not on what they held.

The page's region guard and filters are the map routes' own (service/maps/router.py
`_map_query`); the region also bounds what every layer reads, as the caller's region
bounds an OGC tile, and row-level security applies in the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.byte_cache import ByteCache
from service.core.errors import Invalid
from service.core.versions import data_version
from service.features.collections import COLLECTIONS
from service.features.params import tile_request
from service.features.tilematrixsets import WEB_MERCATOR_QUAD
from service.features.tiles import TileRequest, fetch_tile, tile_etag
from service.maps.data import NATION_THEMES, tile_parts


def page_tile_requests(
    theme: str, z: int, y: int, x: int, as_of: date | None, kinds: tuple[str, ...] | None
) -> list[TileRequest]:
    """The OGC tile requests of the layers of a page's tile (a 404 naming the path's
    parameter for a tile that is not served, as the OGC API's)."""
    out = []
    for collection, asked in tile_parts(theme, z):
        where = None
        if kinds and collection == "coverage":  # (known kinds, checked by the guard)
            where = "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        out.append(
            tile_request(
                COLLECTIONS[collection],
                WEB_MERCATOR_QUAD.id,
                z,
                y,
                x,
                datetime_=as_of.isoformat() if as_of else None,
                properties=asked["properties"],
                filter_=where,
                coalesce=asked.get("coalesce", False),
            )
        )
    return out


def page_tile(
    session: Session,
    scope: Scope,
    cache: ByteCache,
    theme: str,
    region: str,
    as_of: date | None,
    kinds: tuple[str, ...] | None,
    tile: tuple[int, int, int],
    held: Callable[[str], bool],
) -> tuple[str, bytes | None]:
    """(ETag, the tile's bytes) of a map page's tile (z, y, x) of `region` (the page's,
    checked by its guard); no bytes when the client holds the tag (`held`), empty bytes
    when nothing of the map is in it."""
    if theme == "aggregates":
        raise Invalid(
            "theme: the aggregates map draws the OGC API's county and city tiles",
            {"field": "theme"},
        )
    if len(region) < 2 and theme not in NATION_THEMES:
        raise Invalid(
            "region: a national map shows only the townships' coverage; choose a province",
            {"field": "region"},
        )
    parts = page_tile_requests(theme, *tile, as_of, kinds)
    reads = sorted({t for p in parts for t in COLLECTIONS[p.collection].reads})
    # (every layer reads only what lies in the region: writes in other cities leave it)
    version = data_version(session, tenant_id=scope.tenant_id, names=reads, region=region)
    tags = [tile_etag(p, version=version, scope=scope, region=region) for p in parts]
    tag = '"' + hashlib.sha256("|".join(tags).encode()).hexdigest()[:32] + '"'
    if held(tag):
        return tag, None
    layers = []
    for part, part_tag in zip(parts, tags, strict=True):
        data = cache.get(part_tag)
        if data is None:
            data = fetch_tile(session, part, scope, region)
            cache.put(part_tag, data)
        layers.append(data)
    return tag, b"".join(layers)
