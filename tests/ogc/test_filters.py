"""OGC API Features Part 3 and CQL2 from outside: queryables, and a filter of each class
/ogc/conformance declares (text and JSON; the cases in tests/cql2_cases.py), checked against
the features without a filter — a filter narrows to exactly those that satisfy it, and a bad
one is a 400 naming it."""

from __future__ import annotations

import json

import pytest
import shapely
from cql2_cases import CASES, features, ids, township_shape


@pytest.fixture
def offices(staffed_offices) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The shared offices, two of them with staff numbers and an area (conftest.py)."""
    return staffed_offices


def test_queryables_describe_the_properties(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogc/collections/offices/queryables", headers=auth("henan_planner"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    schema = r.json()
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")
    props = schema["properties"]
    assert props["geometry"]["format"] == "geometry-point"
    assert props["staff_total"]["type"] == "integer"
    assert props["opened_on"] == {"title": "设立日期", "type": "string", "format": "date"}
    assert "accepted" in props["state"]["enum"]
    links = client.get("/ogc/collections/offices", headers=auth("henan_planner")).json()["links"]
    assert any(x["rel"].endswith("/queryables") for x in links)


@pytest.mark.parametrize(("klass", "text", "as_json", "kept"), CASES)
def test_a_filter_keeps_exactly_what_satisfies_it(  # type: ignore[no-untyped-def]
    client, auth, offices, klass, text, as_json, kept
) -> None:
    expected = {str(offices[c]) for c in kept}
    assert ids(features(client, auth, "offices", filter=text)) == expected, klass
    by_json = features(
        client, auth, "offices", filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}
    )
    assert ids(by_json) == expected, klass


def test_spatial_functions(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    """basic-spatial-functions (S_INTERSECTS with a point and a BBOX), -plus (a polygon) and
    spatial-functions (S_WITHIN, S_CONTAINS, S_DISJOINT …), in CRS84 and in EPSG:4490's
    lat,lon order through filter-crs."""
    town = township_shape(client, auth, "410184101")
    inner = town.buffer(-0.0005) if not town.buffer(-0.0005).is_empty else town
    point = inner.representative_point()
    x1, y1, x2, y2 = town.bounds
    kept = ids(
        features(
            client, auth, "townships", filter=f"S_INTERSECTS(geometry, POINT({point.x} {point.y}))"
        )
    )
    assert "410184101" in kept
    boxed = ids(
        features(
            client, auth, "townships", filter=f"S_INTERSECTS(geometry, BBOX({x1},{y1},{x2},{y2}))"
        )
    )
    assert "410184101" in boxed and kept <= boxed
    polygon = shapely.to_wkt(town.buffer(-0.001), rounding_precision=9)
    assert (
        ids(features(client, auth, "townships", filter=f"S_WITHIN(geometry, {polygon})")) == set()
    )
    within = features(
        client,
        auth,
        "offices",
        filter=f"S_WITHIN(geometry, {shapely.to_wkt(town, rounding_precision=9)})",
    )
    assert ids(within) == {str(offices["410184101"])}
    contains = ids(
        features(
            client, auth, "townships", filter=f"S_CONTAINS(geometry, POINT({point.x} {point.y}))"
        )
    )
    assert contains == {"410184101"}
    everything = ids(features(client, auth, "townships"))
    disjoint = ids(
        features(
            client, auth, "townships", filter=f"S_DISJOINT(geometry, POINT({point.x} {point.y}))"
        )
    )
    assert disjoint == everything - kept
    # EPSG:4490 takes lat,lon: the same point written latitude first
    flipped = features(
        client,
        auth,
        "townships",
        filter=f"S_INTERSECTS(geometry, POINT({point.y} {point.x}))",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4490"},
    )
    assert ids(flipped) == kept
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [x1, y1, x2, y2]}]}
    assert (
        ids(
            features(
                client,
                auth,
                "townships",
                filter=json.dumps(as_json),
                **{"filter-lang": "cql2-json"},
            )
        )
        == boxed
    )


def test_temporal_and_dates(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    every = {str(i) for i in offices.values()}
    assert ids(features(client, auth, "offices", filter="opened_on >= DATE('2000-01-01')")) == every
    assert ids(features(client, auth, "offices", filter="opened_on < '2000-01-01'")) == set()
    after = {"op": "t_after", "args": [{"property": "opened_on"}, {"date": "2000-01-01"}]}
    assert (
        ids(
            features(
                client, auth, "offices", filter=json.dumps(after), **{"filter-lang": "cql2-json"}
            )
        )
        == every
    )
    during = {
        "op": "t_during",
        "args": [{"property": "valid_from"}, {"interval": ["2022-01-01", "2023-06-30"]}],
    }
    towns = features(
        client, auth, "townships", filter=json.dumps(during), **{"filter-lang": "cql2-json"}
    )
    assert towns and all(f["properties"]["valid_from"] == "2023-01-01" for f in towns)
    # the same in CQL2-text, as the standard writes temporal functions
    text_after = "T_AFTER(opened_on, DATE('2000-01-01'))"
    assert ids(features(client, auth, "offices", filter=text_after)) == every
    text_during = "T_DURING(valid_from, INTERVAL('2022-01-01', '2023-06-30'))"
    assert ids(features(client, auth, "townships", filter=text_during)) == ids(towns)
    before = "T_BEFORE(opened_on, DATE('2000-01-01'))"
    assert ids(features(client, auth, "offices", filter=before)) == set()


def test_a_filter_never_widens_the_region(client, auth, offices) -> None:  # type: ignore[no-untyped-def]
    """OR with something true everywhere still answers within the caller's region."""
    found = features(
        client, auth, "offices", who="zhengzhou_city", filter="code = '410222101' OR 1 = 1"
    )
    assert ids(found) == {str(offices["410184101"]), str(offices["410122101"])}


@pytest.mark.parametrize(
    ("text", "lang", "says"),
    [
        ("staff_total >=", "cql2-text", "cannot read"),
        ("secret = 1", "cql2-text", "not a queryable"),
        ("name = 3", "cql2-text", "compares a string with a number"),
        ("staff_total = 'three'", "cql2-text", "compares"),
        ("opened_on = 'soon'", "cql2-text", "not a date"),
        ("name LIKE 5", "cql2-text", "LIKE"),
        ("staff_total LIKE 'a%'", "cql2-text", "LIKE needs a text"),
        ("S_INTERSECTS(name, POINT(1 2))", "cql2-text", "geometries"),
        ("geometry = 1", "cql2-text", "geometries"),
        ("UPPER(name) = 'A'", "cql2-text", "not supported"),
        ("name + 1 > 2", "cql2-text", "arithmetic"),
        ('{"property": "staff_total"}', "cql2-json", "condition"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 2 2, 2 0, 0 2, 0 0)))", "cql2-text", "not valid"),
        ("{not json", "cql2-json", "cannot read"),
        ('{"op": "=", "args": [{"property": "nope"}, 1]}', "cql2-json", "not a queryable"),
        ("S_INTERSECTS(geometry, POLYGON((1 2, 3 4)))", "cql2-text", "geometry"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_problem(client, auth, text, lang, says) -> None:  # type: ignore[no-untyped-def]
    r = client.get(
        "/ogc/collections/offices/items",
        params={"filter": text, "filter-lang": lang},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["details"]["field"] == "filter" and says in body["message"], body


@pytest.mark.parametrize(
    "text",
    [
        "NOT " * 3000 + "staff_total = 1",
        "(" * 2000 + "staff_total = 1" + ")" * 2000,  # once killed the worker (cql2's stack)
        "(" * 9990 + "staff_total = 1" + ")" * 9990,  # as deep as MAX_FILTER allows
        "NOT " * 4990 + "staff_total = 1",
        "staff_total = " + "-" * 19980 + "1",
        "staff_total * 99999999999999999999999999 > 1",
        "staff_total / 0 > 1",
        "area_m2 > 1e400",
        "name LIKE '\\'",
        "name = '" + "\x00" + "'",
        "staff_total IN (" + ",".join(["1"] * 3000) + ")",
        "S_INTERSECTS(geometry, POINT(1e308 1e308))",
        "opened_on = DATE('9999-99-99')",
    ],
)
def test_hostile_filters_are_answered_or_refused_never_a_500(client, auth, text) -> None:  # type: ignore[no-untyped-def]
    r = client.get(
        "/ogc/collections/offices/items", params={"filter": text}, headers=auth("henan_admin")
    )
    assert r.status_code in (200, 400, 413, 414, 422), (r.status_code, r.text[:300])


def test_filter_parameters_alone_are_refused(client, auth) -> None:  # type: ignore[no-untyped-def]
    for params in (
        {"filter-lang": "cql2-json"},
        {"filter-crs": "EPSG:4490"},
        {"filter-lang": "ecql", "filter": "a=1"},
    ):
        r = client.get("/ogc/collections/offices/items", params=params, headers=auth("henan_admin"))
        assert r.status_code in (400, 422), r.text
