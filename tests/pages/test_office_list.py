"""The office list: its filters and sorts (the API, the export and the page read the same
query), counts and pages, the city's own region only, and stored names shown as text."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from conftest import only_own_scripts
from hostile import MARKUP
from office_records import OfficeSpec, register, township_point
from openpyxl import load_workbook

XINZHENG = ["410184101", "410184102", "410184103", "410184104", "410184105"]
ZHONGMU, TONGXU = "410122101", "410222101"  # 郑州 (4101) and 开封 (4102)


def step(client: Any, auth: Any, user: str, office: int, name: str, day: date) -> None:
    body = {"inspection_date": str(day), "inspectors": ["王检查"], "reasons": ["测试"]}
    r = client.post(f"/api/v1/offices/{office}/acceptance/{name}", json=body, headers=auth(user))
    assert r.status_code == 200, (name, r.text)


def accepted_on(client: Any, auth: Any, code: str, day: date) -> int:
    """An office accepted by the city on `day` (its records those of that year)."""
    spec = OfficeSpec()
    for member in spec.staff:
        member["training_year"] = day.year
    assert spec.facilities is not None
    spec.facilities["results_year"] = day.year
    spec.work_year = day.year
    office = register(client, auth("xinzheng_county"), code, spec)
    for user, name in (
        ("xinzheng_county", "self_check"),
        ("xinzheng_county", "apply"),
        ("zhengzhou_city", "accept"),
    ):
        step(client, auth, user, office, name, day)
    return office


@pytest.fixture
def offices(client: Any, auth: Any) -> dict[str, int]:
    """Offices in planted states: two applied (standard met), one self-checked (area short),
    one accepted long ago (re-inspection overdue), one due within 90 days, one in 中牟, one
    in another city (开封)."""
    county, today = auth("xinzheng_county"), date.today()
    out = {
        "applied_a": register(client, county, XINZHENG[0], OfficeSpec()),
        "applied_b": register(client, county, XINZHENG[1], OfficeSpec()),
        "short": register(client, county, XINZHENG[2], OfficeSpec(area_m2=90)),
        "overdue": accepted_on(client, auth, XINZHENG[3], today - timedelta(days=3 * 365)),
        "due_soon": accepted_on(client, auth, XINZHENG[4], today - timedelta(days=700)),
        "zhongmu": register(client, auth("zhongmu_county"), ZHONGMU, OfficeSpec()),
        "kaifeng": register(client, auth("henan_admin"), TONGXU, OfficeSpec()),
    }
    for key in ("applied_a", "applied_b"):
        step(client, auth, "xinzheng_county", out[key], "self_check", today)
        step(client, auth, "xinzheng_county", out[key], "apply", today)
    step(client, auth, "xinzheng_county", out["short"], "self_check", today)
    return out


def ids(client: Any, auth: Any, user: str = "zhengzhou_city", **params: Any) -> list[int]:
    r = client.get("/api/v1/offices", params=params, headers=auth(user))
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


def exported(client: Any, auth: Any, user: str = "zhengzhou_city", **params: Any) -> list[dict]:
    r = client.get("/api/v1/offices", params={**params, "format": "csv"}, headers=auth(user))
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_each_filter_narrows_the_list(client, auth, offices):
    o = offices
    mine = {o[k] for k in o if k != "kaifeng"}
    assert set(ids(client, auth)) == mine  # the city's own offices only
    assert ids(client, auth, state="applied") == [o["applied_a"], o["applied_b"]]
    assert set(ids(client, auth, state=["applied", "self_checked"])) == {
        o["applied_a"],
        o["applied_b"],
        o["short"],
    }
    assert set(ids(client, auth, region="410122")) == {o["zhongmu"]}
    assert ids(client, auth, reinspection="overdue") == [o["overdue"]]
    assert ids(client, auth, reinspection="due_soon") == [o["due_soon"]]
    met = set(ids(client, auth, compliance="met"))
    assert {o["applied_a"], o["applied_b"], o["zhongmu"]} <= met and o["short"] not in met
    assert o["short"] in set(ids(client, auth, compliance="not_met"))
    assert met.isdisjoint(ids(client, auth, compliance="not_met"))
    assert set(ids(client, auth, min_score=100)) <= met
    assert o["short"] not in ids(client, auth, min_score=100)
    town = client.get(f"/api/v1/offices/{o['applied_a']}", headers=auth("henan_admin")).json()
    kind = town["division"]["kind"]
    r = client.get("/api/v1/offices", params={"kind": kind}, headers=auth("zhengzhou_city"))
    same_kind = r.json()["items"]
    assert o["applied_a"] in {i["id"] for i in same_kind}
    assert {i["division"]["kind"] for i in same_kind} == {kind}
    assert ids(client, auth, q=town["name"]) == [o["applied_a"]]
    # filters combine
    assert ids(client, auth, state=["applied", "self_checked"], compliance="met") == [
        o["applied_a"],
        o["applied_b"],
    ]


def _key(row: dict[str, str], column: str) -> Any:
    value = row[column]
    if column == "达标率(%)":
        return float(value) if value else None
    return value or None


@pytest.mark.parametrize(
    ("sort", "column"),
    [
        ("code", "乡镇(街道)代码"),
        ("name", "司法所名称"),
        ("county", "县(市、区)"),
        ("score", "达标率(%)"),
        ("due", "应复验日期"),
        ("updated", "最后更新"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_each_sort_orders_the_list_and_the_export(client, auth, offices, sort, column, order):
    rows = exported(client, auth, sort=sort, order=order)
    assert len(rows) == 6
    keys = [(_key(r, column), int(r["司法所编号"])) for r in rows]
    known = [k for k in keys if k[0] is not None]
    assert keys[: len(known)] == known  # no value: last, in either order
    expected = sorted(known, key=lambda k: k[0], reverse=order == "desc")
    assert [k[0] for k in known] == [k[0] for k in expected]
    if sort != "updated":  # (exported to the second, ordered to the microsecond)
        for (a, ia), (b, ib) in itertools.pairwise(known):
            assert a != b or ia < ib  # ties by id
    # the JSON list, page by page, is the same order
    page = ids(client, auth, sort=sort, order=order, limit=4)
    page2 = ids(client, auth, sort=sort, order=order, limit=4, offset=4)
    assert page + page2 == [int(r["司法所编号"]) for r in rows]


def test_state_sort_follows_the_workflow(client, auth, offices):
    rows = exported(client, auth, sort="state")
    labels = [r["验收状态"] for r in rows]
    assert labels == ["未申报", "已自查", "已申报待验收", "已申报待验收"] + ["规范化司法所"] * 2


def test_export_is_exactly_the_filtered_sorted_list(client, auth, offices):
    params = {"state": ["applied", "accepted", "self_checked"], "sort": "name", "order": "desc"}
    listed = ids(client, auth, **params)
    rows = exported(client, auth, **params)
    assert [int(r["司法所编号"]) for r in rows] == listed and len(listed) == 5
    assert list(rows[0]) == [
        "司法所编号",
        "司法所名称",
        "乡镇(街道)代码",
        "乡镇(街道)",
        "乡镇类型",
        "县(市、区)",
        "验收状态",
        "达标率(%)",
        "必备项全部达标",
        "应复验日期",
        "复验逾期",
        "最后更新",
    ]
    overdue = next(r for r in rows if int(r["司法所编号"]) == offices["overdue"])
    assert overdue["复验逾期"] == "是" and overdue["验收状态"] == "规范化司法所"
    r = client.get(
        "/api/v1/offices", params={**params, "format": "xlsx"}, headers=auth("zhengzhou_city")
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == listed


def test_bad_parameters_are_refused_naming_the_field(client, auth):
    h = auth("zhengzhou_city")
    for params, field in (
        ({"sort": "name; DROP TABLE offices"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"state": "bogus"}, "state"),
        ({"compliance": "maybe"}, "compliance"),
        ({"min_score": "101"}, "min_score"),
        ({"reinspection": "soon"}, "reinspection"),
        ({"format": "pdf"}, "format"),
    ):
        r = client.get("/api/v1/offices", params=params, headers=h)
        assert r.status_code == 422, params
        assert field in r.text
    assert client.get("/offices", params={"size": 7}, headers=h).status_code == 422
    # the page's own form sends its empty fields: they mean "any"
    blank = {k: "" for k in ("region", "kind", "compliance", "min_score", "reinspection", "q")}
    r = client.get(
        "/offices", params={**blank, "sort": "code", "order": "asc", "size": "50"}, headers=h
    )
    assert r.status_code == 200 and "共 0 个司法所" in unescape(r.text)


def test_a_city_sees_only_its_city(client, auth, offices):
    h = auth("zhengzhou_city")
    for url in ("/api/v1/offices", "/offices"):
        assert client.get(url, params={"region": "4102"}, headers=h).status_code == 403
        assert client.get(url, params={"region": "410222"}, headers=h).status_code == 403
    html = client.get("/offices", params={"size": 100}, headers=h).text
    assert f"/offices/{offices['kaifeng']}" not in html and "通许县" not in html
    assert f"/offices/{offices['applied_a']}" in html
    export = exported(client, auth)
    assert offices["kaifeng"] not in {int(r["司法所编号"]) for r in export}


def page(client: Any, auth: Any, user: str, **params: Any) -> str:
    r = client.get("/offices", params=params, headers=auth(user))
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert only_own_scripts(r.text)
    return r.text


def test_the_page_counts_pages_and_keeps_every_filter(client, auth):
    # 22 offices of 新郑 and 中牟 (registered bare: the list needs no records)
    county_codes = [c for c in _townships() if c[:6] in ("410184", "410122")][:22]
    for code in county_codes:
        user = "xinzheng_county" if code.startswith("410184") else "zhongmu_county"
        register(client, auth(user), code, OfficeSpec(facilities=None, staff=[], work_record=None))
    html = unescape(page(client, auth, "zhengzhou_city", state="not_applied", sort="name"))
    assert "共 22 个司法所,第 1/2 页" in html
    assert html.count('data-label="司法所名称"') == 20
    nxt = re.search(r'<a href="([^"]+)" rel="next">', html).group(1)  # type: ignore[union-attr]
    assert "state=not_applied" in nxt and "sort=name" in nxt and "page=2" in nxt
    html2 = unescape(client.get(nxt, headers=auth("zhengzhou_city")).text)
    assert "共 22 个司法所,第 2/2 页" in html2 and html2.count('data-label="司法所名称"') == 2
    # the export links carry the same filters, not the page
    xlsx = re.search(r'href="(/api/v1/offices\?[^"]+format=xlsx)"', html).group(1)  # type: ignore[union-attr]
    assert "state=not_applied" in xlsx and "sort=name" in xlsx and "page=" not in xlsx
    assert len(exported(client, auth, state="not_applied", sort="name")) == 22
    # drill-down: a county's link lists that county, the other filters kept
    drill = re.search(r'href="(/offices\?[^"]*region=410122[^"]*)"', html).group(1)  # type: ignore[union-attr]
    assert "state=not_applied" in drill
    html3 = unescape(client.get(drill, headers=auth("zhengzhou_city")).text)
    zhongmu = sum(c.startswith("410122") for c in county_codes)
    assert f"共 {zhongmu} 个司法所" in html3 and "新郑市司法局" not in html3
    assert '<option value="410122" selected>' in html3  # the select says the region shown
    # each cell is labelled with its column header
    assert 'data-label="应复验日期"' in html and 'data-label="县(市、区)"' in html


def _townships() -> list[str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "mini_henan.geojson"
    features = json.loads(path.read_text())["features"]
    return sorted(f["properties"]["code"] for f in features if len(f["properties"]["code"]) == 9)


def test_the_page_shows_the_columns_and_an_empty_result_says_so(client, auth, offices):
    html = unescape(page(client, auth, "zhengzhou_city", sort="due"))
    assert "共 6 个司法所,第 1/1 页" in html
    assert "(已逾期)" in html and "规范化司法所" in html and "已申报待验收" in html
    assert "导出当前结果(XLSX)" in html and "导出当前结果(CSV)" in html
    empty = unescape(page(client, auth, "zhengzhou_city", q="不存在的名称"))
    assert "共 0 个司法所" in empty and "没有符合筛选条件的司法所" in empty
    assert '<a href="/offices">清除筛选条件</a>' in empty


def test_hostile_names_are_text_on_the_page(client, auth):
    name = MARKUP[2] + "司法所"
    lon, lat = township_point(XINZHENG[0])
    out = io.StringIO()
    csv.writer(out).writerows(
        [["司法所名称", "乡镇(街道)代码", "经度", "纬度"], [name, XINZHENG[0], lon, lat]]
    )
    files = {"file": ("名册.csv", out.getvalue().encode(), "text/csv")}
    r = client.post("/api/v1/offices/import", files=files, headers=auth("xinzheng_county"))
    assert r.status_code == 200, r.text
    raw = page(client, auth, "zhengzhou_city", q=MARKUP[0][:40])
    assert "<img" not in raw and "&lt;img src=x data-pwn" in raw  # the name typed, kept as text
    listed = page(client, auth, "zhengzhou_city")
    assert "<img" not in listed and "&lt;img src=x data-pwn" in listed
    assert unescape(listed).count(name) >= 1
