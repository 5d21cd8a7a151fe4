"""The dashboard and the office page, rendered for a logged-in user of a region."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from conftest import browser_login, only_own_scripts
from office_records import OfficeSpec, register
from page_sections import with_sections

TOWNS = ["410184101", "410184102", "410184103"]


def page(client, auth, user: str, url: str) -> str:  # type: ignore[no-untyped-def]
    """The page as the browser shows it: with the sections it loads beside itself."""
    r = client.get(url, headers=auth(user))
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    html = with_sections(client, auth(user), url)
    assert only_own_scripts(html)
    return unescape(html)


def test_city_dashboard_answers_which_offices_are_in_which_state(client, auth):
    offices = [register(client, auth("xinzheng_county"), c, OfficeSpec()) for c in TOWNS]
    r = client.post(
        f"/api/v1/offices/{offices[0]}/acceptance/self_check",
        json={},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200
    other = register(client, auth("henan_admin"), "410222101", OfficeSpec())
    html = page(client, auth, "zhengzhou_city", "/dashboard")
    assert "郑州市 工作台" in html
    assert "<b>1</b><span>已自查</span>" in html and "<b>2</b><span>未申报</span>" in html
    assert "新郑市" in html and "通许县" not in html  # its counties only
    assert "规范化进度与目标" in html and "<svg" in html and "2008-12-31" in html
    assert "/api/v1/acceptance?region=4101&format=xlsx" in html
    assert "/api/v1/work-records?region=4101&format=xlsx" in html
    assert f"/offices/{other}" not in html


def test_office_page_shows_checklist_history_and_the_users_actions(client, auth):
    spec = OfficeSpec(area_m2=100)
    office = register(client, auth("xinzheng_county"), TOWNS[0], spec)
    r = client.post(
        f"/api/v1/offices/{office}/acceptance/self_check",
        json={"comment": "自查发现面积不足"},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 200
    html = page(client, auth, "xinzheng_county", f"/offices/{office}")
    assert "新郑市司法局新村司法所" in html and "已自查" in html
    assert "【必备】" in html and "120" in html  # the missing area, as the standard says
    assert "未达标" in html and "河南省司法所规范化建设实施意见" in html
    assert "自查发现面积不足" in html and "xincun_staff" in html
    assert "县司法局申报验收" in html  # the county may apply (once the area is met)
    # offered, but disabled with the reason while a mandatory criterion is open
    assert 'disabled aria-describedby="why-apply"' in html
    assert "暂不能办理:必备项未全部达标" in html
    assert '<a href="#checklist">对照标准自查(缺 ' in html  # the page's contents, at its top
    assert "验收通过" not in html  # that is the city's step
    city = page(client, auth, "zhengzhou_city", f"/offices/{office}")
    assert "当前状态下您的角色没有可办理的验收环节" in city
    assert client.get(f"/offices/{office}", headers=auth("zhongmu_county")).status_code == 404


def test_the_root_sends_browsers_to_login_or_the_dashboard(client, auth):
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"].startswith("/login")
    login = browser_login(client, "zhengzhou_city")
    client.cookies.set("registry_token", login.cookies["registry_token"])
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def login_cookie(client, user: str) -> str:  # type: ignore[no-untyped-def]
    r = browser_login(client, user)
    assert r.status_code == 303
    return str(r.cookies["registry_token"])


def test_steps_from_the_office_page_need_the_forms_token(client, auth):

    office = register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    client.cookies.set("registry_token", login_cookie(client, "xinzheng_county"))
    html = client.get(f"/offices/{office}").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    url = f"/offices/{office}/steps/self_check"
    forged = client.post(url, data={"csrf": "0" * 40}, follow_redirects=False)
    assert forged.status_code == 403
    missing = client.post(url, data={}, follow_redirects=False)
    assert missing.status_code == 422
    r = client.post(url, data={"csrf": csrf, "comment": "页面自查"}, follow_redirects=False)
    assert r.status_code == 303
    (event,) = [e["id"] for e in client.get(f"/api/v1/offices/{office}/acceptance").json()]
    assert r.headers["location"] == f"/offices/{office}?event={event}"
    after = unescape(client.get(r.headers["location"]).text)
    notice = after[after.index('<div class="saved" role="status">') :]
    assert notice.index("已办理:自查") < notice.index(f"{date.today()} · xinzheng_county")
    assert after.index('role="status"') < after.index("<section")  # at the top
    assert "页面自查" in after
    # the notice is a step the history holds: a link cannot announce one that did not happen
    for params in (
        {"done": "accept"},
        {"message": "验收通过"},
        {"event": str(event + 1000)},
        {"error": "standard_not_met"},
    ):
        page = client.get(f"/offices/{office}", params=params)
        text = unescape(page.text)
        assert page.status_code in (200, 422) and "已办理" not in text and "未能办理" not in text
    # the full office meets the standard, so the county may apply from the page too
    r = client.post(f"/offices/{office}/steps/apply", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "?event=" in r.headers["location"]
    # another user's token does not fit this user's session
    client.cookies.set("registry_token", login_cookie(client, "zhengzhou_city"))
    r = client.post(
        f"/offices/{office}/steps/accept",
        data={"csrf": csrf, "inspection_date": "2025-01-01", "inspectors": "甲乙"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_a_refused_step_is_explained_on_the_page(client, auth):

    office = register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec(area_m2=90))
    client.cookies.set("registry_token", login_cookie(client, "xinzheng_county"))
    html = client.get(f"/offices/{office}").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    client.post(f"/offices/{office}/steps/self_check", data={"csrf": csrf})
    r = client.post(
        f"/offices/{office}/steps/apply",
        data={"csrf": csrf, "comment": "请市局验收"},
        follow_redirects=False,
    )
    # the page again, at once: why in Chinese next to the step's form, what was typed kept
    assert r.status_code == 409
    page_html = unescape(r.text)
    form = page_html[page_html.index('id="step-apply"') :]
    form = form[: form.index("</form>")]
    assert "未能办理:必备项未全部达标" in form and "办公用房" in form
    assert 'value="请市局验收"' in form
    assert "cannot apply" not in page_html  # (not the API's English)
    state = client.get(f"/api/v1/offices/{office}", headers=auth("xinzheng_county")).json()
    assert state["acceptance_state"] == "self_checked"


@pytest.mark.parametrize(
    "user",
    [
        "henan_admin",
        "henan_planner",
        "henan_viewer",
        "zhengzhou_city",
        "xinzheng_county",
        "xincun_staff",
        "shanxi_admin",
    ],
)
def test_every_role_lands_on_a_page_after_login(client, user):
    r = browser_login(client, user)
    assert r.status_code == 303
    landing = client.get(r.headers["location"])  # follows to the office page if there is one
    assert landing.status_code == 200, landing.text[:300]
    assert landing.headers["content-type"].startswith("text/html")
    assert "工作台" in landing.text or "规范化" in landing.text


def test_office_staff_land_on_their_office(client, auth):
    office = register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    r = browser_login(client, "xincun_staff")
    landing = client.get(r.headers["location"], follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == f"/offices/{office}"
    page = client.get(landing.headers["location"])
    assert page.status_code == 200 and "缺" in page.text


def test_a_browser_is_shown_errors_in_chinese_and_sent_to_log_in(client, auth):
    """A person navigating (Accept: text/html) gets a page in Chinese, not the API's JSON: a
    missing or expired login goes to the login page and back; API clients keep the JSON."""
    page = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = client.get("/dashboard?region=4101", headers=page, follow_redirects=False)
    assert (
        r.status_code == 303 and r.headers["location"] == "/login?next=/dashboard%3Fregion%3D4101"
    )
    client.cookies.set("registry_token", "expired-or-forged")
    r = client.get("/offices/1", headers=page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/offices/1")
    client.cookies.set("registry_token", login_cookie(client, "xinzheng_county"))
    for path, status in (("/offices/999999", 404), ("/offices/abc", 422), ("/nowhere", 404)):
        r = client.get(path, headers=page)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html")
        text = unescape(r.text)
        assert (
            "无法完成请求" in text
            and ">返回</a>" in text
            and "javascript:" not in text
            and '"code"' not in text
        )
    api = client.get("/api/v1/offices/999999", headers=auth("xinzheng_county"))
    assert api.status_code == 404 and api.json()["code"] == "office_not_found"
    plain = client.get("/offices/999999")  # (no text/html: the JSON body, as before)
    assert plain.status_code == 404 and plain.json()["code"]


def test_the_progress_chart_marks_no_data_instead_of_zero() -> None:
    """A target date when the region had no office yet is 无数据, not a 0 % point on the line."""
    from service.pages.chart import progress_chart

    svg = progress_chart(
        [(date(2005, 10, 31), 0.3), (date(2008, 12, 31), 1.0)],
        [(date(2005, 10, 31), None), (date(2008, 12, 31), 0.25), (date(2024, 1, 1), 0.5)],
    )
    assert svg.count("无数据") == 2  # (the mark and its title)
    assert "2005-10-31:无数据" in svg and "2005-10-31:0.0%" not in svg
    assert svg.count("<circle") == 2 and svg.count('stroke="#1565c0"') == 1  # one line, 2 points


def test_an_error_page_keeps_the_errors_headers() -> None:
    """A browser told "too many attempts" or "database unavailable" in Chinese is still told
    when to retry (the API's Retry-After)."""
    from starlette.requests import Request

    from service.http.errors import page_error

    request = Request(
        {"type": "http", "method": "GET", "path": "/dashboard", "query_string": b"", "headers": []}
    )
    r = page_error(request, 429, {"Retry-After": "60"})
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    assert "尝试次数过多" in r.body.decode()
