"""Offices over HTTP: registration rules (422/409), ETags (428/412), closing, listing."""

from __future__ import annotations

import math

import pytest
import shapely
from factories import mini_features
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.chinacoords import haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from service.divisions.kinds import DivisionLevel, kind_from_name
from service.offices.naming import expected_name

XINCUN = "410184101"  # 新村镇, 新郑市
XINJIAN = "410184001"  # 新建路街道, 新郑市
HANSI = "410122101"  # 韩寺镇, 中牟县


def cell(code: str) -> shapely.Geometry:
    ((geom, _),) = mini_features("mini_henan", lambda c: c == code)
    return geom


def inside(code: str) -> tuple[float, float]:
    """A point well inside a township (the centre of its largest inscribed circle)."""
    parts = shapely.get_parts(cell(code))
    largest = max(parts, key=lambda g: g.area)
    x, y = shapely.maximum_inscribed_circle(largest).coords[0]
    return x, y


def neighbours() -> tuple[str, str, shapely.Geometry]:
    """Two townships of 新郑市 in the fixture that share an edge, and that edge."""
    cells = mini_features("mini_henan", lambda c: c.startswith("410184") and len(c) == 9)
    for i, (a, pa) in enumerate(cells):
        for b, pb in cells[i + 1 :]:
            edge = a.boundary.intersection(b.boundary)
            if edge.length > 0:
                return pa["code"], pb["code"], edge
    raise AssertionError("the fixture has no neighbouring townships")


def office_name(code: str) -> str:
    ((_, props),) = mini_features("mini_henan", lambda c: c == code)
    kind = kind_from_name(props["name"], DivisionLevel.township).value
    return expected_name("新郑市", props["name"], kind)


def body(code: str, name: str, **extra) -> dict:
    lon, lat = inside(code)
    return {"name": name, "location": {"lon": lon, "lat": lat, "crs": "EPSG:4326"}, **extra}


def create(client, headers, code=XINCUN, name="新郑市司法局新村司法所", **extra):
    return client.post("/api/v1/offices", json=body(code, name, **extra), headers=headers)


def test_create_derives_division_and_returns_etag(client, auth):
    r = create(
        client, auth("xinzheng_county"), address="新村镇政府院内", staff_total=4, area_m2=130.5
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["division"] == {
        "code": XINCUN,
        "name": "新村镇",
        "kind": "town",
        "county_code": "410184",
        "county_name": "新郑市",
    }
    assert out["located_code"] == XINCUN
    assert out["acceptance_state"] == "not_applied"
    assert out["version"] == 1
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"/api/v1/offices/{out['id']}"
    got = client.get(r.headers["Location"], headers=auth("xinzheng_county"))
    assert got.status_code == 200 and got.json() == out


@pytest.mark.parametrize("crs", ["GCJ02", "BD09"])
def test_gcj02_and_bd09_points_are_converted(client, auth, crs):
    lon, lat = inside(XINCUN)
    shifted = wgs84_to_gcj02(lon, lat) if crs == "GCJ02" else wgs84_to_bd09(lon, lat)
    assert haversine_m(*shifted, lon, lat) > 100
    payload = {
        "name": "新郑市司法局新村司法所",
        "location": {"lon": shifted[0], "lat": shifted[1], "crs": crs},
    }
    r = client.post("/api/v1/offices", json=payload, headers=auth("xinzheng_county"))
    assert r.status_code == 201, r.text
    loc = r.json()["location"]
    assert haversine_m(loc["lon"], loc["lat"], lon, lat) < 0.05


def test_older_name_convention_is_accepted(client, auth):
    r = create(client, auth("xinzheng_county"), name="新郑市司法局新村镇司法所")
    assert r.status_code == 201, r.text


def test_wrong_name_gets_expected_name(client, auth):
    r = create(client, auth("xinzheng_county"), name="新村司法所")
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "name_convention"
    assert err["details"] == {"field": "name", "expected": "新郑市司法局新村司法所"}


def test_declared_division_elsewhere_names_the_real_one(client, auth):
    r = create(client, auth("xinzheng_county"), division_code=XINJIAN)
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "division_mismatch"
    assert "新村镇 (410184101)" in err["message"] and "新建路街道" in err["message"]
    assert err["details"]["point_division"]["code"] == XINCUN


@pytest.mark.parametrize(
    ("location", "fragment"),
    [
        ({"lon": 34.45, "lat": 113.73}, "swapped"),
        ({"lon": 2.35, "lat": 48.85}, "outside China"),
        ({"lon": 116.40, "lat": 39.90}, "outside every township"),
        ({"lon": 500000.0, "lat": 3800000.0}, "±180"),
    ],
)
def test_points_in_no_township_get_a_hint(client, auth, location, fragment):
    payload = {"name": "新郑市司法局新村司法所", "location": location}
    r = client.post("/api/v1/offices", json=payload, headers=auth("xinzheng_county"))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_location"
    assert fragment in r.json()["message"]


def test_nan_and_infinity_are_refused(client, auth):
    raw = '{"name": "新郑市司法局新村司法所", "location": {"lon": NaN, "lat": Infinity}}'
    r = client.post(
        "/api/v1/offices",
        content=raw,
        headers={**auth("xinzheng_county"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["details"]}
    assert {"location.lon", "location.lat"} <= fields


def test_second_office_conflicts_unless_an_exception_is_given(client, auth, session: Session):
    first = create(client, auth("xinzheng_county"))
    assert first.status_code == 201
    second = create(client, auth("xinzheng_county"))
    assert second.status_code == 409
    err = second.json()
    assert err["code"] == "township_has_office"
    assert err["details"]["existing"] == [
        {"id": first.json()["id"], "name": "新郑市司法局新村司法所"}
    ]
    third = create(
        client, auth("xinzheng_county"), exception_reason="新村镇辖区跨河，设分所经省厅批准"
    )
    assert third.status_code == 201, third.text
    stored = session.scalar(
        text("SELECT exception_reason FROM offices WHERE id = :id"), {"id": third.json()["id"]}
    )
    assert stored == "新村镇辖区跨河，设分所经省厅批准"


def test_patch_requires_a_current_etag(client, auth):
    h = auth("xinzheng_county")
    office = create(client, h).json()
    url = f"/api/v1/offices/{office['id']}"
    assert client.patch(url, json={"staff_total": 5}, headers=h).status_code == 428
    ok = client.patch(url, json={"staff_total": 5}, headers={**h, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["staff_total"] == 5 and ok.json()["version"] == 2
    assert ok.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"staff_total": 6}, headers={**h, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["details"]["current_etag"] == '"2"'
    assert client.get(url, headers=h).json()["staff_total"] == 5


def test_patch_location_rederives_division_and_checks_the_name(client, auth):
    h = auth("xinzheng_county")
    office = create(client, h).json()
    url = f"/api/v1/offices/{office['id']}"
    lon, lat = inside(XINJIAN)
    moved = client.patch(
        url, json={"location": {"lon": lon, "lat": lat}}, headers={**h, "If-Match": '"1"'}
    )
    assert moved.status_code == 422 and moved.json()["code"] == "name_convention"
    ok = client.patch(
        url,
        json={"location": {"lon": lon, "lat": lat}, "name": "新郑市司法局新建路司法所"},
        headers={**h, "If-Match": '"1"'},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["division"]["code"] == XINJIAN and ok.json()["located_code"] == XINJIAN


def test_staff_numbers_are_consistent(client, auth):
    r = create(client, auth("xinzheng_county"), staff_total=2, staff_formal=3)
    assert r.status_code == 422
    assert "staff_formal (3) cannot exceed staff_total (2)" in r.json()["message"]


def test_delete_closes_with_a_reason(client, auth):
    h = auth("xinzheng_county")
    office = create(client, h).json()
    url = f"/api/v1/offices/{office['id']}"
    assert client.delete(url, headers=h).status_code == 422
    closed = client.delete(url, params={"reason": "撤乡并镇，并入新建路街道所"}, headers=h)
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_reason"] == "撤乡并镇，并入新建路街道所"
    assert closed.json()["closed_at"] is not None
    assert client.get(url, headers=h).status_code == 200  # kept, not erased
    assert client.delete(url, params={"reason": "again"}, headers=h).status_code == 409
    listed = client.get("/api/v1/offices", headers=h).json()
    assert office["id"] not in [o["id"] for o in listed["items"]]
    with_closed = client.get("/api/v1/offices", params={"include_closed": True}, headers=h).json()
    assert office["id"] in [o["id"] for o in with_closed["items"]]
    # the township is free again
    assert create(client, h).status_code == 201


def test_list_filters_pagination_and_geojson(client, auth):
    h = auth("henan_admin")
    made = [
        create(client, h, code=XINCUN, name="新郑市司法局新村司法所"),
        create(client, h, code=XINJIAN, name="新郑市司法局新建路司法所"),
        create(client, h, code=HANSI, name="中牟县司法局韩寺司法所"),
    ]
    assert [m.status_code for m in made] == [201, 201, 201]

    def codes(**params):
        r = client.get("/api/v1/offices", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [o["division"]["code"] for o in r.json()["items"]]

    assert codes() == [HANSI, XINJIAN, XINCUN]
    assert codes(region="4101") == [HANSI, XINJIAN, XINCUN]
    assert codes(region="410184") == [XINJIAN, XINCUN]
    assert codes(region=XINCUN) == [XINCUN]
    assert codes(kind="street") == [XINJIAN]
    assert codes(state="not_applied") == [HANSI, XINJIAN, XINCUN]
    assert codes(state="accepted") == []
    page = client.get("/api/v1/offices", params={"limit": 2, "offset": 0}, headers=h).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["links"]["next"]
    page2 = client.get(page["links"]["next"], headers=h).json()
    assert [o["division"]["code"] for o in page2["items"]] == [XINCUN] and page2["links"][
        "next"
    ] is None
    gj = client.get("/api/v1/offices", params={"format": "geojson", "region": "410184"}, headers=h)
    assert gj.headers["content-type"].startswith("application/geo+json")
    fc = gj.json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == 2
    feat = fc["features"][0]
    assert feat["geometry"]["type"] == "Point"
    assert shapely.Point(feat["geometry"]["coordinates"]).within(cell(XINJIAN))


def test_region_scoping(client, auth):
    office = create(client, auth("xinzheng_county")).json()
    url = f"/api/v1/offices/{office['id']}"
    assert client.get(url, headers=auth("zhongmu_county")).status_code == 404
    assert client.get(url, headers=auth("zhengzhou_city")).status_code == 200
    assert (
        client.get(
            "/api/v1/offices", params={"region": "410184"}, headers=auth("zhongmu_county")
        ).status_code
        == 403
    )
    # a county bureau cannot register an office in another county
    r = create(client, auth("zhongmu_county"))
    assert r.status_code == 403
    # a viewer changes nothing
    assert create(client, auth("henan_viewer")).status_code == 403
    # another tenant does not see it at all
    assert client.get(url, headers=auth("shanxi_admin")).status_code == 404


def test_boundary_points_are_deterministic(client, auth):
    """A vertex shared by two townships belongs to the declared one, else to the lower code."""
    a, b, edge = neighbours()
    lon, lat = shapely.get_coordinates(edge)[0]
    h = auth("xinzheng_county")
    declared = max(a, b)
    r = client.post(
        "/api/v1/offices",
        json={
            "name": office_name(declared),
            "division_code": declared,
            "location": {"lon": lon, "lat": lat},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["division"]["code"] == declared
    lower = min(a, b)
    r2 = client.post(
        "/api/v1/offices",
        json={"name": office_name(lower), "location": {"lon": lon, "lat": lat}},
        headers=h,
    )
    assert r2.status_code == 201, r2.text
    assert r2.json()["division"]["code"] == lower


def test_just_inside_each_side_of_a_boundary(client, auth):
    """1 cm either side of a shared edge lands in the township on that side."""
    a, b, edge = neighbours()
    ga, gb = cell(a), cell(b)
    segment = shapely.get_parts(shapely.line_merge(edge))[0]
    mid = segment.interpolate(0.5, normalized=True)
    before = segment.interpolate(0.5, normalized=True).coords[0]
    x0, y0 = shapely.get_coordinates(segment)[0]
    # a unit normal to the edge near its middle
    nx, ny = -(mid.y - y0), mid.x - x0
    norm = math.hypot(nx, ny)
    nx, ny = nx / norm * 1e-7, ny / norm * 1e-7  # about 1 cm
    seen = set()
    for sign in (1, -1):
        p = shapely.Point(before[0] + sign * nx, before[1] + sign * ny)
        want = a if ga.contains(p) else b if gb.contains(p) else None
        assert want is not None, "a point 1 cm off a shared edge lies in one of its townships"
        seen.add(want)
        r = client.post(
            "/api/v1/offices",
            json={"name": office_name(want), "location": {"lon": p.x, "lat": p.y}},
            headers=auth("xinzheng_county"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["division"]["code"] == want
    assert seen == {a, b}
