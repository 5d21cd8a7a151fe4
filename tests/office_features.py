"""An office as the GeoJSON feature OGC API Features Part 4 reads (its point in CRS84, the
name the naming rule expects), and its POST to /ogc/collections/offices/items."""

from __future__ import annotations

import json
from typing import Any

from factories import office_body

GEOJSON = "application/geo+json"


def feature(code: str, **props: Any) -> dict[str, Any]:
    body = office_body(code)
    point = body["location"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
        "properties": {"name": body["name"], **props},
    }


def post(client, who: str, auth, body: Any, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/ogc/collections/offices/items",
        content=json.dumps(body, ensure_ascii=False),
        headers={**auth(who), "Content-Type": GEOJSON, **headers},
    )
