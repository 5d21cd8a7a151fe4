"""OGC API Tiles from outside, through HTTP: the tile matrix sets against the OGC's published
definitions, the tilesets a client discovers, and the tiles themselves decoded by GDAL's MVT
driver (ogr2ogr, Debian gdal-bin) — their features, properties and where their geometry
lands, the region scope, `datetime`, `filter`, the coverage status, the ETag and its 304,
and the 4xx of a tile that is not served. Nothing decodes a tile here but GDAL
(tests/vector_tiles.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from factories import office_body
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from vector_tiles import CRS84Q, MVT, TILES, WMQ, codes, decode, get_tile, lonlat_box, tile_of


def stored(session, table: str, where: str, **params: Any) -> BaseGeometry:  # type: ignore[no-untyped-def]
    wkt = session.execute(
        text(f"SELECT ST_AsText(geom) FROM {table} WHERE {where}"), params
    ).scalar_one()
    return shapely.from_wkt(wkt)


def read(feature: dict[str, Any]) -> BaseGeometry:
    return shapely.geometry.shape(feature["geometry"])


def township(session, code: str) -> BaseGeometry:  # type: ignore[no-untyped-def]
    return stored(session, "divisions", "code = :c AND valid_to IS NULL", c=code)


def test_tile_matrix_sets_are_the_ogc_definitions(client, auth) -> None:  # type: ignore[no-untyped-def]
    """Against the OGC's registry files (opengeospatial/2D-Tile-Matrix-Set registry/json), as
    published: scale denominators and cell sizes to their 15 digits, origin, matrix sizes."""
    listed = client.get("/ogc/tileMatrixSets", headers=auth("henan_viewer"))
    assert listed.status_code == 200
    sets = {s["id"]: s for s in listed.json()["tileMatrixSets"]}
    assert set(sets) == {WMQ, CRS84Q}
    published = {
        # id: (crs, axes, levels, origin, {z: (scaleDenominator, cellSize, width, height)})
        WMQ: (
            "http://www.opengis.net/def/crs/EPSG/0/3857",
            ["X", "Y"],
            25,
            [-20037508.3427892, 20037508.3427892],
            {
                0: (559082264.028717, 156543.033928041, 1, 1),
                8: (2183915.09386217, 611.49622628141, 256, 256),
                24: (33.3238997476528, 0.0093306919293428, 16777216, 16777216),
            },
        ),
        CRS84Q: (
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            ["Lon", "Lat"],
            24,
            [-180, 90],
            {
                0: (279541132.014358, 0.703125, 2, 1),
                8: (1091957.54693108, 0.00274658203125, 512, 256),
                23: (33.3238997476528, 0.00000008381903171539, 16777216, 8388608),
            },
        ),
    }
    for tms_id, (crs, axes, levels, origin, matrices) in published.items():
        href = next(x["href"] for x in sets[tms_id]["links"] if x["rel"] == "self")
        body = client.get(href, headers=auth("henan_viewer")).json()
        assert body["id"] == tms_id and body["crs"] == crs and body["orderedAxes"] == axes
        assert body["uri"] == f"http://www.opengis.net/def/tilematrixset/OGC/1.0/{tms_id}"
        assert [m["id"] for m in body["tileMatrices"]] == [str(z) for z in range(levels)]
        for z, (scale, cell, width, height) in matrices.items():
            m = body["tileMatrices"][z]
            assert m["scaleDenominator"] == pytest.approx(scale, rel=1e-13)
            assert m["cellSize"] == pytest.approx(cell, rel=1e-13)
            assert m["pointOfOrigin"] == pytest.approx(origin, rel=1e-13)
            assert (m["matrixWidth"], m["matrixHeight"]) == (width, height)
            assert (m["tileWidth"], m["tileHeight"], m["cornerOfOrigin"]) == (256, 256, "topLeft")
    missing = client.get("/ogc/tileMatrixSets/GoogleCRS84Quad", headers=auth("henan_viewer"))
    assert missing.status_code == 404 and "tileMatrixSetId" in missing.text


def test_a_client_finds_the_tiles_from_the_landing_page(client, auth) -> None:  # type: ignore[no-untyped-def]
    who = auth("henan_planner")
    landing = client.get("/ogc", headers=who).json()
    rels = {x["rel"]: x["href"] for x in landing["links"]}
    assert client.get(rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"], headers=who)
    conformance = client.get(rels["conformance"], headers=who).json()["conformsTo"]
    for cls in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{cls}" in conformance
    assert "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset" in conformance
    expected = {
        "townships": {"code", "name", "kind"},
        "offices": {"id", "name", "state", "kind", "staff_total"},
        "coverage": {"code", "name", "kind", "status"},
    }
    for collection, fields in expected.items():
        meta = client.get(f"/ogc/collections/{collection}", headers=who).json()
        tilesets_href = next(
            x["href"]
            for x in meta["links"]
            if x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
        )
        listed = client.get(tilesets_href, headers=who).json()["tilesets"]
        assert {t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in listed} == {WMQ, CRS84Q}
        for summary in listed:
            assert summary["dataType"] == "vector"
            self_href = next(x["href"] for x in summary["links"] if x["rel"] == "self")
            tileset = client.get(self_href, headers=who).json()
            assert tileset["crs"] == summary["crs"]
            links = {x["rel"]: x for x in tileset["links"]}
            scheme = client.get(
                links["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"], headers=who
            ).json()
            assert scheme["uri"] == tileset["tileMatrixSetURI"]
            item = links["item"]
            assert item["type"] == MVT and item["templated"] is True
            assert item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}")
            (layer,) = tileset["layers"]
            assert (
                layer["id"] == collection and set(layer["propertiesSchema"]["properties"]) == fields
            )
            top = int(layer["maxTileMatrix"])
            assert [int(x["tileMatrix"]) for x in tileset["tileMatrixSetLimits"]] == list(
                range(top + 1)
            )
            lower, upper = tileset["boundingBox"]["lowerLeft"], tileset["boundingBox"]["upperRight"]
            assert 110 < lower[0] < upper[0] < 117 and 31 < lower[1] < upper[1] < 37
    states = client.get(f"/ogc/collections/offices/tiles/{WMQ}", headers=who).json()
    state = states["layers"][0]["propertiesSchema"]["properties"]["state"]
    assert "accepted" in state["enum"] and state["title"] == "验收状态"


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_township_tile_lands_where_the_database_says(client, auth, session, tmp_path, tms) -> None:  # type: ignore[no-untyped-def]
    """GDAL reads the township's code, name and kind, and its outline inside the tile is the
    stored one to within a pixel (snapping moves a vertex half a pixel at most)."""
    code, z = "410184101", 11
    shape = township(session, code)
    centre = shape.representative_point()
    y, x = tile_of(tms, centre.x, centre.y, z)
    r = get_tile(client, auth, "henan_planner", "townships", tms, z, y, x)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MVT
    features = decode(r.content, tmp_path, tms, z, y, x)
    ours = next(f for f in features if f["properties"]["code"] == code)
    assert ours["properties"] == {"code": code, "name": "新村镇", "kind": "town"}
    box = lonlat_box(tms, z, y, x)
    drawn = shapely.clip_by_rect(shapely.geometry.shape(ours["geometry"]), *box)
    truth = shapely.clip_by_rect(shape, *box)
    pixel = (box[2] - box[0]) / 256
    assert drawn.hausdorff_distance(truth) <= pixel
    assert abs(drawn.area - truth.area) <= 0.01 * truth.area
    assert all(c.startswith("41") for c in codes(features))


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_office_tile_carries_its_styling_properties(
    client, auth, session, offices, tmp_path, tms
) -> None:  # type: ignore[no-untyped-def]
    office_id = offices["410184101"]
    office = client.get(f"/api/v1/offices/{office_id}", headers=auth("henan_admin"))
    staffed = client.patch(
        f"/api/v1/offices/{office_id}",
        json={"staff_total": 5},
        headers={**auth("henan_admin"), "If-Match": office.headers["etag"]},
    )
    assert staffed.status_code == 200, staffed.text
    point = stored(session, "offices", "id = :id", id=office_id)
    z = 14
    y, x = tile_of(tms, point.x, point.y, z)
    r = get_tile(client, auth, "henan_admin", "offices", tms, z, y, x)
    assert r.status_code == 200, r.text
    (feature,) = decode(r.content, tmp_path, tms, z, y, x)
    props = feature["properties"]
    assert props["id"] == office_id and props["state"] == "not_applied"
    assert props["kind"] == "town" and props["name"].endswith("司法所")
    assert props["staff_total"] == 5
    assert set(props) == {"id", "name", "state", "kind", "staff_total"}
    west, _, east, _ = lonlat_box(tms, z, y, x)
    unit = (east - west) / 4096  # a point moves half a unit, each way, when quantised
    lon, lat = feature["geometry"]["coordinates"]
    assert abs(lon - point.x) <= unit and abs(lat - point.y) <= unit
    fewer = get_tile(client, auth, "henan_admin", "offices", tms, z, y, x, properties="name")
    (only_name,) = decode(fewer.content, tmp_path, tms, z, y, x)
    assert set(only_name["properties"]) == {"name"}


def test_a_city_bureaus_tile_holds_only_its_city(client, auth, session, offices, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One tile over 郑州 and 开封: the province sees both cities, 郑州's bureau only its own;
    a tile over 开封 alone is empty for it."""
    z = 7
    y, x = tile_of(WMQ, 114.2, 34.5, z)
    province = get_tile(client, auth, "henan_planner", "townships", WMQ, z, y, x)
    city = get_tile(client, auth, "zhengzhou_city", "townships", WMQ, z, y, x)
    both = codes(decode(province.content, tmp_path, WMQ, z, y, x))
    own = codes(decode(city.content, tmp_path, WMQ, z, y, x))
    assert {c[:4] for c in both} >= {"4101", "4102"}
    assert own and all(c.startswith("4101") for c in own) and own < both
    tongxu = township(session, "410222101").representative_point()
    z = 12
    y, x = tile_of(WMQ, tongxu.x, tongxu.y, z)
    for collection in ("townships", "offices"):
        theirs = get_tile(client, auth, "henan_admin", collection, WMQ, z, y, x)
        assert theirs.status_code == 200
        empty = get_tile(client, auth, "zhengzhou_city", collection, WMQ, z, y, x)
        assert empty.status_code == 204 and empty.content == b""
        other_tenant = get_tile(client, auth, "shanxi_admin", collection, WMQ, z, y, x)
        assert other_tenant.status_code == 204


def test_datetime_picks_the_boundaries_valid_then(client, auth, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    centre = township(session, "410184101").representative_point()
    z = 10
    y, x = tile_of(WMQ, centre.x, centre.y, z)
    before = get_tile(
        client, auth, "henan_planner", "townships", WMQ, z, y, x, datetime="2020-01-01"
    )
    assert before.status_code == 204  # the boundaries are valid from 2023
    then = get_tile(client, auth, "henan_planner", "townships", WMQ, z, y, x, datetime="2024-06-01")
    now = get_tile(client, auth, "henan_planner", "townships", WMQ, z, y, x)
    assert then.status_code == now.status_code == 200
    assert codes(decode(then.content, tmp_path, WMQ, z, y, x)) == codes(
        decode(now.content, tmp_path, WMQ, z, y, x)
    )
    assert then.headers["etag"] != now.headers["etag"] != before.headers["etag"]


def test_etag_revalidates_and_follows_every_office_change(client, auth, session, offices) -> None:  # type: ignore[no-untyped-def]
    office_id = offices["410184101"]
    point = stored(session, "offices", "id = :id", id=office_id)
    z = 12
    y, x = tile_of(WMQ, point.x, point.y, z)

    def tag(collection: str, who: str = "henan_admin") -> str:
        r = get_tile(client, auth, who, collection, WMQ, z, y, x)
        assert r.status_code in (200, 204), r.text
        assert r.headers["cache-control"] == "private, no-cache"
        return str(r.headers["etag"])

    first, townships = tag("offices"), tag("townships")
    again = client.get(
        TILES.format("offices", WMQ, z, y, x),
        headers={**auth("henan_admin"), "If-None-Match": first},
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first
    assert tag("offices", "zhengzhou_city") != first  # another region: another tile

    seen = [first]
    office = client.get(f"/api/v1/offices/{office_id}", headers=auth("henan_admin"))
    edited = client.patch(
        f"/api/v1/offices/{office_id}",
        json={"address": "新村镇人民路1号"},
        headers={**auth("henan_admin"), "If-Match": office.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    seen.append(tag("offices"))
    checked = client.post(
        f"/api/v1/offices/{office_id}/acceptance/self_check",
        json={},
        headers=auth("xinzheng_county"),
    )
    assert checked.status_code in (200, 201), checked.text
    seen.append(tag("offices"))
    closed = client.delete(
        f"/api/v1/offices/{office_id}", params={"reason": "撤并"}, headers=auth("henan_admin")
    )
    assert closed.status_code == 200, closed.text
    seen.append(tag("offices"))
    reopened = client.post(
        "/api/v1/offices", json=office_body("410184101"), headers=auth("henan_admin")
    )
    assert reopened.status_code == 201, reopened.text
    seen.append(tag("offices"))
    assert len(set(seen)) == len(seen)  # each change a new tag
    assert tag("townships") == townships  # the townships read no office
    stale = client.get(
        TILES.format("offices", WMQ, z, y, x),
        headers={**auth("henan_admin"), "If-None-Match": first},
    )
    assert stale.status_code == 200


def _queries(r: Any) -> int:
    """How many statements the request ran (its Server-Timing)."""
    timing = dict(p.strip().split(";", 1) for p in r.headers["server-timing"].split(","))
    return int(timing["db"].split('desc="')[1].split()[0])


def test_a_worker_keeps_a_tile_until_its_data_changes(
    client, auth, session, offices, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The same tile asked again is the kept one (no tile is made: fewer statements), the
    same bytes; another region's is its own; after a write the next read makes the tile
    anew, with the change in it."""
    office_id = offices["410184101"]
    point = stored(session, "offices", "id = :id", id=office_id)
    z = 14
    y, x = tile_of(WMQ, point.x, point.y, z)
    first = get_tile(client, auth, "henan_admin", "offices", WMQ, z, y, x)
    again = get_tile(client, auth, "henan_admin", "offices", WMQ, z, y, x)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert _queries(again) < _queries(first)
    city = get_tile(client, auth, "zhengzhou_city", "offices", WMQ, z, y, x)
    assert city.headers["etag"] != first.headers["etag"] and _queries(city) == _queries(first)
    checked = client.post(
        f"/api/v1/offices/{office_id}/acceptance/self_check",
        json={},
        headers=auth("xinzheng_county"),
    )
    assert checked.status_code in (200, 201), checked.text
    after = get_tile(client, auth, "henan_admin", "offices", WMQ, z, y, x)
    assert after.headers["etag"] != first.headers["etag"]
    assert _queries(after) == _queries(first)
    ((before_state, after_state),) = [
        (b["properties"]["state"], a["properties"]["state"])
        for b in decode(first.content, tmp_path, WMQ, z, y, x)
        for a in decode(after.content, tmp_path, WMQ, z, y, x)
    ]
    assert (before_state, after_state) == ("not_applied", "self_checked")


def test_a_filter_narrows_a_tile_as_it_narrows_items(client, auth, offices, tmp_path) -> None:  # type: ignore[no-untyped-def]
    z = 7
    y, x = tile_of(WMQ, 114.2, 34.5, z)  # 郑州 and 开封

    def ids(**params: str) -> tuple[set[int], str]:
        r = get_tile(client, auth, "henan_admin", "offices", WMQ, z, y, x, **params)
        assert r.status_code == 200, r.text
        features = decode(r.content, tmp_path, WMQ, z, y, x)
        return {f["properties"]["id"] for f in features}, str(r.headers["etag"])

    everything, tag = ids()
    assert everything == set(offices.values())
    text, text_tag = ids(filter="code LIKE '4101%'")
    as_json = json.dumps({"op": "like", "args": [{"property": "code"}, "4101%"]})
    same, json_tag = ids(filter=as_json, **{"filter-lang": "cql2-json"})
    assert text == same == {offices["410184101"], offices["410122101"]}
    assert len({tag, text_tag, json_tag}) == 3  # each its own tile
    listed = client.get(
        "/ogc/collections/offices/items",
        params={"filter": "code LIKE '4101%'"},
        headers=auth("henan_admin"),
    ).json()
    assert {int(f["id"]) for f in listed["features"]} == text
    nothing = get_tile(
        client, auth, "henan_admin", "offices", WMQ, z, y, x, filter="state = 'accepted'"
    )
    assert nothing.status_code == 204


def test_coverage_tile_colours_townships_as_the_reports_do(
    client, auth, session, offices, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The coverage collection's tile carries each township's status: the same as its items
    (the reports' own blocks), and its ETag moves when an office is opened."""
    centre = township(session, "410184101").representative_point()
    z = 10
    y, x = tile_of(WMQ, centre.x, centre.y, z)
    r = get_tile(client, auth, "henan_planner", "coverage", WMQ, z, y, x)
    assert r.status_code == 200, r.text
    drawn = {
        f["properties"]["code"]: f["properties"] for f in decode(r.content, tmp_path, WMQ, z, y, x)
    }
    assert set(next(iter(drawn.values()))) == {"code", "name", "kind", "status"}
    assert drawn["410184101"]["status"] == "covered"
    listed = client.get(
        "/ogc/collections/coverage/items",
        params={"limit": 1000, "properties": "status"},
        headers=auth("henan_planner"),
    ).json()["features"]
    statuses = {f["id"]: f["properties"]["status"] for f in listed}
    assert {code: p["status"] for code, p in drawn.items()} == {c: statuses[c] for c in drawn}
    free = next(code for code, p in drawn.items() if p["status"] == "gap")
    opened = client.post("/api/v1/offices", json=office_body(free), headers=auth("henan_admin"))
    assert opened.status_code == 201, opened.text
    again = get_tile(client, auth, "henan_planner", "coverage", WMQ, z, y, x)
    assert again.headers["etag"] != r.headers["etag"]
    now = {
        f["properties"]["code"]: f["properties"]
        for f in decode(again.content, tmp_path, WMQ, z, y, x)
    }
    assert now[free]["status"] == "covered"


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_a_coalesced_tile_draws_each_class_once_over_the_same_ground(
    client, auth, session, offices, tmp_path, tms
) -> None:  # type: ignore[no-untyped-def]
    """`coalesce=true` merges the features whose chosen properties are equal: one feature a
    status, covering exactly the townships of that status in the plain tile (GDAL reads
    both), and a tile of its own (ETag)."""
    centre = township(session, "410184101").representative_point()
    z = 9
    y, x = tile_of(tms, centre.x, centre.y, z)
    plain = get_tile(client, auth, "henan_planner", "coverage", tms, z, y, x, properties="status")
    merged = get_tile(
        client,
        auth,
        "henan_planner",
        "coverage",
        tms,
        z,
        y,
        x,
        properties="status",
        coalesce="true",
    )
    assert plain.status_code == merged.status_code == 200, merged.text
    assert merged.headers["etag"] != plain.headers["etag"]
    by_status: dict[str, list[Any]] = {}
    for f in decode(plain.content, tmp_path, tms, z, y, x):
        by_status.setdefault(f["properties"]["status"], []).append(read(f))
    assert len(by_status) >= 2 and sum(map(len, by_status.values())) >= 5
    (tmp_path / "merged").mkdir()
    drawn = decode(merged.content, tmp_path / "merged", tms, z, y, x)
    assert sorted(f["properties"]["status"] for f in drawn) == sorted(by_status)
    for f in drawn:
        ground = shapely.union_all(by_status[f["properties"]["status"]])
        merged_ground = shapely.union_all(shapely.get_parts(read(f)))
        assert merged_ground.symmetric_difference(ground).area < 1e-6 * ground.area
    # an empty tile stays empty, and the flag is checked
    r = get_tile(client, auth, "henan_planner", "coverage", tms, 0, 0, 0, coalesce="maybe")
    assert r.status_code in (400, 422) and "coalesce" in r.text


def test_a_tile_of_outlines_alone_is_one_feature(client, auth, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An empty `properties` asks for the outlines alone (no field); coalesced, the county
    lines of a tile are one feature over the same ground as the counties in the tile."""
    centre = township(session, "410184101").representative_point()
    z = 8
    y, x = tile_of(WMQ, centre.x, centre.y, z)
    plain = get_tile(client, auth, "henan_planner", "counties", WMQ, z, y, x, properties="code")
    lines = get_tile(
        client, auth, "henan_planner", "counties", WMQ, z, y, x, properties="", coalesce="true"
    )
    assert plain.status_code == lines.status_code == 200, lines.text
    counties = decode(plain.content, tmp_path, WMQ, z, y, x)
    assert len(counties) >= 2
    (tmp_path / "lines").mkdir()
    (drawn,) = decode(lines.content, tmp_path / "lines", WMQ, z, y, x)
    assert drawn["properties"] == {}
    ground = shapely.union_all([read(f) for f in counties])
    assert (
        shapely.union_all(shapely.get_parts(read(drawn))).symmetric_difference(ground).area
        < 1e-6 * ground.area
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        (TILES.format("townships", WMQ, 17, 0, 0), {}, 404, "tileMatrix"),
        (TILES.format("townships", WMQ, -1, 0, 0), {}, 404, "tileMatrix"),
        (TILES.format("townships", CRS84Q, 16, 0, 0), {}, 404, "tileMatrix"),
        (TILES.format("townships", WMQ, 3, 8, 0), {}, 404, "tileRow"),
        (TILES.format("townships", CRS84Q, 3, 8, 0), {}, 404, "tileRow"),
        (TILES.format("townships", WMQ, 3, 0, 8), {}, 404, "tileCol"),
        (TILES.format("townships", CRS84Q, 3, 0, 16), {}, 404, "tileCol"),
        (TILES.format("townships", "EPSG:4490", 3, 0, 0), {}, 404, "tileMatrixSetId"),
        (TILES.format("villages", WMQ, 3, 0, 0), {}, 404, "collection_id"),
        (TILES.format("townships", WMQ, "z", 0, 0), {}, 422, "tileMatrix"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"datetime": "soon"}, 400, "datetime"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"properties": "geom"}, 400, "properties"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"bbox": "1,2,3,4"}, 400, "bbox"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"filter": "code = "}, 400, "filter"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"filter": "colour = 'red'"}, 400, "colour"),
        (TILES.format("townships", WMQ, 3, 0, 0), {"filter-lang": "cql2-json"}, 400, "filter"),
        (TILES.format("coverage", WMQ, 3, 0, 0), {"datetime": "2024-01-01/.."}, 400, "datetime"),
        ("/ogc/collections/townships/tiles/Nowhere", {}, 404, "tileMatrixSetId"),
    ],
)
def test_a_tile_not_served_is_a_4xx_naming_the_problem(
    client, auth, path, params, status, named
) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, params=params, headers=auth("henan_planner"))
    assert r.status_code == status, r.text
    assert named in json.dumps(r.json(), ensure_ascii=False)


def test_no_token_no_tiles(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/ogc/tileMatrixSets", TILES.format("townships", WMQ, 0, 0, 0)):
        assert client.get(path).status_code == 401


@pytest.mark.parametrize(("tms", "x"), [(WMQ, 0), (CRS84Q, 1)])
def test_the_whole_tenant_at_zoom_zero(client, auth, session, offices, tmp_path, tms, x) -> None:  # type: ignore[no-untyped-def]
    """The tile at zoom 0 over the whole tenant is made, and small: a township snapped to
    78–156 km pixels is a pixel or nothing, and offices are one a pixel."""
    for collection in ("provinces", "counties", "townships", "offices"):
        r = get_tile(client, auth, "henan_admin", collection, tms, 0, 0, x)
        assert r.status_code in (200, 204), r.text
        assert len(r.content) < 20_000
        if collection in ("provinces", "offices"):
            assert r.status_code == 200
            assert decode(r.content, tmp_path, tms, 0, 0, x)
    kept = decode(
        get_tile(client, auth, "henan_admin", "offices", tms, 0, 0, x).content,
        tmp_path,
        tms,
        0,
        0,
        x,
    )
    # a pixel at zoom 0 is 360/256° wide in WebMercatorQuad (and as tall at the equator, the
    # tile's middle), 180/256° in WorldCRS84Quad
    size = 360 / 256 if tms == WMQ else 180 / 256
    points = [stored(session, "offices", "id = :id", id=i) for i in offices.values()]
    pixels = {((p.x + 180) // size, (90 - p.y) // size) for p in points}
    assert len(kept) == len(pixels)
    assert {f["properties"]["id"] for f in kept} <= set(offices.values())
