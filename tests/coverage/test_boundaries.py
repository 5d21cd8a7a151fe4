"""Boundary QA: a planted overlap, an uncovered hole and a township spilling out of its county
are each found once, with their areas; results are cached until the divisions change."""

from __future__ import annotations

from datetime import date

import pyproj
import pytest
import shapely
from factories import mini_features, write_geojson

from service.divisions.importer import import_divisions
from service.tenants.service import get_tenant

URL = "/api/v1/coverage/boundaries"
EQUAL_AREA = pyproj.Transformer.from_crs(4326, "ESRI:102025", always_xy=True).transform


def m2(geom: shapely.Geometry) -> float:
    return float(shapely.area(shapely.transform(geom, EQUAL_AREA, interleaved=False)))


def feature(code: str):  # type: ignore[no-untyped-def]
    ((geom, props),) = mini_features("mini_henan", lambda c: c == code)
    return geom, props


def plant(session, tmp_path, features, day: date = date(2025, 3, 1)) -> None:  # type: ignore[no-untyped-def]
    path = write_geojson(tmp_path / f"plant-{day}.geojson", features)
    import_divisions(
        session=session, tenant=get_tenant(session=session, code="41"), path=path, valid_from=day
    )
    session.commit()


@pytest.fixture
def planted(session, tmp_path):  # type: ignore[no-untyped-def]
    # overlap: 新村镇 takes a strip of a neighbour without the neighbour giving it up
    o1, o1p = feature("410184101")
    o2, o2p = next(
        (g, p)
        for g, p in mini_features("mini_henan", lambda c: c.startswith("410184") and len(c) == 9)
        if p["code"] != "410184101" and shapely.intersection(o1.boundary, g.boundary).length > 0
    )
    strip = shapely.intersection(
        shapely.buffer(shapely.intersection(o1.boundary, o2.boundary), 0.004), o2
    )
    # uncovered: a hole cut out of 韩寺镇 (中牟县), covered by no township
    u1, u1p = feature("410122101")
    hole = shapely.point_on_surface(u1).buffer(0.003)
    # outside: a township of 通许县 spills over the county line
    ((county, _),) = mini_features("mini_henan", lambda c: c == "410222")
    x1, x1p = feature("410222101")
    edge = shapely.intersection(x1.boundary, county.boundary)
    bump = shapely.difference(
        shapely.get_point(shapely.get_parts(edge)[0], 0).buffer(0.004), county
    )
    plant(
        session,
        tmp_path,
        [
            (shapely.union(o1, strip), o1p),
            (shapely.difference(u1, hole), u1p),
            (shapely.union(x1, bump), x1p),
        ],
    )
    return {"strip": strip, "hole": shapely.intersection(hole, u1), "bump": bump, "o2": o2p["code"]}


def test_each_planted_problem_is_found_once(client, auth, planted):
    r = client.get(URL, headers=auth("henan_planner"))
    assert r.status_code == 200, r.text
    qa = r.json()
    assert [{o["a_code"], o["b_code"]} for o in qa["overlaps"]] == [{"410184101", planted["o2"]}]
    assert qa["overlaps"][0]["area_m2"] == pytest.approx(m2(planted["strip"]), rel=0.01)
    assert [u["county_code"] for u in qa["uncovered"]] == ["410122"]
    assert qa["uncovered"][0]["area_m2"] == pytest.approx(m2(planted["hole"]), rel=0.01)
    assert [o["code"] for o in qa["outside"]] == ["410222101"]
    assert qa["outside"][0]["area_m2"] == pytest.approx(m2(planted["bump"]), rel=0.01)
    assert qa["counties_not_clean"] == ["410184"]


def test_tolerance_region_and_as_of(client, auth, planted):
    h = auth("henan_admin")
    big = client.get(URL, params={"tolerance_m2": 10**9}, headers=h).json()
    assert (big["overlaps"], big["uncovered"], big["outside"]) == ([], [], [])
    county = client.get(URL, params={"region": "410122"}, headers=h).json()
    assert [u["county_code"] for u in county["uncovered"]] == ["410122"] and county[
        "overlaps"
    ] == []
    before = client.get(URL, params={"as_of": "2024-01-01"}, headers=h).json()
    assert (before["overlaps"], before["uncovered"], before["outside"]) == ([], [], [])


def test_results_are_cached_until_divisions_change(client, auth, planted, session, tmp_path):
    h = auth("henan_admin")
    first = client.get(URL, params={"region": "410184"}, headers=h).json()
    second = client.get(URL, params={"region": "410184"}, headers=h).json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert first["overlaps"] == second["overlaps"]
    o1, o1p = feature("410184101")
    plant(session, tmp_path, [(o1, o1p)], date(2025, 9, 1))  # the overlap is repaired
    third = client.get(URL, params={"region": "410184"}, headers=h).json()
    assert third["cached"] is False and third["overlaps"] == []


def test_exports_and_geojson(client, auth, planted):
    h = auth("henan_admin")
    gj = client.get(URL, params={"format": "geojson"}, headers=h).json()
    problems = sorted(f["properties"]["problem"] for f in gj["features"])
    assert problems == ["乡镇超出所属县界", "乡镇边界重叠", "县域内未被乡镇覆盖"]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in gj["features"])
    csv_text = client.get(URL, params={"format": "csv"}, headers=h).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("问题,区划代码,名称")
