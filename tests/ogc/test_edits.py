"""OGC API Features Part 4 on offices, from outside: create, replace, update and delete go
through the office API's own rules — naming, one office per township, the township from the
point, If-Match (412 when stale), roles and regions, the audit trail — and a city or county
bureau cannot write outside its region through /ogc either."""

from __future__ import annotations

import json

from office_features import GEOJSON, feature, post

EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def test_create_then_read_replace_patch_and_delete(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = post(
        client,
        "xinzheng_county",
        auth,
        feature("410184101", address="新村镇政府院内", staff_total=3),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    office_id = created["id"]
    assert r.headers["location"].endswith(f"/ogc/collections/offices/items/{office_id}")
    assert created["properties"]["code"] == "410184101"  # the township from the point
    assert created["properties"]["staff_total"] == 3
    # the office API sees the same office, at the version the feature's ETag names
    api = client.get(f"/api/v1/offices/{office_id}", headers=auth("xinzheng_county"))
    assert api.status_code == 200 and api.json()["address"] == "新村镇政府院内"
    assert r.headers["etag"].startswith(api.headers["etag"].removesuffix('"') + ".")

    # replace: If-Match required, stale → 412; a writable property left out is cleared
    url = f"/ogc/collections/offices/items/{office_id}"
    replacement = feature("410184101", phone="0371-62600000", staff_total=3)
    headers = {**auth("xinzheng_county"), "Content-Type": GEOJSON}
    body = json.dumps(replacement, ensure_ascii=False)
    assert client.put(url, content=body, headers=headers).status_code == 428
    stale = client.put(url, content=body, headers={**headers, "If-Match": '"999"'})
    assert stale.status_code == 412, stale.text
    r = client.put(url, content=body, headers={**headers, "If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["phone"] == "0371-62600000"
    assert r.json()["properties"]["address"] is None

    # patch (merge patch): only what it names
    patch = {"properties": {"area_m2": 95.5}}
    r = client.patch(
        url,
        content=json.dumps(patch),
        headers={
            **auth("xinzheng_county"),
            "Content-Type": "application/merge-patch+json",
            "If-Match": r.headers["etag"],
        },
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["area_m2"] == 95.5 and props["phone"] == "0371-62600000"

    # the audit trail has each change, by the county bureau
    events = client.get(f"/api/v1/offices/{office_id}/history", headers=auth("henan_admin")).json()
    assert len(events) >= 3 and {e["username"] for e in events} == {"xinzheng_county"}

    # delete closes it: gone from the collection, kept (closed) in the office API
    r = client.delete(url, headers={**auth("xinzheng_county"), "If-Match": r.headers["etag"]})
    assert r.status_code == 204, r.text
    assert client.get(url, headers=auth("xinzheng_county")).status_code == 404
    closed = client.get(f"/api/v1/offices/{office_id}", headers=auth("xinzheng_county")).json()
    assert closed["closed_at"] and closed["closed_reason"] == "经 OGC API 删除"


def test_the_office_rules_hold(client, auth) -> None:  # type: ignore[no-untyped-def]
    wrong_name = feature("410184101")
    wrong_name["properties"]["name"] = "新村司法所"
    r = post(client, "xinzheng_county", auth, wrong_name)
    assert r.status_code == 422 and r.json()["code"] == "name_convention"
    assert post(client, "xinzheng_county", auth, feature("410184101")).status_code == 201
    again = post(client, "xinzheng_county", auth, feature("410184101"))
    assert again.status_code == 409 and again.json()["code"] == "township_has_office"


def test_roles_and_regions(client, auth) -> None:  # type: ignore[no-untyped-def]
    # another county's township: refused for the county bureau
    other = post(client, "xinzheng_county", auth, feature("410122101"))
    assert other.status_code in (403, 404, 422), other.text
    # a planner may not create offices at all
    assert post(client, "henan_planner", auth, feature("410184103")).status_code == 403
    # a city bureau's office of another city: not found through /ogc either
    r = post(client, "henan_admin", auth, feature("410222101"))
    assert r.status_code == 201
    url = f"/ogc/collections/offices/items/{r.json()['id']}"
    patch = json.dumps({"properties": {"phone": "1"}})
    r = client.patch(
        url,
        content=patch,
        headers={
            **auth("zhengzhou_city"),
            "Content-Type": "application/merge-patch+json",
            "If-Match": '"1"',
        },
    )
    assert r.status_code == 404, r.text
    assert client.delete(url, headers=auth("zhengzhou_city")).status_code == 404


def test_the_point_in_cgcs2000_lat_lon_order(client, auth) -> None:  # type: ignore[no-untyped-def]
    body = feature("410184104")
    lon, lat = body["geometry"]["coordinates"]
    body["geometry"]["coordinates"] = [lat, lon]
    r = post(client, "xinzheng_county", auth, body, **{"Content-Crs": f"<{EPSG4490}>"})
    assert r.status_code == 201, r.text
    x, y = r.json()["geometry"]["coordinates"]
    assert abs(x - lon) < 1e-9 and abs(y - lat) < 1e-9  # read back in CRS84


def test_other_collections_are_read_only_and_bad_bodies_are_4xx(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/ogc/collections/townships/items",
        content=json.dumps(feature("410184101")),
        headers={**auth("henan_admin"), "Content-Type": GEOJSON},
    )
    assert r.status_code == 405 and "read-only" in r.json()["message"]
    for bad in (
        [],
        {"type": "FeatureCollection", "features": []},
        {"type": "Feature", "geometry": None, "properties": {"name": "x"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {}},
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": ["a", 1]},
            "properties": {},
        },
        {**feature("410184105"), "properties": {"name": "x", "colour": "red"}},
        {**feature("410184105"), "properties": {"name": "新郑市司法局x司法所", "staff_total": -1}},
    ):
        r = post(client, "henan_admin", auth, bad)
        assert 400 <= r.status_code < 500, (bad, r.status_code, r.text)
    r = post(client, "henan_admin", auth, feature("410184105"), **{"Content-Crs": "<EPSG:9999>"})
    assert r.status_code == 400 and "Content-Crs" in r.json()["message"]
