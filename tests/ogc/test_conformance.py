"""Conformance declared = conformance exercised: every class /ogc/conformance declares has a
check here that asks the running app (real database, the offices of conftest.py) for what
the class requires, and a class declared without a check fails, as does a check of a class
no longer declared. The checks are focused: the other tests of tests/ogc go deeper."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shapely
from cql2_cases import CASES, STAFFED, features, ids, township_shape
from fastapi.routing import APIRoute
from office_features import GEOJSON, feature, post
from openapi_spec_validator.validation import OpenAPIV30SpecValidator
from vector_tiles import MVT, WMQ, decode, get_tile, tile_of

from geo.crs import CRS84, crs_uri
from service.ogc import edit_router, router, tiles_router
from service.ogc.router import CONFORMANCE, ITEMS, OPENAPI_30

F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
TMS = "http://www.opengis.net/spec/tms/2.0/conf/"
HTML = "text/html"
TOWN = "410184101"  # 新村镇 of 新郑, with an office (conftest.py)
FAR_TOWN = "410222101"  # 通许's, in 开封


@dataclass(frozen=True)
class Server:
    """The app as a check asks it: the test client with the province admin's login, the
    staffed offices by township, and a folder for decoded tiles."""

    client: Any
    auth: Callable[[str], dict[str, str]]
    offices: dict[str, int]
    tmp_path: Path

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=self.auth("henan_admin"))
        assert r.status_code == 200, (path, params, r.status_code, r.text[:300])
        return r

    def rels(self, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """A document's links by relation (of two of a relation, the last)."""
        return {x["rel"]: x for x in body["links"]}

    def filtered(self, collection: str, cql2: str | dict[str, Any]) -> set[str]:
        """The ids a filter keeps (cql2-text, or cql2-json given as a dict)."""
        if isinstance(cql2, dict):
            params = {"filter": json.dumps(cql2), "filter-lang": "cql2-json"}
            return ids(features(self.client, self.auth, collection, **params))
        return ids(features(self.client, self.auth, collection, filter=cql2))


@pytest.fixture
def server(client, auth, staffed_offices, tmp_path) -> Server:  # type: ignore[no-untyped-def]
    return Server(client, auth, staffed_offices, tmp_path)


# --- Features Part 1


def core(s: Server) -> None:
    """The landing page's links lead to the conformance and the collections; items page by
    `next` with exact counts; one item by its id; an unknown parameter is a 400."""
    rels = s.rels(s.get("/ogc").json())
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels.keys()
    assert s.client.get(rels["conformance"]["href"], headers=s.auth("henan_admin")).json() == {
        "conformsTo": CONFORMANCE
    }
    listed = s.client.get(rels["data"]["href"], headers=s.auth("henan_admin")).json()
    for c in listed["collections"]:
        assert s.get(f"/ogc/collections/{c['id']}").json()["id"] == c["id"]
    first = s.get("/ogc/collections/townships/items", limit=2).json()
    assert first["numberReturned"] == 2 and first["numberMatched"] > 2
    following = s.client.get(s.rels(first)["next"]["href"], headers=s.auth("henan_admin")).json()
    assert following["numberMatched"] == first["numberMatched"]
    assert not ids(first["features"]) & ids(following["features"])
    one = first["features"][0]["id"]
    assert s.get(f"/ogc/collections/townships/items/{one}").json()["id"] == one
    unknown = s.client.get(
        "/ogc/collections/townships/items", params={"colour": "red"}, headers=s.auth("henan_admin")
    )
    assert unknown.status_code == 400


def geojson(s: Server) -> None:
    """Items and an item are GeoJSON, as `f=json` and by default."""
    for params in ({}, {"f": "json"}):
        page = s.get("/ogc/collections/offices/items", **params)
        assert page.headers["content-type"] == GEOJSON
        body = page.json()
        assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
        assert {f["type"] for f in body["features"]} == {"Feature"}
    item = s.get(f"/ogc/collections/offices/items/{s.offices[TOWN]}")
    assert item.headers["content-type"] == GEOJSON
    assert item.json()["type"] == "Feature" and item.json()["geometry"]["type"] == "Point"


def html(s: Server) -> None:
    """Every resource of Part 1 in HTML, by `f=html` and by a browser's Accept."""
    office = f"/ogc/collections/offices/items/{s.offices[TOWN]}"
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/offices"):
        page = s.get(path, f="html")
        assert page.headers["content-type"].startswith(HTML) and "<html" in page.text
    for path in ("/ogc/collections/offices/items", office):
        page = s.client.get(path, headers={**s.auth("henan_admin"), "Accept": HTML})
        assert page.headers["content-type"].startswith(HTML) and "司法所" in page.text


def served_operations() -> set[tuple[str, str]]:
    """(method, path) of every documented route of the three OGC routers, as they are."""
    return {
        (method.lower(), route.path)
        for module in (router, edit_router, tiles_router)
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }


def oas30(s: Server) -> None:
    """The landing page's service-desc is an OpenAPI 3.0 document that validates as one and
    describes every /ogc operation served, the items' parameters all; in HTML, the docs."""
    link = s.rels(s.get("/ogc").json())["service-desc"]
    assert link["type"] == OPENAPI_30
    r = s.client.get(link["href"], headers=s.auth("henan_viewer"))
    assert r.status_code == 200 and r.headers["content-type"] == OPENAPI_30
    document = r.json()
    assert document["openapi"].startswith("3.0.")
    errors = [e.message[:200] for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert not errors, errors
    described = {(m, p) for p, item in document["paths"].items() for m in item}
    assert described == served_operations()
    items = document["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]
    assert {p["name"] for p in items if p["in"] == "query"} == ITEMS | {"f"}
    assert document["servers"] == [{"url": "http://testserver"}]
    page = s.client.get("/ogc/api?f=html", headers=s.auth("henan_viewer"), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].endswith("/docs")
    assert s.client.get("/ogc/api").status_code == 401


# --- Part 2


def crs(s: Server) -> None:
    """An office in EPSG:4490 is its CRS84 point latitude first, and says which CRS it is."""
    described = s.get("/ogc/collections/offices").json()
    assert described["storageCrs"] == CRS84 and crs_uri(4490) in described["crs"]
    path = f"/ogc/collections/offices/items/{s.offices[TOWN]}"
    lon, lat = s.get(path).json()["geometry"]["coordinates"]
    r = s.get(path, crs=crs_uri(4490))
    assert r.headers["content-crs"] == f"<{crs_uri(4490)}>"
    assert r.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-9)
    box = f"{lat - 0.001},{lon - 0.001},{lat + 0.001},{lon + 0.001}"
    boxed = s.get("/ogc/collections/offices/items", bbox=box, **{"bbox-crs": crs_uri(4490)})
    assert ids(boxed.json()["features"]) == {str(s.offices[TOWN])}


# --- Part 4


def write(s: Server, method: str, url: str, body: Any, etag: str, media: str = GEOJSON) -> Any:
    headers = {**s.auth("henan_admin"), "Content-Type": media, "If-Match": etag}
    r = s.client.request(method, url, content=json.dumps(body, ensure_ascii=False), headers=headers)
    assert r.status_code == 200, r.text
    return r


def create_replace_delete(s: Server) -> None:
    """POST makes an office where its Location says; PUT replaces it; DELETE takes it away."""
    created = post(s.client, "henan_admin", s.auth, feature("410184103", address="旧址"))
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    assert s.get(url).json()["properties"]["address"] == "旧址"
    replaced = write(s, "PUT", url, feature("410184103", phone="0371-1"), created.headers["etag"])
    assert replaced.json()["properties"]["phone"] == "0371-1"
    assert replaced.json()["properties"]["address"] is None
    headers = {**s.auth("henan_admin"), "If-Match": replaced.headers["etag"]}
    assert s.client.delete(url, headers=headers).status_code == 204
    assert s.client.get(url, headers=s.auth("henan_admin")).status_code == 404


def update(s: Server) -> None:
    """PATCH with a merge patch changes what it names and nothing else."""
    created = post(s.client, "henan_admin", s.auth, feature("410184104", address="旧址"))
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    patch = {"properties": {"phone": "0371-2"}}
    patched = write(s, "PATCH", url, patch, created.headers["etag"], "application/merge-patch+json")
    props = patched.json()["properties"]
    assert props["phone"] == "0371-2" and props["address"] == "旧址"


# --- Part 3 and CQL2


def queryables(s: Server) -> None:
    """Each collection links its queryables, and what they name a filter may use."""
    for c in s.get("/ogc/collections").json()["collections"]:
        link = next(x for x in c["links"] if x["rel"].endswith("/queryables"))
        r = s.client.get(link["href"], headers=s.auth("henan_admin"))
        assert r.headers["content-type"] == "application/schema+json"
        assert r.json()["type"] == "object" and "geometry" in r.json()["properties"]
    assert "staff_total" in s.get("/ogc/collections/offices/queryables").json()["properties"]
    assert s.filtered("offices", "staff_total > 2") == {str(s.offices[TOWN])}


def filter_(s: Server) -> None:
    """`filter` with `filter-lang` named, and `filter-crs`: the same point latitude first in
    EPSG:4490 keeps the same township."""
    point = township_shape(s.client, s.auth, TOWN).representative_point()
    in_crs84 = features(
        s.client,
        s.auth,
        "townships",
        filter=f"S_INTERSECTS(geometry, POINT({point.x} {point.y}))",
        **{"filter-lang": "cql2-text"},
    )
    in_4490 = features(
        s.client,
        s.auth,
        "townships",
        filter=f"S_INTERSECTS(geometry, POINT({point.y} {point.x}))",
        **{"filter-crs": crs_uri(4490)},
    )
    assert ids(in_crs84) == ids(in_4490) == {TOWN}


def features_filter(s: Server) -> None:
    """A filter on items narrows the features and their number exactly."""
    r = s.get("/ogc/collections/townships/items", limit=1000, filter="code LIKE '410184%'")
    kept = r.json()
    codes = ids(kept["features"])
    assert kept["numberMatched"] == len(codes) and TOWN in codes
    assert all(c.startswith("410184") for c in codes)
    assert len(codes) < s.get("/ogc/collections/townships/items").json()["numberMatched"]


def cases_of(encoding: str, *classes: str) -> Callable[[Server], None]:
    """A check running the cases of tests/cql2_cases.py (of `classes`, or all) in one
    encoding ("text", "json") or "both": each keeps exactly the offices it should."""

    def check(s: Server) -> None:
        for klass, text, as_json, kept in CASES:
            if classes and klass not in classes:
                continue
            expected = {str(s.offices[c]) for c in kept}
            forms = {"text": [text], "json": [as_json]}.get(encoding, [text, as_json])
            for form in forms:
                assert s.filtered("offices", form) == expected, (klass, form)

    return check


def property_property(s: Server) -> None:
    """Properties and literals on either side of every declared predicate: comparisons,
    BETWEEN and IN with properties among their values, a spatial function with the literal
    first."""
    cases_of("both", "property-property")(s)
    staffed = {str(s.offices[c]) for c, *_ in STAFFED}
    for cql2, kept in (
        ("2 < staff_total", {str(s.offices[TOWN])}),
        ("staff_formal BETWEEN 1 AND staff_total", staffed),
        ("staff_total IN (staff_formal, 7)", staffed),
        ("staff_formal <> staff_total", set()),
        (
            {"op": "<=", "args": [{"property": "staff_formal"}, {"property": "staff_total"}]},
            staffed,
        ),
    ):
        assert s.filtered("offices", cql2) == kept, cql2
    point = township_shape(s.client, s.auth, TOWN).representative_point()
    literal_first = f"S_INTERSECTS(POINT({point.x} {point.y}), geometry)"
    assert s.filtered("townships", literal_first) == {TOWN}


def test_arithmetic_is_not_declared_while_part_of_it_is_missing(server) -> None:  # type: ignore[no-untyped-def]
    """CQL2's arithmetic class has +, -, * and / (they work) and %, ^ and div, which
    pygeofilter 0.4 reads neither in text nor in JSON: a 400, and the class not declared."""
    cases_of("both", "arithmetic")(server)
    staffed = {str(server.offices[TOWN])}  # 3 staff
    assert server.filtered("offices", "staff_total - 1 = 2 AND staff_total / 3 = 1") == staffed
    for missing in ("staff_total % 2 = 1", "staff_total ^ 2 = 9", "staff_total div 2 = 1"):
        r = server.client.get(
            "/ogc/collections/offices/items",
            params={"filter": missing},
            headers=server.auth("henan_admin"),
        )
        assert r.status_code == 400, (missing, r.text)
    assert CQL2 + "arithmetic" not in CONFORMANCE


def basic_spatial_functions(s: Server) -> None:
    """S_INTERSECTS with a point and with a BBOX."""
    point = township_shape(s.client, s.auth, TOWN).representative_point()
    assert s.filtered("townships", f"S_INTERSECTS(geometry, POINT({point.x} {point.y}))") == {TOWN}
    x1, y1, x2, y2 = point.buffer(0.0001).bounds
    boxed = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [x1, y1, x2, y2]}]}
    assert s.filtered("townships", boxed) == {TOWN}


def points(s: Server) -> tuple[shapely.Point, shapely.Point]:
    """A point inside 新郑's 新村镇 and one inside 开封's 通许 township."""
    near = township_shape(s.client, s.auth, TOWN).representative_point()
    return near, township_shape(s.client, s.auth, FAR_TOWN).representative_point()


def basic_spatial_functions_plus(s: Server) -> None:
    """S_INTERSECTS with every other kind of geometry: multi-points and a collection keep what
    their parts keep, a line and a multi-polygon at least those."""
    a, b = points(s)
    both = {TOWN, FAR_TOWN}
    for wkt in (
        f"MULTIPOINT(({a.x} {a.y}), ({b.x} {b.y}))",
        f"GEOMETRYCOLLECTION(POINT({a.x} {a.y}), POINT({b.x} {b.y}))",
    ):
        assert s.filtered("townships", f"S_INTERSECTS(geometry, {wkt})") == both
    square_a, square_b = (p.buffer(1e-4, cap_style="square") for p in (a, b))
    squares = shapely.MultiPolygon([square_a, square_b])
    for shape in (shapely.LineString([a, b]), squares, square_a):
        kept = s.filtered("townships", f"S_INTERSECTS(geometry, {shape.wkt})")
        assert TOWN in kept and (shape.geom_type == "Polygon" or FAR_TOWN in kept)


def spatial_functions(s: Server) -> None:
    """The other spatial functions, by identities that hold for any townships: a line from one
    inside to another crosses every township it meets; a box overlaps those it meets, neither
    inside it nor holding it; a point inside a township is contained, touches none, is
    disjoint from the rest; an office's point equals its own point at most (as read back)."""
    a, b = points(s)
    line = shapely.LineString([a, b]).wkt
    met = s.filtered("townships", f"S_INTERSECTS(geometry, {line})")
    assert s.filtered("townships", f"S_CROSSES(geometry, {line})") == met and len(met) > 2
    box = shapely.box(a.x - 0.05, a.y - 0.05, a.x + 0.05, a.y + 0.05).wkt
    inside = s.filtered("townships", f"S_WITHIN(geometry, {box})")
    holding = s.filtered("townships", f"S_CONTAINS(geometry, {box})")
    overlapping = s.filtered("townships", f"S_OVERLAPS(geometry, {box})")
    met_box = s.filtered("townships", f"S_INTERSECTS(geometry, {box})")
    assert overlapping == met_box - inside - holding and overlapping
    point = f"POINT({a.x} {a.y})"
    assert s.filtered("townships", f"S_CONTAINS(geometry, {point})") == {TOWN}
    assert s.filtered("townships", f"S_TOUCHES(geometry, {point})") == set()
    every = ids(features(s.client, s.auth, "townships"))
    assert s.filtered("townships", f"S_DISJOINT(geometry, {point})") == every - {TOWN}
    office = s.get(f"/ogc/collections/offices/items/{s.offices[TOWN]}").json()["geometry"]
    equal = {"op": "s_equals", "args": [{"property": "geometry"}, office]}
    assert s.filtered("offices", equal) <= {str(s.offices[TOWN])}


# --- Tiles and tile matrix sets


def a_tile(s: Server, z: int = 12) -> tuple[int, int, Any]:
    """The tile of WebMercatorQuad at `z` over the office of 新村镇, as GDAL decodes it."""
    point = township_shape(s.client, s.auth, TOWN).representative_point()
    y, x = tile_of(WMQ, point.x, point.y, z)
    r = get_tile(s.client, s.auth, "henan_admin", "townships", WMQ, z, y, x)
    assert r.status_code == 200, r.text
    return y, x, r


def tiles_core(s: Server) -> None:
    """A tile at its template's address, in the tile format; a tile of nothing is empty."""
    _, _, r = a_tile(s)
    assert r.headers["content-type"] == MVT and r.content
    empty = get_tile(s.client, s.auth, "henan_admin", "townships", WMQ, 12, 0, 0)
    assert empty.status_code == 204


def mvt(s: Server) -> None:
    """The tile is a Mapbox Vector Tile GDAL reads: the township is in it."""
    y, x, r = a_tile(s)
    assert TOWN in {f["properties"]["code"] for f in decode(r.content, s.tmp_path, WMQ, 12, y, x)}


def tileset(s: Server) -> None:
    """A tileset's metadata: its tile matrix set, its limits, its layer, its tiles' template."""
    meta = s.get(f"/ogc/collections/townships/tiles/{WMQ}").json()
    assert meta["dataType"] == "vector" and meta["tileMatrixSetURI"].endswith(WMQ)
    assert meta["tileMatrixSetLimits"] and meta["layers"][0]["id"] == "townships"
    template = s.rels(meta)["item"]
    assert template["type"] == MVT and template["templated"] is True
    y, x, _ = a_tile(s)
    href = template["href"].format(tileMatrix=12, tileRow=y, tileCol=x)
    assert s.get(href).headers["content-type"] == MVT


def tilesets_list(s: Server) -> None:
    """A collection's tilesets, one a tile matrix set, each leading to its metadata."""
    listed = s.get("/ogc/collections/offices/tiles").json()["tilesets"]
    assert len(listed) == 2
    for summary in listed:
        href = s.rels(summary)["self"]["href"]
        assert s.client.get(href, headers=s.auth("henan_admin")).json()["crs"] == summary["crs"]


def geodata_tilesets(s: Server) -> None:
    """Every collection links its vector tilesets."""
    for c in s.get("/ogc/collections").json()["collections"]:
        link = s.rels(c)["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
        r = s.client.get(link["href"], headers=s.auth("henan_admin"))
        assert r.status_code == 200 and r.json()["tilesets"]


def tilematrixset(s: Server) -> None:
    """The tile matrix sets listed, each defined matrix by matrix."""
    listed = s.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert {t["id"] for t in listed} == {WMQ, "WorldCRS84Quad"}
    for t in listed:
        definition = s.get(f"/ogc/tileMatrixSets/{t['id']}").json()
        first = definition["tileMatrices"][0]
        assert definition["crs"] == t["crs"] and first["id"] == "0"
        assert {"scaleDenominator", "cellSize", "pointOfOrigin", "matrixWidth"} <= first.keys()


def json_tilematrixset(s: Server) -> None:
    """The definitions in JSON, with the members TMS 2.0's JSON encoding requires."""
    r = s.get(f"/ogc/tileMatrixSets/{WMQ}")
    assert r.headers["content-type"] == "application/json"
    assert {"id", "uri", "crs", "orderedAxes", "tileMatrices"} <= r.json().keys()


CHECKS: dict[str, Callable[[Server], None]] = {
    F1 + "core": core,
    F1 + "geojson": geojson,
    F1 + "html": html,
    F1 + "oas30": oas30,
    F2 + "crs": crs,
    F4 + "create-replace-delete": create_replace_delete,
    F4 + "update": update,
    F3 + "queryables": queryables,
    F3 + "filter": filter_,
    F3 + "features-filter": features_filter,
    CQL2 + "cql2-text": cases_of("text"),
    CQL2 + "cql2-json": cases_of("json"),
    CQL2 + "basic-cql2": cases_of("both", "basic-cql2"),
    CQL2 + "advanced-comparison-operators": cases_of("both", "advanced-comparison-operators"),
    CQL2 + "case-insensitive-comparison": cases_of("both", "case-insensitive-comparison"),
    CQL2 + "property-property": property_property,
    CQL2 + "basic-spatial-functions": basic_spatial_functions,
    CQL2 + "basic-spatial-functions-plus": basic_spatial_functions_plus,
    CQL2 + "spatial-functions": spatial_functions,
    TILES + "core": tiles_core,
    TILES + "tileset": tileset,
    TILES + "tilesets-list": tilesets_list,
    TILES + "geodata-tilesets": geodata_tilesets,
    TILES + "mvt": mvt,
    TMS + "tilematrixset": tilematrixset,
    TMS + "json-tilematrixset": json_tilematrixset,
}


def test_every_declared_class_has_a_check_and_every_check_a_declared_class() -> None:
    declared = set(CONFORMANCE)
    assert not declared - CHECKS.keys(), f"declared without a check: {declared - CHECKS.keys()}"
    assert not CHECKS.keys() - declared, f"checked, not declared: {CHECKS.keys() - declared}"
    assert len(CONFORMANCE) == len(declared)


@pytest.mark.parametrize("uri", CONFORMANCE, ids=lambda u: u.split("/spec/")[1])
def test_a_declared_class_holds(server, uri) -> None:  # type: ignore[no-untyped-def]
    CHECKS[uri](server)
