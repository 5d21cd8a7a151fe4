"""The staff pages: adding a person, changing one (making someone 所长 included) and
recording that they left, each through the staff API's own schema and service call."""

from __future__ import annotations

import re
from datetime import date

from hostile import MARKUP
from pages.conftest import field_error, input_value, page_text

TODAY = date.today()


def staff(client, auth, office: int, include_left: bool = False) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    r = client.get(
        f"/api/v1/offices/{office}/staff",
        params={"include_left": include_left},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


PERSON = {
    "name": "王五",
    "position": "staff",
    "phone": "13800000000",
    "education": "bachelor",
    "law_major": "true",
    "formal": "true",
    "civil_servant": "false",
    "party_member": "",
    "heads_legal_service": "false",
    "training_year": str(TODAY.year),
    "training_days": "6",
    "joined_on": "2020-03-01",
}


def add(client, csrf: str, office: int, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/offices/{office}/staff",
        data={"csrf": csrf, **PERSON, **fields},
        follow_redirects=False,
    )


def test_add_change_make_director_and_leave(client, auth, sign_in, bare_office) -> None:
    csrf = sign_in("xinzheng_county")
    r = add(client, csrf, bare_office, name="张三", position="director")
    assert r.status_code == 303, page_text(r.text)[:1000]
    page = page_text(client.get(r.headers["location"]).text)
    assert "已添加工作人员张三" in page and page.index('class="saved"') < page.index("<h2>")
    r = add(client, csrf, bare_office)
    assert r.status_code == 303
    (zhang, wang) = staff(client, auth, bare_office)
    assert (wang["name"], wang["party_member"], wang["civil_servant"]) == ("王五", None, False)
    assert str(wang["joined_on"]) == "2020-03-01"
    office = client.get(f"/api/v1/offices/{bare_office}", headers=auth("xinzheng_county")).json()
    assert office["staff_total"] == 2  # the list sets the numbers
    # a second director is refused beside the position, nothing changes
    url = f"/offices/{bare_office}/staff/{wang['id']}"
    form = {k: v for k, v in PERSON.items() if k != "joined_on"} | {"csrf": csrf}
    r = client.post(url, data=form | {"position": "director", "former_director": "keep"})
    assert r.status_code == 409
    assert "本所已有所长" in (field_error(r.text, "position") or "")
    assert staff(client, auth, bare_office)[1]["position"] == "staff"
    # named director, the present one becoming deputy in the same save
    r = client.post(
        url,
        data=form | {"position": "director", "former_director": "deputy_director"},
        follow_redirects=False,
    )
    assert r.status_code == 303, page_text(r.text)[:1000]
    positions = {s["name"]: s["position"] for s in staff(client, auth, bare_office)}
    assert positions == {"张三": "deputy_director", "王五": "director"}
    page = page_text(client.get(r.headers["location"]).text)
    assert "已保存工作人员王五" in page and "职务" in page
    # leaves: a date before joining is refused beside the field; then recorded
    leave = f"/offices/{bare_office}/staff/{zhang['id']}/leave"
    r = client.post(leave, data={"csrf": csrf, "left_on": "2001-01-01", "reason": "调离"})
    assert r.status_code == 422 and "不能早于到岗日期" in (field_error(r.text, "left_on") or "")
    assert input_value(r.text, "reason") == "调离"
    r = client.post(
        leave, data={"csrf": csrf, "left_on": str(TODAY), "reason": "调离"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert [s["name"] for s in staff(client, auth, bare_office)] == ["王五"]
    page = page_text(client.get(r.headers["location"]).text)
    assert f"已登记工作人员张三离岗(离岗日期 {TODAY})" in page and "已离岗人员" in page


def test_a_refused_person_keeps_what_was_typed_and_stores_nothing(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    cases = [
        ({"name": ""}, "name", "须填写"),
        ({"formal": ""}, "formal", "请选择“是”或“否”"),
        ({"training_days": "400"}, "training_days", "不能大于 366"),
        ({"phone": "打电话"}, "phone", "格式不正确"),
        ({"joined_on": "1900-01-01"}, "joined_on", "日期应在 1949-10-01 至 2100-12-31 之间"),
        ({"education": "kindergarten"}, "education", "不是可选项"),
    ]
    for fields, field, why in cases:
        r = add(client, csrf, bare_office, **{"training_year": "2023", **fields})
        assert r.status_code == 422, field
        assert field_error(r.text, field) == why, (field, page_text(r.text)[:600])
        assert input_value(r.text, "training_year") == "2023"
        assert 'role="alert"' in r.text
        assert staff(client, auth, bare_office, include_left=True) == [], field


def test_token_region_role_and_hostile_names(client, auth, sign_in, bare_office) -> None:
    url = f"/offices/{bare_office}/staff"
    sign_in("xinzheng_county")
    assert client.post(url, data=PERSON).status_code == 422
    assert client.post(url, data=PERSON | {"csrf": "1" * 40}).status_code == 403
    csrf = sign_in("zhongmu_county")
    assert client.get(url).status_code == 404
    assert add(client, csrf, bare_office).status_code == 404
    csrf = sign_in("zhengzhou_city")
    page = page_text(client.get(url).text)
    assert "添加工作人员</button>" not in page and "只能查看记录" in page
    r = add(client, csrf, bare_office)
    assert r.status_code == 403 and "您的角色不能填报工作人员记录" in page_text(r.text)
    assert staff(client, auth, bare_office, include_left=True) == []
    # the office's own staff add a person whose name is markup: text on every page
    csrf = sign_in("xincun_staff")
    r = add(client, csrf, bare_office, name=MARKUP[1][:100])
    assert r.status_code == 303
    (member,) = staff(client, auth, bare_office)
    for page_url in (r.headers["location"], f"{url}/{member['id']}"):
        html = client.get(page_url).text
        assert "<svg data-pwn" not in html and "&lt;svg data-pwn" in html
    # a crafted notice: another person's event id from elsewhere shows nothing
    for crafted in ("1", "99999999", "x"):
        assert 'class="saved"' not in client.get(url, params={"saved": crafted}).text
    # a member of another office is not found through this one
    assert client.get(f"{url}/999999").status_code == 404
    assert re.search(r"<script(?! src=)", client.get(url).text) is None
