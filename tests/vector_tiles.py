"""Vector tiles as a client reads them: which tile holds a place and what box a tile covers
(the OGC's formulas for WebMercatorQuad and WorldCRS84Quad, written here again), a tile
asked of /ogc, and its features decoded by GDAL's MVT driver (ogr2ogr, Debian gdal-bin):
nothing decodes a tile in the tests but GDAL."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import shapely

MVT = "application/vnd.mapbox-vector-tile"
TILES = "/ogc/collections/{}/tiles/{}/{}/{}/{}"
WMQ, CRS84Q = "WebMercatorQuad", "WorldCRS84Quad"


def tile_of(tms: str, lon: float, lat: float, z: int) -> tuple[int, int]:
    """(row, column) of the tile holding lon/lat — the OGC's formulas, written here again."""
    if tms == WMQ:
        n = 2**z
        row = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int(row), int((lon + 180) / 360 * n)
    size = 180 / 2**z
    return int((90 - lat) / size), int((lon + 180) / size)


def lonlat_box(tms: str, z: int, y: int, x: int) -> tuple[float, float, float, float]:
    """The tile's (west, south, east, north)."""
    if tms == WMQ:
        n = 2**z

        def lat(row: int) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

        return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)
    size = 180 / 2**z
    return -180 + x * size, 90 - (y + 1) * size, -180 + (x + 1) * size, 90 - y * size


def decode(
    data: bytes, tmp_path: Path, tms: str, z: int, y: int, x: int, layer: str | None = None
) -> list[dict[str, Any]]:
    """The tile's features as GDAL reads them, geometry in lon/lat: GDAL places a
    WebMercatorQuad tile itself (X/Y/Z open options) and we ask it for EPSG:4326; a
    WorldCRS84Quad tile GDAL reads in its own units (0–4096 from the lower left corner),
    placed here by the tile's box. `layer`: that layer of a tile of several."""
    tile = tmp_path / f"{tms}-{z}-{y}-{x}.mvt"
    tile.write_bytes(data)
    out = tmp_path / f"{tms}-{z}-{y}-{x}-{layer or ''}.geojson"
    placed = ["-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", "-t_srs", "EPSG:4326"]
    args = placed if tms == WMQ else []
    done = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(out), str(tile), *([layer] if layer else []), *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    features = json.loads(out.read_text())["features"]
    if tms == CRS84Q:
        west, south, east, north = lonlat_box(tms, z, y, x)
        for f in features:
            shape = shapely.transform(
                shapely.geometry.shape(f["geometry"]),
                lambda c: c * [(east - west) / 4096, (north - south) / 4096] + [west, south],
            )
            f["geometry"] = shapely.geometry.mapping(shape)
    return features


def get_tile(
    client, auth, who: str, collection: str, tms: str, z: int, y: int, x: int, **params: Any
):  # type: ignore[no-untyped-def]
    return client.get(TILES.format(collection, tms, z, y, x), params=params, headers=auth(who))


def codes(features: list[dict[str, Any]]) -> set[str]:
    return {f["properties"]["code"] for f in features}
