"""The office-details page: a save goes through `update_office` (the PATCH's own checks and
version) and comes back to the office page with the save, as the audit trail records it, at the
top; a refusal shows the page again with why next to the field and what was typed."""

from __future__ import annotations

import re

from hostile import MARKUP
from office_records import OfficeSpec, register, township_point
from pages.conftest import XINDIAN, field_error, input_value, page_text

from geo.chinacoords import wgs84_to_gcj02


def stored(client, auth, office: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    r = client.get(f"/api/v1/offices/{office}", headers=auth("xinzheng_county"))
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def details_form(client, office: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The form as the page draws it: every input's value."""
    html = client.get(f"/offices/{office}/details").text
    names = ("name", "address", "phone", "area_m2", "opened_on", "lon", "lat")
    form = {n: input_value(html, n) or "" for n in names}
    for n in ("staff_total", "staff_formal", "staff_civil_servants"):
        form[n] = input_value(html, n) or ""
    form["crs"] = "EPSG:4326"
    form["exception_reason"] = ""
    form["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    return form


def test_a_save_changes_the_office_and_is_announced_at_the_top(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    page = page_text(client.get(f"/offices/{bare_office}").text)
    # the open area item links straight to the field that records it
    assert f'<a href="/offices/{bare_office}/details#f-area_m2">补录数据:办公用房面积</a>' in page
    form = details_form(client, bare_office) | {
        "csrf": csrf,
        "address": "新村镇政府院内",
        "phone": "0371-62691234",
        "area_m2": "150",
    }
    r = client.post(f"/offices/{bare_office}/details", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    assert r.headers["location"].startswith(f"/offices/{bare_office}?saved=")
    body = stored(client, auth, bare_office)
    assert (body["address"], body["phone"], body["area_m2"]) == (
        "新村镇政府院内",
        "0371-62691234",
        150,
    )
    page = page_text(client.get(r.headers["location"]).text)
    notice = page.index('<div class="saved" role="status">')
    assert notice < page.index("<section")  # at the top, where the eye is
    assert "已保存基本情况" in page and "办公用房面积(平方米)、地址、电话" in page
    assert "xinzheng_county(县(市、区)司法局)" in page or "xinzheng_county(" in page
    assert "补录数据:办公用房面积" not in page  # the checklist follows


def test_a_refusal_shows_why_next_to_the_field_and_keeps_what_was_typed(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    form = details_form(client, bare_office) | {
        "csrf": csrf,
        "address": "新村镇政府院内",
        "phone": "请拨打",
        "area_m2": "-5",
        "staff_total": "2",
        "staff_formal": "3",
    }
    r = client.post(f"/offices/{bare_office}/details", data=form)
    assert r.status_code == 422
    html = r.text
    assert 'role="alert"' in html and "未能保存,请按提示修改后再提交" in page_text(html)
    assert field_error(html, "area_m2") == "不能小于 0"
    assert field_error(html, "phone") == "格式不正确"
    assert input_value(html, "address") == "新村镇政府院内"
    assert input_value(html, "area_m2") == "-5"
    assert stored(client, auth, bare_office)["address"] is None  # nothing stored
    # a rule of the service (not of the schema): staff numbers that contradict each other
    form |= {"phone": "", "area_m2": "", "staff_total": "2", "staff_formal": "3"}
    r = client.post(f"/offices/{bare_office}/details", data=form)
    assert r.status_code == 422 and field_error(r.text, "staff_formal") == "不能大于在岗人数"


def test_the_point_in_another_crs_and_a_point_outside(client, auth, sign_in, bare_office) -> None:
    csrf = sign_in("xinzheng_county")
    lon, lat = township_point("410184101")
    glon, glat = wgs84_to_gcj02(lon + 0.001, lat + 0.001)
    form = details_form(client, bare_office) | {
        "csrf": csrf,
        "lon": f"{glon:.7f}",
        "lat": f"{glat:.7f}",
        "crs": "GCJ02",
    }
    r = client.post(f"/offices/{bare_office}/details", data=form, follow_redirects=False)
    assert r.status_code == 303, page_text(r.text)[:2000]
    point = stored(client, auth, bare_office)["location"]
    assert abs(point["lon"] - (lon + 0.001)) < 1e-5 and abs(point["lat"] - (lat + 0.001)) < 1e-5
    # swapped: refused beside the point, typed values kept, nothing moved
    form = details_form(client, bare_office) | {"csrf": csrf, "lon": f"{lat}", "lat": f"{lon}"}
    r = client.post(f"/offices/{bare_office}/details", data=form)
    assert r.status_code == 422
    assert "经度和纬度可能填反了" in (field_error(r.text, "location") or "")
    assert input_value(r.text, "lon") == f"{lat}"
    assert stored(client, auth, bare_office)["location"] == point
    # into the neighbouring township, which has its office: one office per township
    other = township_point(XINDIAN)
    register(client, auth("xinzheng_county"), XINDIAN, OfficeSpec(facilities=None, staff=[]))
    form |= {"lon": f"{other[0]:.7f}", "lat": f"{other[1]:.7f}"}
    r = client.post(f"/offices/{bare_office}/details", data=form)
    assert r.status_code == 409
    assert "一个乡镇(街道)只设一个司法所" in (field_error(r.text, "location") or "")


def test_a_stale_form_is_refused_as_a_conflict(client, auth, sign_in, bare_office) -> None:
    csrf = sign_in("xinzheng_county")
    form = details_form(client, bare_office) | {"csrf": csrf, "address": "甲"}
    patch = client.patch(
        f"/api/v1/offices/{bare_office}",
        json={"phone": "0371-1234567"},
        headers=auth("xinzheng_county") | {"If-Match": f'"{form["version"]}"'},
    )
    assert patch.status_code == 200
    r = client.post(f"/offices/{bare_office}/details", data=form | {"address": "乙地址"})
    assert r.status_code == 409 and "已被他人修改" in page_text(r.text)
    assert input_value(r.text, "address") == "乙地址"
    assert stored(client, auth, bare_office)["address"] is None


def test_token_region_and_role(client, auth, sign_in, bare_office) -> None:
    url = f"/offices/{bare_office}/details"
    csrf = sign_in("xinzheng_county")
    form = details_form(client, bare_office) | {"address": "甲地"}
    assert client.post(url, data=form).status_code == 422  # no token
    assert client.post(url, data=form | {"csrf": "0" * 40}).status_code == 403  # forged
    # another county's bureau does not find the office
    csrf = sign_in("zhongmu_county")
    assert client.get(url).status_code == 404
    assert client.post(url, data=form | {"csrf": csrf}).status_code == 404
    # a city bureau reads: no form, a sentence why, and its post is refused
    csrf = sign_in("zhengzhou_city")
    page = page_text(client.get(url).text)
    assert "保存基本情况" not in page and "只能查看记录" in page
    r = client.post(url, data=form | {"csrf": csrf})
    assert r.status_code == 403 and "您的角色不能修改司法所基本情况" in page_text(r.text)
    # the office's own staff: contact and premises, not name or place
    csrf = sign_in("xincun_staff")
    page = page_text(client.get(url).text)
    assert 'name="address"' in page and 'name="name"' not in page and 'name="lon"' not in page
    r = client.post(url, data=form | {"csrf": csrf, "name": "别的名字司法所"})
    assert r.status_code == 403 and "不能修改名称和位置" in page_text(r.text)
    assert stored(client, auth, bare_office)["address"] is None
    r = client.post(
        url,
        data={"csrf": csrf, "version": form["version"], "address": "乙地"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_stored_markup_is_text_and_a_crafted_notice_shows_nothing(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    url = f"/offices/{bare_office}/details"
    form = details_form(client, bare_office) | {"csrf": csrf, "address": MARKUP[5][:200]}
    r = client.post(url, data=form, follow_redirects=False)
    assert r.status_code == 303
    for page in (client.get(url).text, client.get(r.headers["location"]).text):
        assert "<script data-pwn" not in page and "</script><script" not in page
    assert input_value(client.get(url).text, "address") == MARKUP[5][:200]
    saved = int(r.headers["location"].rsplit("=", 1)[1])
    # another office's event, an event that does not exist, something not a number
    other = register(
        client, auth("xinzheng_county"), XINDIAN, OfficeSpec(facilities=None, staff=[])
    )
    history = client.get(f"/api/v1/offices/{other}/history", headers=auth("xinzheng_county"))
    theirs = history.json()[-1]["id"]
    assert 'class="saved"' in client.get(f"/offices/{bare_office}", params={"saved": saved}).text
    for crafted in (str(theirs), "999999999999", "abc", "-1", "١٢"):
        for page_url in (url, f"/offices/{bare_office}"):
            r = client.get(page_url, params={"saved": crafted})
            assert r.status_code == 200 and 'class="saved"' not in r.text, (crafted, page_url)
