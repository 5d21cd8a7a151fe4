"""The OGC API's query parameters read into an items request: `bbox`, `bbox-crs`, `crs`,
`datetime`, `properties`, `sortby`, `limit`, `offset`, `filter`; and a tile's path and
parameters into a tile request. Each bad value is an `InvalidParameter` naming the parameter
and the problem (a 400), never a 500; a tile that is not served is a `NotFound` (a 404)
naming its path parameter."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from geo.crs import UnsupportedCRS, parse_crs_uri
from service.core.errors import InvalidParameter, NotFound
from service.features import filters
from service.features.collections import Collection, Property, When
from service.features.items import ItemsRequest, Window
from service.features.tilematrixsets import TILE_MATRIX_SETS, TileMatrixSet
from service.features.tiles import MAX_TILE_MATRIX, TileRequest

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
MAX_OFFSET = 10_000_000


def _bad(field: str, problem: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: {problem}", {"field": field})


def crs_param(value: str | None, field: str = "crs") -> int | None:
    """The EPSG code a CRS parameter names; None for CRS84 (and when absent)."""
    if value is None:
        return None
    try:
        return parse_crs_uri(value)
    except UnsupportedCRS as exc:
        raise _bad(field, str(exc)) from exc


def bbox_param(value: str) -> tuple[float, float, float, float]:
    """Four numbers (or six, the heights ignored): the lower corner, then the upper, in the
    axis order of `bbox-crs`."""
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise _bad("bbox", "four numbers (or six with heights) separated by commas")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise _bad("bbox", f"{value[:100]!r} holds something that is not a number") from exc
    if not all(math.isfinite(n) for n in numbers):
        raise _bad("bbox", "numbers must be finite")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    a, b, c, d = numbers
    if a > c or b > d:
        raise _bad("bbox", "the lower corner comes first: each of its numbers ≤ the upper's")
    return a, b, c, d


def check_geographic_bbox(bbox: tuple[float, float, float, float], lat_first: bool) -> None:
    lons = (bbox[1], bbox[3]) if lat_first else (bbox[0], bbox[2])
    lats = (bbox[0], bbox[2]) if lat_first else (bbox[1], bbox[3])
    if any(abs(x) > 180 for x in lons) or any(abs(y) > 90 for y in lats):
        order = "lat,lon" if lat_first else "lon,lat"
        raise _bad("bbox", f"outside the globe (this CRS takes {order} order)")


def _instant(text: str, field: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError as exc:
        raise _bad(field, f"{text[:40]!r} is not an RFC 3339 date or date-time") from exc


def datetime_param(value: str | None) -> Window:
    """An instant (`2020-01-01`, `2020-01-01T00:00:00Z`) or an interval (`a/b`, `../b`,
    `a/..`), read to the day (the registry's times are days)."""
    if value is None:
        return Window()
    text = value.strip()
    if "/" not in text:
        return Window(When.at, _instant(text, "datetime"))
    first, _, last = text.partition("/")
    start = None if first in ("", "..") else _instant(first, "datetime")
    end = None if last in ("", "..") else _instant(last, "datetime")
    if start is None and end is None:
        raise _bad("datetime", "an interval needs at least one end")
    if start is not None and end is not None and start > end:
        raise _bad("datetime", "the interval's start is after its end")
    return Window(When.during, start, end)


def properties_param(
    value: str | None, collection: Collection, *, measured: bool = True
) -> tuple[str, ...] | None:
    """The properties asked for; with `measured` False (a tile's) only the queryables."""
    if value is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    served = collection.properties if measured else collection.queryables
    unknown = [n for n in names if all(p.name != n for p in served)]
    if unknown:
        raise _bad(
            "properties",
            f"{', '.join(unknown)[:200]} not a property of {collection.id}"
            f"{'' if measured else ' in tiles'} (its properties: {_names(served)})",
        )
    return names


def _names(properties: tuple[Property, ...]) -> str:
    return ", ".join(p.name for p in properties)


def sortby_param(value: str | None, collection: Collection) -> tuple[tuple[str, bool], ...]:
    if value is None:
        return ()
    keys: list[tuple[str, bool]] = []
    for part in value.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("+-").strip()
        if collection.queryable(name) is None:
            raise _bad(
                "sortby",
                f"{name[:100]!r} is not a sortable property of {collection.id}"
                f" (its sortable properties: {_names(collection.queryables)})",
            )
        if name not in (k for k, _ in keys):
            keys.append((name, descending))
    return tuple(keys)


def items_request(
    collection: Collection,
    *,
    limit: int = 1,
    offset: int = 0,
    bbox: str | None = None,
    bbox_crs: str | None = None,
    crs: str | None = None,
    datetime_: str | None = None,
    properties: str | None = None,
    sortby: str | None = None,
    filter_: str | None = None,
    filter_lang: str | None = None,
    filter_crs: str | None = None,
) -> ItemsRequest:
    bbox_epsg = crs_param(bbox_crs, "bbox-crs")
    box = None
    if bbox is not None:
        box = bbox_param(bbox)
        if bbox_epsg is None or bbox_epsg in (4326, 4490):
            check_geographic_bbox(box, lat_first=bbox_epsg is not None)
    elif bbox_crs is not None:
        raise _bad("bbox-crs", "given without a bbox")
    return ItemsRequest(
        collection=collection,
        filter=filter_param(filter_, filter_lang, filter_crs),
        filter_epsg=crs_param(filter_crs, "filter-crs"),
        window=datetime_param(datetime_),
        bbox=box,
        bbox_epsg=bbox_epsg,
        properties=properties_param(properties, collection),
        sortby=sortby_param(sortby, collection),
        epsg=crs_param(crs),
        limit=limit,
        offset=offset,
    )


def filter_param(text: str | None, lang: str | None, crs: str | None) -> Any:
    """The syntax tree of a CQL2 `filter` (cql2-text unless `filter-lang` says otherwise)."""
    if text is not None:
        return filters.parse(text, lang or "cql2-text")
    if lang is not None or crs is not None:
        raise _bad("filter-lang" if lang else "filter-crs", "given without a filter")
    return None


def tile_matrix_set(tms_id: str) -> TileMatrixSet:
    tms = TILE_MATRIX_SETS.get(tms_id)
    if tms is None:
        raise NotFound(
            f"tileMatrixSetId: no tile matrix set {tms_id[:60]!r}"
            f" (tile matrix sets: {', '.join(TILE_MATRIX_SETS)})",
            {"field": "tileMatrixSetId"},
        )
    return tms


def tile_request(
    collection: Collection,
    tms_id: str,
    z: int,
    y: int,
    x: int,
    *,
    datetime_: str | None = None,
    properties: str | None = None,
    filter_: str | None = None,
    filter_lang: str | None = None,
    filter_crs: str | None = None,
    coalesce: bool = False,
) -> TileRequest:
    """A tile of `collection`; a tile matrix set, matrix, row or column that is not served is
    a 404 naming the path parameter (OGC API Tiles: out of range is not found)."""
    tms = tile_matrix_set(tms_id)
    top = MAX_TILE_MATRIX[tms.id]
    if not 0 <= z <= top:
        raise NotFound(
            f"tileMatrix: {z} is not served in {tms.id} (0 to {top})", {"field": "tileMatrix"}
        )
    # (an empty `properties`: none, each feature its outline alone)
    asked = properties_param(properties, collection, measured=False)
    columns, rows = tms.matrix_size(z)
    for name, value, count in (("tileRow", y, rows), ("tileCol", x, columns)):
        if not 0 <= value < count:
            raise NotFound(
                f"{name}: {value} is outside tile matrix {z} of {tms.id} (0 to {count - 1})",
                {"field": name},
            )
    return TileRequest(
        collection=collection.id,
        tms=tms.id,
        z=z,
        y=y,
        x=x,
        window=datetime_param(datetime_),
        properties=collection.tile_properties if asked is None else asked,
        filter_text=filter_,
        filter_lang=filter_lang,
        filter_epsg=crs_param(filter_crs, "filter-crs"),
        filter=filter_param(filter_, filter_lang, filter_crs),
        coalesce=coalesce,
    )
