"""Where a page is and where it goes: the region trail and picker, drill-down from the
dashboard to a county and a township, the whole list of gaps, and the maps' drill-down links,
date notice and gap counting — always inside the user's own region."""

from __future__ import annotations

import re
from html import unescape

from office_records import OfficeSpec, register
from page_sections import with_sections

from service.pages.dashboard import sorted_rows

XINZHENG = "410184"
TOWNS = ["410184101", "410184102", "410184103"]
PAGE = {"accept": "text/html"}


def html_of(client, headers, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    """The page as the browser shows it: with the sections it loads beside itself."""
    if status == 200:
        return unescape(with_sections(client, {**headers, **PAGE}, url))
    r = client.get(url, headers={**headers, **PAGE})
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return unescape(r.text)


def test_the_dashboard_drills_down_from_city_to_county_to_township(client, auth):
    offices = [register(client, auth("xinzheng_county"), c, OfficeSpec()) for c in TOWNS]
    city = auth("zhengzhou_city")
    html = html_of(client, city, "/dashboard")
    # each county of the city opens its own dashboard; each state count opens the list
    assert f'href="/dashboard?region={XINZHENG}"' in html
    assert f"/offices?state=not_applied&amp;region={XINZHENG}" in html.replace("&", "&amp;")
    assert 'aria-current="page">郑州市' in html and "选择下级县(市、区)" in html

    county = html_of(client, city, f"/dashboard?region={XINZHENG}")
    assert "新郑市 工作台" in county
    trail = re.search(r'<ol class="trail">(.*?)</ol>', county, re.S)
    assert trail is not None
    # the trail starts at the user's own region (never above it) and ends here
    assert re.findall(r">([^<>]+)</(?:a|span)>", trail.group(1)) == ["郑州市", "新郑市"]
    assert 'href="/dashboard?region=4101"' in trail.group(1)
    assert f'href="/dashboard?region={TOWNS[0]}"' in county  # a township of the county

    town = html_of(client, city, f"/dashboard?region={TOWNS[0]}")
    assert f'href="/offices/{offices[0]}"' in town and "未申报" in town
    assert f"/offices/{offices[1]}" not in town


def test_a_region_outside_ones_own_is_refused_on_every_page(client, auth):
    city = auth("zhengzhou_city")
    for url in (
        "/dashboard?region=4102",
        "/dashboard?region=41",
        "/dashboard/progress?region=4102",  # the dashboard's sections, as htmx asks
        "/dashboard/coverage?region=41",
        "/gaps?region=410222",
        "/maps/coverage?region=4102",
        "/regions/children?region=4102&path=/dashboard",
    ):
        text = html_of(client, city, url, 403)
        assert "您的角色或辖区不能查看" in text, url
        r = client.get(url, headers={**city, "HX-Request": "true"})
        assert r.status_code == 403, url
    r = client.get("/regions/children?region=4101&path=//evil.example", headers=city)
    assert r.status_code == 422 and r.json()["details"]["field"] == "path"


def test_the_picker_opens_the_next_level_as_a_fragment(client, auth):
    r = client.get(
        f"/regions/children?region={XINZHENG}&path=/gaps", headers=auth("zhengzhou_city")
    )
    assert r.status_code == 200
    links = re.findall(r'href="([^"]+)"', r.text)
    assert links and all(h.startswith("/gaps?region=410184") for h in links)
    assert f"/gaps?region={TOWNS[0]}" in links
    assert "hx-get" not in r.text  # townships are the last level: nothing more to open
    county = client.get(
        "/regions/children?region=4101&path=/dashboard", headers=auth("zhengzhou_city")
    )
    assert 'hx-get="/regions/children?region=410184&amp;path=/dashboard"' in county.text


def test_sub_regions_sort_by_a_measure_with_the_unmeasured_last():
    rows = [
        {"code": "4101", "name": "乙", "share": 0.5},
        {"code": "4102", "name": "甲", "share": None},
        {"code": "4103", "name": "丙", "share": 0.2},
        {"code": "4104", "name": "丁", "share": 0.5},
    ]
    order = [r["code"] for r in sorted_rows(rows, "share", {"share": ("share", False)})]
    assert order == ["4103", "4101", "4104", "4102"]
    order = [r["code"] for r in sorted_rows(rows, "share", {"share": ("share", True)})]
    assert order == ["4101", "4104", "4103", "4102"]
    assert [r["code"] for r in sorted_rows(rows, "code", {})] == ["4101", "4102", "4103", "4104"]


def test_the_dashboard_sorts_counties_by_gaps(client, auth):
    register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    city = auth("zhengzhou_city")
    html = html_of(client, city, "/dashboard?csort=gaps")
    section = html[html.index('id="coverage"') :]
    gaps = [int(n) for n in re.findall(r'data-label="空白">(?:<a [^>]*>)?(\d+)', section)]
    assert len(gaps) > 1 and gaps == sorted(gaps, reverse=True)
    assert '<span class="sorted" aria-current="true">空白最多在前' in section


def test_the_gaps_page_lists_all_of_them_and_exports_what_it_shows(client, auth):
    register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    city = auth("zhengzhou_city")
    api = client.get(
        "/api/v1/coverage/gaps", params={"region": "4101", "limit": 5000}, headers=city
    )
    total = api.json()["total"]
    assert total > 20
    first = html_of(client, city, "/gaps?region=4101&per=20")
    assert f"共 {total} 个乡镇(街道),第 1/{-(-total // 20)} 页" in first
    codes = re.findall(r'data-label="代码">(\d{9})<', first)
    assert codes == [row["code"] for row in api.json()["items"][:20]]
    assert 'href="/gaps?per=20&amp;region=4101&amp;page=2"' in first.replace("&", "&amp;")
    second = html_of(client, city, "/gaps?region=4101&per=20&page=2")
    assert re.findall(r'data-label="代码">(\d{9})<', second) == [
        row["code"] for row in api.json()["items"][20:40]
    ]
    assert TOWNS[0] not in {row["code"] for row in api.json()["items"]}
    # a county opens its own list; the export carries the same filters
    assert f'href="/gaps?per=20&amp;region={XINZHENG}"' in first.replace("&", "&amp;")
    streets = html_of(client, city, "/gaps?region=4101&kind=street")
    assert "/api/v1/coverage/gaps?region=4101&kind=street&format=xlsx" in streets
    street_total = client.get(
        "/api/v1/coverage/gaps", params={"region": "4101", "kind": "street"}, headers=city
    ).json()["total"]
    assert f"共 {street_total} 个" in streets
    assert html_of(client, city, "/gaps?region=4101&kind=county", 422)


def test_the_coverage_map_counts_gaps_as_the_dashboard_does(client, auth):
    register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    city = auth("zhengzhou_city")
    total = client.get("/api/v1/coverage/gaps", params={"region": XINZHENG}, headers=city).json()[
        "total"
    ]
    page = html_of(client, city, f"/maps/coverage?region={XINZHENG}&state=")
    assert f"与工作台、空白乡镇名单同一口径,共 {total} 个" in page
    assert "user-scalable=no" not in page  # the page may be zoomed
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')


def test_a_map_before_any_boundary_says_so(client, auth):
    page = html_of(client, auth("zhengzhou_city"), "/maps/coverage?as_of=1990-01-01")
    assert "所选日期 1990-01-01 没有区划数据" in page and 'role="status"' in page
    assert 'role="status"' not in html_of(client, auth("zhengzhou_city"), "/maps/coverage")


def test_a_city_map_links_each_township_to_its_county_map(client, auth):
    page = html_of(client, auth("zhengzhou_city"), "/maps/acceptance?state=accepted")
    # the popup's link: the same theme and filters for the township's county
    # (in a script, "&" is written \u0026)
    assert '"/maps/acceptance?state=accepted\\u0026region=","county"' in page
    aggregates = html_of(client, auth("henan_admin"), "/maps/aggregates")
    assert '"/maps/aggregates?region=","code"' in aggregates  # a city: its own statistics
    assert '"/maps/coverage?region=","code"' in aggregates  # a county: its townships


def test_each_roles_dashboard_opens_with_what_waits_for_it(client, auth):
    offices = [register(client, auth("xinzheng_county"), c, OfficeSpec()) for c in TOWNS]
    r = client.post(
        f"/api/v1/offices/{offices[0]}/acceptance/self_check", json={}, headers=auth("xincun_staff")
    )
    assert r.status_code == 200
    county = html_of(client, auth("xinzheng_county"), "/dashboard")
    todo = county[county.index('id="todo"') : county.index("</section>", county.index('id="todo"'))]
    # the county bureau applies for the self-checked office: that is its job here
    assert "<b>1</b> 个司法所已自查" in todo and "县司法局申报验收" in todo
    assert f"/offices?state=self_checked&amp;region={XINZHENG}" in todo.replace("&", "&amp;")
    city = html_of(client, auth("zhengzhou_city"), "/dashboard")
    assert 'id="todo"' not in city  # nothing has been applied for: nothing waits for the city


def test_the_dashboards_sections_load_beside_it_and_open_by_themselves(client, auth):
    """The progress and the coverage come as fragments when htmx asks for them, and as pages
    of their own (picker, way back) when opened by a link; the page names both."""
    register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    city = auth("zhengzhou_city")
    r = client.get("/dashboard", params={"region": XINZHENG}, headers={**city, **PAGE})
    assert r.status_code == 200
    for name, title in (("progress", "规范化进度与目标"), ("coverage", "覆盖情况")):
        url = f"/dashboard/{name}?{name[0]}sort=code&amp;region={XINZHENG}"
        assert f'hx-get="{url}" hx-trigger="load"' in r.text, name
        assert f'<a href="{url}">' in r.text, name  # without script: a link
        part = client.get(unescape(url), headers={**city, "HX-Request": "true"})
        assert part.status_code == 200 and part.text.startswith(f'<section id="{name}">')
        assert "<html" not in part.text and title in part.text
        alone = html_of(client, city, unescape(url))
        assert alone.startswith("<!doctype html>") and f"新郑市 {title}" in alone
        assert f'href="/dashboard/{name}?{name[0]}sort=code&region=4101"' in alone  # the trail
        assert f'<a href="/dashboard?region={XINZHENG}">返回工作台</a>' in alone


def test_a_townships_sections_lead_to_its_dashboard(client, auth):
    """A township has no regions below it: asked for its progress or coverage section (a
    link, a township user's own region), the answer is its dashboard, never an error."""
    city = auth("zhengzhou_city")
    for name in ("progress", "coverage"):
        r = client.get(
            f"/dashboard/{name}",
            params={"region": TOWNS[0]},
            headers={**city, **PAGE},
            follow_redirects=False,
        )
        assert r.status_code == 303, (r.status_code, r.url, r.history, r.text[:200])
        assert r.headers["location"] == f"/dashboard?region={TOWNS[0]}"


def test_no_page_answers_an_anonymous_client(client):
    """Every page that shows data asks for a login first — the dashboard's sections, the
    picker's fragment and any page a module of the pages or the maps adds later included —
    (a browser is sent to the login page, an API client gets 401); none answers or fails."""
    import importlib
    import pkgutil

    import service.pages

    modules = [f"service.pages.{m.name}" for m in pkgutil.iter_modules(service.pages.__path__)]
    public = {"/", "/login", "/logout"}
    routers = [getattr(importlib.import_module(n), "router", None) for n in modules]
    routers.append(importlib.import_module("service.maps.router").router)
    pages = sorted(
        {
            route.path
            for router in routers
            if router is not None
            for route in router.routes
            if "GET" in route.methods and route.path not in public
        }
    )
    assert "/dashboard/progress" in pages and "/regions/children" in pages
    client.cookies.clear()
    for path in pages:
        url = path.replace("{office_id}", "1").replace("{staff_id}", "1")
        url = url.replace("{theme}", "coverage").replace("{file_id}", "1")
        for headers in (PAGE, {"accept": "application/json"}):
            r = client.get(url, headers=headers, follow_redirects=False)
            to_login = r.status_code == 303 and r.headers["location"].startswith("/login")
            assert r.status_code == 401 or to_login, (url, headers, r.status_code, r.text[:200])
