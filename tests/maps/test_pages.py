"""The dashboard and the office page, rendered for a logged-in user of a region."""

from __future__ import annotations

from html import unescape

from office_records import OfficeSpec, register

TOWNS = ["410184101", "410184102", "410184103"]


def page(client, auth, user: str, url: str) -> str:  # type: ignore[no-untyped-def]
    r = client.get(url, headers=auth(user))
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "<script" not in r.text  # server-rendered: no script at all
    return unescape(r.text)


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
    assert "验收通过" not in html  # that is the city's step
    city = page(client, auth, "zhengzhou_city", f"/offices/{office}")
    assert "当前状态下您的角色没有可办理的验收环节" in city
    assert client.get(f"/offices/{office}", headers=auth("zhongmu_county")).status_code == 404


def test_the_root_sends_browsers_to_login_or_the_dashboard(client, auth):
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"].startswith("/login")
    login = client.post(
        "/login",
        data={"username": "zhengzhou_city", "password": "correct-horse-battery"},
        follow_redirects=False,
    )
    client.cookies.set("registry_token", login.cookies["registry_token"])
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
