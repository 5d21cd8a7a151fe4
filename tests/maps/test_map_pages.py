"""Maps as data and as pages: layers, colours and counts agree with the reports for the same
region; pages load nothing from outside; a user sees only their region; login by cookie.

Pages of a city, a province (and of the nation) draw their townships and their county and city
lines from the service's vector tiles, and load their offices after they have loaded: the
page stays small whatever the region. What the tiles and the loaded offices carry must be
what the page's legend counts, and what a county's page (which carries its own layers) shows."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import browser_login, scope_of
from office_records import OfficeSpec, register
from sqlalchemy import text
from sqlalchemy.orm import Session
from vector_tiles import MVT, WMQ, decode, tile_of

from maps.symbols import COVERAGE, STATE_COLOURS, staffing_class
from maps.themes import build_map
from service.accounts.scope import Scope
from service.maps.data import MapData, map_data

XINZHENG = "410184"
TOWNS = ["410184101", "410184102", "410184103", "410184104", "410184001"]


def geojson_layers(m: Any) -> dict[str, Any]:
    """name → folium GeoJson layer of a built map."""
    return {
        child.layer_name: child
        for child in m._children.values()
        if type(child).__name__ == "GeoJson"
    }


def tile_layers(m: Any) -> dict[str, dict[str, Any]]:
    """name → options of the layers of tiles of a built map."""
    return {
        child.layer_name: child.options
        for child in m._children.values()
        if type(child).__name__ == "VectorTiles"
    }


def fill_colors(layer: Any) -> Counter[str]:
    return Counter(layer.style_function(f)["fillColor"] for f in layer.data["features"])


@pytest.fixture
def world(client, auth, session) -> dict[str, int]:
    """Offices in some of 新郑's townships; one also registered twice (a conflict)."""
    offices = {
        code: register(client, auth("xinzheng_county"), code, OfficeSpec()) for code in TOWNS
    }
    session.execute(
        text(
            "INSERT INTO offices (tenant_id, name, division_id, division_code, geom, located_code,"
            " located_division_id, exception_reason)"
            " SELECT tenant_id, name || '二', division_id, division_code, geom, located_code,"
            " located_division_id, '测试' FROM offices WHERE id = :id"
        ),
        {"id": offices[TOWNS[0]]},
    )
    session.flush()
    return offices


def unfiltered(session: Session, scope: Scope, theme: str, region: str) -> MapData:
    """A theme's map data as a page shows it first: no date, state or kind filter."""
    return map_data(
        session=session,
        scope=scope,
        theme=theme,
        region=region,
        as_of=None,
        state=None,
        kinds=None,
    )


def test_coverage_map_agrees_with_the_coverage_reports(client, auth, session, base_data, world):
    scope = scope_of(base_data, "xinzheng_county")
    data = unfiltered(session, scope, "coverage", XINZHENG)
    status = {a.code: a.props["coverage"] for a in data.townships}

    def codes(path: str, field: str) -> set[str]:
        r = client.get(
            f"/api/v1/coverage/{path}",
            params={"region": XINZHENG, "limit": 5000},
            headers=auth("xinzheng_county"),
        )
        assert r.status_code == 200, r.text
        return {row[field] for row in r.json()["items"]}

    assert (
        {c for c, s in status.items() if s == "conflict"}
        == codes("conflicts", "code")
        == {TOWNS[0]}
    )
    gaps = codes("gaps", "code")
    assert {c for c, s in status.items() if s == "gap"} == gaps
    assert {c for c, s in status.items() if s == "covered"} == set(TOWNS[1:])
    summary = client.get(
        "/api/v1/coverage/summary",
        params={"region": "4101", "level": "county"},
        headers=auth("zhengzhou_city"),
    ).json()
    (xinzheng,) = [r for r in summary["items"] if r["code"] == XINZHENG]
    assert xinzheng["gaps"] == len(gaps)
    m = build_map("coverage", data)
    layers = geojson_layers(m)
    assert set(layers) == {"乡镇(街道)覆盖情况", "司法所", "县级界线", "市级界线"}
    colours = fill_colors(layers["乡镇(街道)覆盖情况"])
    assert colours[COVERAGE["gap"][0]] == len(gaps)
    assert colours[COVERAGE["conflict"][0]] == 1
    assert len(layers["司法所"].data["features"]) == len(TOWNS) + 1


def test_acceptance_map_agrees_with_the_overview(client, auth, session, base_data, world):
    office = world[TOWNS[1]]
    r = client.post(
        f"/api/v1/offices/{office}/acceptance/self_check", json={}, headers=auth("xinzheng_county")
    )
    assert r.status_code == 200
    scope = scope_of(base_data, "xinzheng_county")
    data = unfiltered(session, scope, "acceptance", XINZHENG)
    overview = client.get(
        "/api/v1/acceptance", params={"region": XINZHENG}, headers=auth("xinzheng_county")
    ).json()
    states = Counter(o.state for o in data.offices)
    assert {k: v for k, v in overview["counts"].items() if v} == dict(states)
    layer = geojson_layers(build_map("acceptance", data))["司法所"]
    assert fill_colors(layer)[STATE_COLOURS["self_checked"]] == 1


def test_the_page_loads_nothing_from_elsewhere(client, auth, world):
    for theme in ("coverage", "facility", "staffing", "acceptance", "aggregates"):
        r = client.get(
            f"/maps/{theme}", params={"region": XINZHENG}, headers=auth("xinzheng_county")
        )
        assert r.status_code == 200, (theme, r.text[:500])
        html = r.text
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", html), theme
        assert "cdn" not in html.lower() and "https://" not in html
        assert "/static/vendor/leaflet/leaflet.js" in html
        assert "script-src 'self' 'unsafe-inline'" in r.headers["content-security-policy"]
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/maps.css").status_code == 200


def test_another_citys_offices_are_absent(client, auth, world):
    r = client.get("/maps/acceptance", params={"region": "4102"}, headers=auth("zhengzhou_city"))
    assert r.status_code == 403
    other = register(client, auth("henan_admin"), "410222101", OfficeSpec())
    r = client.get("/maps/acceptance", headers=auth("zhengzhou_city"))
    assert r.status_code == 200
    assert "通许" not in r.text  # no other city's names
    # the city's page loads its offices after it, from the same region guard
    (url,) = set(re.findall(r'"(/maps/acceptance/offices\?[^"]*)"', r.text))
    assert url == "/maps/acceptance/offices?region=4101"
    loaded = client.get(url, headers=auth("zhengzhou_city")).json()["features"]
    ids = {f["id"] for f in loaded}
    assert other not in ids and world[TOWNS[1]] in ids
    county = client.get(
        "/maps/acceptance", params={"region": XINZHENG}, headers=auth("zhengzhou_city")
    )
    ids = {int(i) for i in re.findall(r'"type":"Feature","id":(\d+),', county.text)}
    assert other not in ids and world[TOWNS[1]] in ids  # (a county's page carries them)


def test_a_province_map_without_offices_still_draws(client, auth):
    r = client.get("/maps/coverage", params={"region": "41"}, headers=auth("henan_planner"))
    assert r.status_code == 200 and "乡镇(街道)覆盖情况" in r.text


def test_national_maps_show_aggregates_and_coverage_without_offices(session, base_data):
    from service.core.errors import Invalid

    scope = scope_of(base_data, "henan_admin")
    for theme in ("facility", "staffing", "acceptance"):
        with pytest.raises(Invalid, match="national map"):
            unfiltered(session, scope, theme, "")
    with pytest.raises(Invalid, match="national map"):
        map_data(
            session=session,
            scope=scope,
            theme="coverage",
            region="",
            as_of=None,
            state=None,
            kinds=None,
            purpose="offices",
        )
    # every township of the nation, from the tiles; their classes (no outline) for the legend
    data = unfiltered(session, scope, "coverage", "")
    assert data.offices == [] and data.offices_url is None
    assert data.tiles == {"page": "/maps/coverage/tiles/{z}/{y}/{x}?region="}
    assert len(data.townships) > 10 and all(a.geometry == {} for a in data.townships)
    data = unfiltered(session, scope, "aggregates", "")
    assert data.townships == [] and {c.code for c in data.cities} == {"4101", "4102"}


def test_login_by_cookie_opens_pages_but_never_authorises_changes(client, base_data, world):
    r = client.get("/login")
    assert r.status_code == 200 and "用户名" in r.text
    bad = browser_login(client, "zhengzhou_city", "wrong-password")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    r = browser_login(client, "zhengzhou_city", next="https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.cookies.get("registry_token")
    assert cookie and "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    client.cookies.set("registry_token", cookie)
    page = client.get("/maps/coverage")
    assert page.status_code == 200 and "郑州" in page.text
    office = world[TOWNS[1]]
    change = client.post(f"/api/v1/offices/{office}/acceptance/self_check", json={})
    assert change.status_code == 401
    client.post("/logout")
    client.cookies.set("registry_token", cookie)
    assert client.get("/maps/coverage").status_code == 401  # the login session was ended


def test_aggregates_and_staffing_agree_with_the_reports(client, auth, session, base_data, world):
    scope = scope_of(base_data, "henan_planner")
    data = unfiltered(session, scope, "aggregates", "41")
    summary = client.get(
        "/api/v1/coverage/summary",
        params={"region": "41", "level": "county"},
        headers=auth("henan_planner"),
    ).json()["items"]
    progress = client.get(
        "/api/v1/progress",
        params={"region": "41", "level": "county"},
        headers=auth("henan_planner"),
    ).json()["regions"]
    counties = {a.code: a.props for a in data.counties}
    for row in summary:
        assert counties[row["code"]]["coverage_rate"] == row["coverage_rate"]
    for row in progress:
        assert counties[row["code"]]["acceptance_rate"] == row["share"]
    # the page draws them from the tiles and sends their rates by code
    layers = tile_layers(build_map("aggregates", data))
    assert set(layers) == {"县级分区", "市级分区"}
    assert "counties/tiles/" in layers["县级分区"]["url"]
    sent = layers["县级分区"]["values"]
    for code, values in sent["rows"].items():
        assert dict(zip(sent["keys"], values, strict=True)) == {
            k: counties[code].get(k) for k in sent["keys"]
        }
    assert set(sent["rows"]) == set(counties) and {r["code"] for r in summary} <= set(counties)
    staffing = unfiltered(session, scope_of(base_data, "xinzheng_county"), "staffing", XINZHENG)
    # five staff each in the registered offices; the twin inserted in SQL recorded none
    assert Counter(staffing_class(o.staff_total) for o in staffing.offices) == {
        "five_plus": len(TOWNS),
        "unknown": 1,
    }
    assert not any(
        o.props["no_civil_servant"] or o.props["director_unqualified"]
        for o in staffing.offices
        if o.staff_total
    )
    facility = unfiltered(session, scope_of(base_data, "xinzheng_county"), "facility", XINZHENG)
    assert Counter(o.props["facility"] for o in facility.offices)["all_met"] >= len(TOWNS)


def test_the_api_docs_are_offline_too(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "https://" not in r.text and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in r.text
    assert "cdn" not in r.headers["content-security-policy"]
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_the_filter_bar_sends_empty_fields_and_kinds(client, auth, world):
    r = client.get(
        "/maps/coverage",
        params={"region": XINZHENG, "state": "", "kind": "", "as_of": ""},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200 and 'id="kind-filter"' in r.text
    streets = client.get(
        "/maps/coverage",
        params={"region": XINZHENG, "kind": "street"},
        headers=auth("xinzheng_county"),
    )
    assert streets.status_code == 200
    codes = set(re.findall(r'"type":"Feature","id":"(\d{9})"', streets.text))
    assert codes and all(c[6] == "0" for c in codes)  # 新郑's streets are 410184001–003
    bad = client.get("/maps/coverage", params={"kind": "palace"}, headers=auth("xinzheng_county"))
    assert bad.status_code == 422 and "kind" in bad.text


THEMES = ("coverage", "acceptance", "facility", "staffing")
PAGE_BAR = 300_000  # bytes of HTML, whatever the region (issue: maps from tiles)


def items_of(template: str) -> tuple[str, dict[str, str]]:
    """The items request with the same collection and query as a tile URL template."""
    parts = urlsplit(template)
    path = parts.path.split("/tiles/")[0] + "/items"
    return path, {**dict(parse_qsl(parts.query)), "limit": "10000"}


def test_a_province_page_is_small_and_draws_from_tiles(client, auth, world):
    for theme in (*THEMES, "aggregates"):
        r = client.get(f"/maps/{theme}", params={"region": "41"}, headers=auth("henan_planner"))
        assert r.status_code == 200, (theme, r.text[:300])
        assert len(r.content) < PAGE_BAR, (theme, len(r.content))
        page = r.text
        assert "/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js" in page
        assert '"type":"Feature","id":' not in page  # no office, township or line in it
        if theme == "aggregates":  # (the OGC API's county and city tiles)
            for collection in ("counties", "cities"):
                assert f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/" in page
            continue
        assert f"/maps/{theme}/tiles/{{z}}/{{y}}/{{x}}?region=41" in page
        assert f"/maps/{theme}/offices?region=41" in page
    assert (
        client.get("/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js").status_code == 200
    )


def page_tiles(
    client: Any, auth: Any, who: str, template: str, z: int, box: tuple, tmp_path: Any
) -> dict[str, list[dict[str, Any]]]:
    """The layers of a page's tiles over `box` (west, south, east, north) at zoom `z`, asked
    by the page's own URL and decoded by GDAL: layer → features."""
    (top, left), (bottom, right) = tile_of(WMQ, box[0], box[3], z), tile_of(WMQ, box[2], box[1], z)
    out: dict[str, list[dict[str, Any]]] = {}
    for y in range(top, bottom + 1):
        for x in range(left, right + 1):
            url = template.replace("{z}", str(z)).replace("{y}", str(y)).replace("{x}", str(x))
            r = client.get(url, headers=auth(who))
            assert r.status_code in (200, 204), r.text
            if r.status_code == 204:
                continue
            assert r.headers["content-type"].startswith(MVT) and r.headers["etag"]
            for layer in ("coverage", "counties", "cities"):
                found = subprocess.run(
                    ["ogrinfo", "-q", "-so", str(save(r.content, tmp_path, z, y, x)), layer],
                    capture_output=True,
                )
                if found.returncode == 0:
                    out.setdefault(layer, []).extend(
                        decode(r.content, tmp_path, WMQ, z, y, x, layer)
                    )
    return out


def save(data: bytes, tmp_path: Any, z: int, y: int, x: int) -> Any:
    path = tmp_path / f"page-{z}-{y}-{x}.mvt"
    path.write_bytes(data)
    return path


def townships_box(session: Session, region: str) -> tuple[float, float, float, float]:
    return tuple(
        session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
                " ST_Extent(geom) AS e FROM divisions WHERE level = 'township'"
                " AND starts_with(code, :r) AND valid_to IS NULL) s"
            ),
            {"r": region},
        ).one()
    )


def test_the_tiles_carry_the_classes_the_legend_counts(
    client, auth, session, base_data, world, tmp_path
):
    """A province page's tiles (its own route, decoded by GDAL) hold each township's class
    as the page's data (the legend) has it — with the page's filters: all, by kind, at a
    date — and the county and city lines as one outline a tile."""
    scope = scope_of(base_data, "henan_planner")
    box = townships_box(session, "41")
    for n, (kinds, as_of) in enumerate(
        ((None, None), (("town",), None), (None, date(2024, 6, 30)))
    ):
        data = map_data(
            session=session,
            scope=scope,
            theme="coverage",
            region="41",
            as_of=as_of,
            state=None,
            kinds=kinds,
        )
        (tmp_path / str(n)).mkdir()
        layers = page_tiles(
            client, auth, "henan_planner", data.tiles["page"], 9, box, tmp_path / str(n)
        )
        tiled = {f["properties"]["code"]: f["properties"]["status"] for f in layers["coverage"]}
        assert tiled == {a.code: a.props["coverage"] for a in data.townships}, (kinds, as_of)
        if kinds is None and as_of is None:
            assert set(TOWNS) <= set(tiled) and tiled[TOWNS[0]] == "conflict"
        for lines in ("counties", "cities"):
            assert layers[lines] and all(f["properties"] == {} for f in layers[lines])


def test_a_page_tile_holds_only_the_callers_region(client, auth, session, tmp_path, world):
    """A city's page tiles over the province hold that city's townships only; another
    city's page tile is refused, and below zoom 6 the coverage map's classes come merged
    (one feature a class) without the county lines."""
    layers = page_tiles(
        client,
        auth,
        "zhengzhou_city",
        "/maps/coverage/tiles/{z}/{y}/{x}?region=",
        9,
        townships_box(session, "41"),
        tmp_path,
    )
    codes = {f["properties"]["code"] for f in layers["coverage"]}
    assert codes and all(c.startswith("4101") for c in codes) and set(TOWNS) <= codes
    r = client.get(
        "/maps/coverage/tiles/9/200/420", params={"region": "4102"}, headers=auth("zhengzhou_city")
    )
    assert r.status_code == 403
    (tmp_path / "low").mkdir()
    low = page_tiles(
        client,
        auth,
        "henan_planner",
        "/maps/coverage/tiles/{z}/{y}/{x}?region=41",
        5,
        (113.74, 34.40, 113.74, 34.40),
        tmp_path / "low",
    )
    statuses = [f["properties"]["status"] for f in low["coverage"]]
    assert len(statuses) >= 2 and len(statuses) == len(set(statuses))  # one feature a class
    assert all(set(f["properties"]) == {"status"} for f in low["coverage"])
    assert "counties" not in low and low["cities"]
    r = client.get("/maps/aggregates/tiles/5/12/26", headers=auth("henan_planner"))
    assert r.status_code in (400, 422) and "theme" in r.text


def test_a_page_loads_the_offices_it_would_carry(client, auth, session, base_data, world):
    """A province page's offices, loaded after it: the offices of its data, each with the
    mark a county's page draws for it (the same style function), the state filter applied;
    compressed when the browser asks so."""
    scope = scope_of(base_data, "henan_planner")
    for theme in THEMES:
        data = unfiltered(session, scope, theme, "41")
        assert data.offices_url == f"/maps/{theme}/offices?region=41"
        r = client.get(
            data.offices_url, headers={**auth("henan_planner"), "Accept-Encoding": "gzip"}
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/geo+json"
        assert r.headers["content-encoding"] == "gzip"
        body = r.json()
        ids = {f["id"] for f in body["features"]}
        assert ids == {o.id for o in data.offices} and ids >= set(world.values())
        # the same marks as the embedded layer of a page that carries its offices
        county = unfiltered(session, scope, theme, XINZHENG)
        embedded = geojson_layers(build_map(theme, county))
        layer = next(v for k, v in embedded.items() if k.startswith("司法所"))
        styles = {f["id"]: layer.style_function(f) for f in layer.data["features"]}
        for f in body["features"]:
            if f["id"] in styles:
                expected = {k: v for k, v in styles[f["id"]].items() if v is not None}
                assert f["style"] == expected, (theme, f["id"])
                assert f["properties"] == next(
                    g["properties"] for g in layer.data["features"] if g["id"] == f["id"]
                )
    r = client.get(
        "/maps/acceptance/offices",
        params={"region": "41", "state": "not_applied"},
        headers={**auth("henan_planner"), "Accept-Encoding": "identity"},
    )
    states = {f["properties"]["state"] for f in r.json()["features"]}
    assert r.status_code == 200 and states == {"not_applied"}
    assert "content-encoding" not in r.headers  # (not asked for)
    assert json.loads(r.content)["type"] == "FeatureCollection"


def test_a_page_that_loads_offices_refuses_what_has_none(client, auth):
    r = client.get(
        "/maps/aggregates/offices", params={"region": "41"}, headers=auth("henan_planner")
    )
    assert r.status_code in (400, 422) and "theme" in r.text
    # (the nation's map, which draws no office: test_national_maps_show_aggregates_and_…)
    # another province's offices: the region guard of every map route
    r = client.get("/maps/coverage/offices", params={"region": "14"}, headers=auth("henan_planner"))
    assert r.status_code == 403


def test_the_acceptance_tiles_are_coloured_by_the_pages_states(
    client, auth, session, base_data, world
):
    """The acceptance map's townships come from the coverage tiles, coloured by the state the
    page sends for each township code: the same states as a county's own polygons."""
    office = world[TOWNS[1]]
    r = client.post(
        f"/api/v1/offices/{office}/acceptance/self_check", json={}, headers=auth("xinzheng_county")
    )
    assert r.status_code == 200
    scope = scope_of(base_data, "henan_planner")
    page = client.get("/maps/acceptance", params={"region": "41"}, headers=auth("henan_planner"))
    data = unfiltered(session, scope, "acceptance", "41")
    states = {a.code: a.props["state"] for a in data.townships if a.props.get("state")}
    assert states[TOWNS[1]] == "self_checked"
    rows = {code: [state] for code, state in states.items()}  # (maps/layers.py values_table)
    assert json.dumps(rows, ensure_ascii=False, separators=(",", ":")) in page.text
    county = unfiltered(session, scope, "acceptance", XINZHENG)
    colours = fill_colors(geojson_layers(build_map("acceptance", county))["乡镇(街道)验收状态"])
    assert sum(colours.values()) == len(county.townships)
