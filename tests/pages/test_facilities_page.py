"""The facilities page: every field of the facility record, "not recorded" kept apart from
"no", stored through `put_facilities`; the office's checklist follows the save."""

from __future__ import annotations

from hostile import MARKUP
from office_records import full_facilities
from pages.conftest import field_error, input_value, page_text

from service.standards import measures


def facilities(client, auth, office: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    r = client.get(f"/api/v1/offices/{office}/facilities", headers=auth("xinzheng_county"))
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_a_missing_room_goes_from_the_checklist_to_the_field_and_back(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    office_page = page_text(client.get(f"/offices/{bare_office}").text)
    link = f'<a href="/offices/{bare_office}/facilities#f-rooms">'
    assert link in office_page  # the rooms, not recorded: straight to their field
    page = client.get(f"/offices/{bare_office}/facilities").text
    assert 'id="f-rooms"' in page and "保存设施装备记录" in page
    form = {
        "csrf": csrf,
        "own_premises": "true",
        "separated_from_legal_service": "",
        "rooms": list(measures.ROOMS),
        "registers_none": "1",
        "equipment.computer": "2",
        "equipment.phone": "",
        "practices.complaint_box": "false",
        "practices.training_system": "true",
        "staff_establishment": "5",
    }
    r = client.post(f"/offices/{bare_office}/facilities", data=form, follow_redirects=False)
    assert r.status_code == 303, page_text(r.text)[:1500]
    stored = facilities(client, auth, bare_office)
    assert stored["own_premises"] is True
    assert stored["separated_from_legal_service"] is None  # 未填报 is not "no"
    assert stored["rooms"] == sorted(measures.ROOMS) and stored["registers"] == []
    assert stored["systems"] is None and stored["displays"] is None
    assert stored["equipment"] == {"computer": 2} and stored["vehicles"] is None
    assert stored["practices"] == {"complaint_box": False, "training_system": True}
    page = page_text(client.get(r.headers["location"]).text)
    assert page.index('class="saved"') < page.index("<section")
    assert "已保存设施装备和管理记录" in page and "功能用房" in page
    assert link not in page  # the rooms are recorded: no longer missing
    # the form shows what is stored, "not recorded" where nothing is
    page = client.get(f"/offices/{bare_office}/facilities").text
    assert input_value(page, "equipment-computer") == "2"
    assert input_value(page, "equipment-phone") == "0"  # a recorded map: absent is none
    assert input_value(page, "vehicles-car") == ""  # not recorded
    assert 'name="registers_none" value="1" checked' in page


def test_a_refusal_keeps_what_was_typed_and_stores_nothing(
    client, auth, sign_in, bare_office
) -> None:
    csrf = sign_in("xinzheng_county")
    url = f"/offices/{bare_office}/facilities"
    cases = [
        ({"equipment.computer": "-1"}, "equipment.computer", "不能小于 0"),
        ({"equipment.computer": "两台"}, "equipment.computer", "须填写整数"),
        ({"mediation_success_rate": "98"}, "results_year", "填写工作成效比率时须填写年度"),
        (
            {"mediation_success_rate": "101", "results_year": "2024"},
            "mediation_success_rate",
            "不能大于 100",
        ),
        (
            {"rooms": ["archive_room"], "rooms_none": "1"},
            "rooms",
            "勾选了具体项目,又勾选了“以上均无”",
        ),
        ({"rooms": ["ballroom"]}, "rooms", "不是可选项"),
        ({"own_premises": "maybe"}, "own_premises", "请选择“是”或“否”"),
    ]
    for fields, field, why in cases:
        form = {"csrf": csrf, "staff_establishment": "7", "equipment.fax": "1", **fields}
        r = client.post(url, data=form)
        assert r.status_code == 422, (field, page_text(r.text)[:500])
        html = r.text
        assert field_error(html, field.replace(".", "-")) == why, field
        assert 'role="alert"' in html
        assert input_value(html, "staff_establishment") == "7", field
        assert input_value(html, "equipment-fax") == "1", field
        assert facilities(client, auth, bare_office)["recorded"] is False, field


def test_token_region_role_and_hostile_text(client, auth, sign_in, bare_office) -> None:
    url = f"/offices/{bare_office}/facilities"
    form = {"own_premises": "true"}
    sign_in("xinzheng_county")
    assert client.post(url, data=form).status_code == 422
    assert client.post(url, data=form | {"csrf": "f" * 40}).status_code == 403
    csrf = sign_in("zhongmu_county")
    assert client.get(url).status_code == 404
    assert client.post(url, data=form | {"csrf": csrf}).status_code == 404
    for user in ("zhengzhou_city", "henan_viewer"):
        csrf = sign_in(user)
        page = page_text(client.get(url).text)
        assert "保存设施装备记录" not in page and "只能查看记录" in page
        r = client.post(url, data=form | {"csrf": csrf})
        assert r.status_code == 403 and "您的角色不能填报设施装备记录" in page_text(r.text)
    assert facilities(client, auth, bare_office)["recorded"] is False
    # the office's own staff keep its facilities
    csrf = sign_in("xincun_staff")
    r = client.post(url, data=form | {"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # a typed value that is markup comes back as text
    r = client.post(url, data={"csrf": csrf, "results_year": MARKUP[0]})
    assert r.status_code == 422 and "<img src=x data-pwn" not in r.text
    assert input_value(r.text, "results_year") == MARKUP[0]


def test_a_full_record_reads_back_unchanged(client, auth, sign_in, bare_office) -> None:
    """A record stored through the API shows on the page and, saved again untouched, is
    the same record (nothing lost, nothing turned from unknown into no)."""
    body = full_facilities()
    body["practices"] = {"complaint_box": True, "asset_ledger": False}
    body["vehicles"] = None
    r = client.put(
        f"/api/v1/offices/{bare_office}/facilities", json=body, headers=auth("xinzheng_county")
    )
    assert r.status_code == 200
    before = facilities(client, auth, bare_office)
    csrf = sign_in("xinzheng_county")
    page = client.get(f"/offices/{bare_office}/facilities").text
    import re

    form: dict[str, object] = {"csrf": csrf}
    for name, value in re.findall(
        r'<input id="f-[^"]*" name="([^"]*)" type="number" value="([^"]*)"', page
    ):
        form[name] = value
    for name, value in re.findall(
        r'<select id="f-[^"]*" name="([^"]*)"[^>]*>\s*(?:<option[^>]*>[^<]*</option>\s*)*?<option value="([^"]*)" selected',
        page,
    ):
        form[name] = value
    for name, value in re.findall(
        r'<input type="checkbox" name="([^"]*)" value="([^"]*)" checked', page
    ):
        form.setdefault(name, [])
        form[name].append(value)  # type: ignore[union-attr]
    r = client.post(f"/offices/{bare_office}/facilities", data=form)
    assert r.status_code == 200 and "未作更改" in page_text(r.text), page_text(r.text)[:1000]
    after = facilities(client, auth, bare_office)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
