"""OGC API Features (Part 1 Core/GeoJSON/HTML, Part 2 CRS) from outside, through HTTP: the
documents a client reads, paging, the parameters, the CRS and axis order, and the region
scope — a city bureau's features are its city's, whatever it asks."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from sqlalchemy import text

from geo.crs import CRS84, crs_uri

GEOJSON = "application/geo+json"


def get(client, path: str, who: str, auth, **params: Any):  # type: ignore[no-untyped-def]
    return client.get(path, params=params, headers=auth(who))


def test_landing_conformance_and_collections(client, auth) -> None:  # type: ignore[no-untyped-def]
    landing = get(client, "/ogc", "henan_planner", auth)
    assert landing.status_code == 200
    assert landing.headers["content-type"].startswith("application/json")
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels.keys()
    assert rels["data"]["href"].endswith("/ogc/collections")

    conf = client.get(rels["conformance"]["href"], headers=auth("henan_planner")).json()
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf["conformsTo"]

    body = client.get(rels["data"]["href"], headers=auth("henan_planner")).json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["provinces", "cities", "counties", "townships", "offices", "coverage"]
    townships = body["collections"][ids.index("townships")]
    assert townships["storageCrs"] == CRS84
    assert crs_uri(4490) in townships["crs"] and crs_uri(4546) in townships["crs"]
    x1, y1, x2, y2 = townships["extent"]["spatial"]["bbox"][0]
    assert 110 < x1 < x2 < 117 and 31 < y1 < y2 < 37  # 河南's extent, lon/lat
    assert townships["extent"]["temporal"]["interval"][0][0] == "2023-01-01"
    items = [link for link in townships["links"] if link["rel"] == "items"]
    assert {link["type"] for link in items} == {GEOJSON, "text/html"}


def test_items_page_through_next_links_to_the_exact_count(client, auth) -> None:  # type: ignore[no-untyped-def]
    with_count = get(client, "/ogc/collections/townships/items", "henan_planner", auth, limit=1)
    matched = with_count.json()["numberMatched"]
    assert matched > 10
    assert with_count.headers["content-type"] == GEOJSON
    assert with_count.headers["content-crs"] == f"<{CRS84}>"
    seen: list[str] = []
    url: str | None = "/ogc/collections/townships/items?limit=7"
    pages = 0
    while url:
        page = client.get(url, headers=auth("henan_planner")).json()
        assert page["type"] == "FeatureCollection"
        assert page["numberMatched"] == matched
        assert page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
        pages += 1
    assert len(seen) == matched == len(set(seen)) and pages == -(-matched // 7)
    assert seen == sorted(seen)  # by feature id, stable across pages
    assert all(len(code) == 9 and code.startswith("41") for code in seen)


def test_a_city_bureau_gets_only_its_city(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    for collection in ("townships", "counties", "offices", "cities", "provinces"):
        body = get(
            client, f"/ogc/collections/{collection}/items", "zhengzhou_city", auth, limit=1000
        ).json()
        codes = [f["properties"]["code"] for f in body["features"]]
        assert all(c.startswith("4101") for c in codes), (collection, codes)
        assert body["numberMatched"] == len(codes)
        if collection == "provinces":
            assert codes == []  # the province is above the city bureau's region
        else:
            assert codes
    # another city's office and township: 404, as if they did not exist
    kaifeng = offices["410222101"]
    for path in (
        f"/ogc/collections/offices/items/{kaifeng}",
        "/ogc/collections/townships/items/410222101",
    ):
        r = get(client, path, "zhengzhou_city", auth)
        assert r.status_code == 404, r.text
    # a county bureau: its county only
    own = get(client, "/ogc/collections/offices/items", "xinzheng_county", auth).json()
    assert [f["id"] for f in own["features"]] == [str(offices["410184101"])]
    # the other tenant: nothing of 河南
    shanxi = get(client, "/ogc/collections/townships/items", "shanxi_admin", auth, limit=1000)
    assert all(f["id"].startswith("14") for f in shanxi.json()["features"])


def test_no_token_no_features(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/townships/items"):
        assert client.get(path).status_code == 401


def test_one_feature_with_etag(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    office_id = offices["410184101"]
    r = get(client, f"/ogc/collections/offices/items/{office_id}", "zhengzhou_city", auth)
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    feature = r.json()
    assert feature["type"] == "Feature" and feature["id"] == str(office_id)
    assert feature["geometry"]["type"] == "Point"
    props = feature["properties"]
    assert props["code"] == "410184101" and props["county"] == "新郑市"
    assert props["state"] == "not_applied" and props["state_label"] == "未申报"
    assert {x["rel"] for x in feature["links"]} >= {"self", "alternate", "collection"}
    again = client.get(
        f"/ogc/collections/offices/items/{office_id}",
        headers={**auth("zhengzhou_city"), "If-None-Match": r.headers["etag"]},
    )
    assert again.status_code == 304


def test_crs_and_axis_order(client, auth, session) -> None:  # type: ignore[no-untyped-def]
    """CRS84 is lon,lat; EPSG:4326 and 4490 lat,lon; Gauss-Krüger northing,easting; 3857 x,y —
    each checked against PostGIS's own transformation of the stored polygon."""
    code = "410184101"
    stored = session.execute(
        text("SELECT ST_AsText(geom) FROM divisions WHERE code = :c AND valid_to IS NULL"),
        {"c": code},
    ).scalar_one()
    lon_lat = shapely.from_wkt(stored)

    def first_point(crs: str | None) -> tuple[float, float]:
        params = {"crs": crs} if crs else {}
        r = get(client, f"/ogc/collections/townships/items/{code}", "henan_planner", auth, **params)
        assert r.status_code == 200, r.text
        assert r.headers["content-crs"] == f"<{crs or CRS84}>"
        x, y = r.json()["geometry"]["coordinates"][0][0][0]
        return x, y

    lon, lat = shapely.get_coordinates(lon_lat)[0]
    assert first_point(None) == pytest.approx((lon, lat), abs=1e-9)
    assert first_point(crs_uri(4326)) == pytest.approx((lat, lon), abs=1e-9)
    assert first_point(crs_uri(4490)) == pytest.approx((lat, lon), abs=1e-9)
    gk = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 4546) p"
        ),
        {"x": lon, "y": lat},
    ).one()
    easting, northing = gk
    assert 500_000 < easting < 900_000 and northing > 3_000_000
    assert first_point(crs_uri(4546)) == pytest.approx((northing, easting), abs=1e-3)
    x, y = first_point(crs_uri(3857))
    assert 12e6 < x < 13e6 and 4e6 < y < 4.2e6


def test_bbox_in_its_own_crs_and_axis_order(client, auth) -> None:  # type: ignore[no-untyped-def]
    whole = get(
        client, "/ogc/collections/townships/items", "henan_planner", auth, limit=1000
    ).json()
    one = next(f for f in whole["features"] if f["id"] == "410184101")
    shape = shapely.geometry.shape(one["geometry"])
    x1, y1, x2, y2 = shape.centroid.buffer(0.001).bounds

    def ids(**params: str) -> set[str]:
        r = get(
            client, "/ogc/collections/townships/items", "henan_planner", auth, limit=1000, **params
        )
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    around = ids(bbox=f"{x1},{y1},{x2},{y2}")
    assert "410184101" in around and len(around) < len(whole["features"])
    assert ids(bbox=f"{y1},{x1},{y2},{x2}", **{"bbox-crs": crs_uri(4490)}) == around
    assert ids(bbox=f"{y1},{x1},{y2},{x2}", **{"bbox-crs": "[EPSG:4326]"}) == around


def test_datetime_picks_the_version_valid_then(client, auth) -> None:  # type: ignore[no-untyped-def]
    before = get(
        client, "/ogc/collections/townships/items", "henan_planner", auth, datetime="2020-01-01"
    )
    assert before.status_code == 200 and before.json()["numberMatched"] == 0  # boundaries from 2023
    now = get(
        client,
        "/ogc/collections/townships/items",
        "henan_planner",
        auth,
        datetime="2024-06-01T12:00:00Z",
    )
    assert now.json()["numberMatched"] > 0
    interval = get(
        client,
        "/ogc/collections/townships/items",
        "henan_planner",
        auth,
        datetime="2022-01-01/..",
        limit=1,
    ).json()
    assert interval["numberMatched"] == now.json()["numberMatched"]
    assert interval["features"][0]["id"].endswith("@2023-01-01")  # a version of a code


def test_properties_and_sortby(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    body = get(
        client,
        "/ogc/collections/offices/items",
        "henan_admin",
        auth,
        properties="name,county",
        sortby="-code",
    ).json()
    assert [set(f["properties"]) for f in body["features"]] == [{"name", "county"}] * 3
    codes = [str(offices[c]) for c in sorted(offices, reverse=True)]
    assert [f["id"] for f in body["features"]] == codes


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "114,35,113,34"}, "bbox"),
        ({"bbox": "200,10,210,20"}, "bbox"),
        ({"bbox": "113,34,114,35", "bbox-crs": "EPSG:2000"}, "bbox-crs"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/4214"}, "crs"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2024-01-01/2023-01-01"}, "datetime"),
        ({"datetime": "../.."}, "datetime"),
        ({"properties": "name,secret"}, "properties"),
        ({"sortby": "geom"}, "sortby"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"colour": "red"}, "colour"),
        ({"f": "xml"}, "f"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, auth, params, field) -> None:  # type: ignore[no-untyped-def]
    r = get(client, "/ogc/collections/townships/items", "henan_planner", auth, **params)
    assert r.status_code in (400, 422), r.text
    assert field in json.dumps(r.json(), ensure_ascii=False)


def test_unknown_collection_404(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = get(client, "/ogc/collections/nothing/items", "henan_planner", auth)
    assert r.status_code == 404 and "townships" in r.json()["message"]


def test_html_in_chinese_escapes_stored_text(client, auth, session, offices) -> None:  # type: ignore[no-untyped-def]
    office_id = offices["410184101"]
    hostile = "<script>alert(1)</script>"
    session.execute(
        text("UPDATE offices SET address = :a WHERE id = :id"), {"a": hostile, "id": office_id}
    )
    session.flush()
    for path in ("/ogc/collections/offices/items", f"/ogc/collections/offices/items/{office_id}"):
        r = client.get(
            path, headers={**auth("henan_admin"), "Accept": "text/html,application/xhtml+xml"}
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert hostile not in r.text and "&lt;script&gt;" in r.text
        assert "司法所" in r.text
    landing = client.get("/ogc?f=html", headers=auth("henan_admin"))
    assert "数据集合" in landing.text


def test_coverage_collection_agrees_with_the_reports_and_the_map(
    client, auth, session, offices
) -> None:  # type: ignore[no-untyped-def]
    """Each township's status as the coverage reports and the coverage map give it: an
    office moved out of its township makes a misplaced one; a second office in a township a
    conflict."""
    who = auth("henan_admin")
    # a second office standing in 新郑's 410184101, registered to 410184102 (misplaced too):
    # written as an old import would have left it (the API derives the township from the point)
    session.execute(
        text(
            "INSERT INTO offices (tenant_id, name, division_id, division_code, geom, located_code,"
            " located_division_id, exception_reason)"
            " SELECT o.tenant_id, o.name || '二', d.id, d.code, o.geom, o.located_code,"
            " o.located_division_id, '测试' FROM offices o JOIN divisions d"
            " ON d.tenant_id = o.tenant_id AND d.code = '410184102' AND d.valid_to IS NULL"
            " WHERE o.id = :id"
        ),
        {"id": offices["410184101"]},
    )
    session.flush()
    found = client.get(
        "/ogc/collections/coverage/items", params={"limit": 1000}, headers=who
    ).json()["features"]
    status = {f["id"]: f["properties"]["status"] for f in found}

    def report(name: str, field: str) -> set[str]:
        r = client.get(f"/api/v1/coverage/{name}", params={"limit": 1000}, headers=who)
        assert r.status_code == 200, r.text
        return {row[field] for row in r.json()["items"]}

    assert {c for c, s in status.items() if s == "conflict"} == report("conflicts", "code")
    assert {c for c, s in status.items() if s == "conflict"} == {"410184101"}
    assert {c for c, s in status.items() if s == "misplaced"} == {"410184102"}
    gaps = report("gaps", "code")
    assert {c for c, s in status.items() if s == "gap"} == gaps - {"410184102"}
    assert {c for c, s in status.items() if s == "covered"} == {"410122101", "410222101"}
    one = next(f for f in found if f["id"] == "410184101")["properties"]
    assert one["offices"] == 2 and one["status_label"] == "重复设所" and one["county"] == "新郑市"
    # the coverage of one day, not of an interval
    r = client.get(
        "/ogc/collections/coverage/items", params={"datetime": "2024-01-01/.."}, headers=who
    )
    assert r.status_code == 400 and "one day" in r.json()["message"]
    before = client.get(
        "/ogc/collections/coverage/items", params={"datetime": "2023-06-01"}, headers=who
    ).json()
    assert before["numberMatched"] == len(found)


def test_a_city_bureaus_coverage_is_its_city(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    """The coverage collection (built from the reports' blocks, not the divisions source) is
    scoped like the others, with a date and with a filter true everywhere."""
    for params in ({}, {"datetime": "2024-01-01"}, {"filter": "code LIKE '%' OR 1 = 1"}):
        body = client.get(
            "/ogc/collections/coverage/items",
            params={"limit": 1000, **params},
            headers=auth("zhengzhou_city"),
        ).json()
        codes = [f["id"] for f in body["features"]]
        assert codes and all(c.startswith("4101") for c in codes), (params, codes)
    r = client.get("/ogc/collections/coverage/items/410222101", headers=auth("zhengzhou_city"))
    assert r.status_code == 404
