"""The office page's yearly work records (第四篇): the records with their computed rates, and
for those who may keep them a form that stores a year through the API's own checks — a
refusal shows the page again with what was typed and, next to the field, why (in Chinese)."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from conftest import signed_in
from office_records import OfficeSpec, register

# (each test logs a browser in, some several times: the per-address login throttle is reset)
pytestmark = pytest.mark.usefixtures("clean_throttle")
TOWN, NEIGHBOUR = "410184101", "410184102"  # offices registered with no work record yet
LAST = date.today().year - 1
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOSTILE = "<img src=x onerror=window.__pwned=1>{{7*7}}"  # (quotes: the client encodes them)


def upload(client, auth, office: int, name: str) -> int:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/offices/{office}/evidence",
        files={"file": (name, PNG, "image/png")},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_page_lists_records_with_rates_and_escapes_stored_text(client, auth) -> None:
    office = register(client, auth("xinzheng_county"), TOWN, OfficeSpec(work_record=None))
    summary = upload(client, auth, office, HOSTILE + ".png")
    body = {
        "mediation_cases": 20,
        "mediation_successes": 19,
        "key_persons": 8,
        "key_assisted": 8,
        "key_placed": 7,
        "titles": ["civilised_office"],
        "county_assessment_passed": True,
        "summary_evidence_id": summary,
    }
    r = client.put(
        f"/api/v1/offices/{office}/work-records/{LAST}", json=body, headers=auth("xincun_staff")
    )
    assert r.status_code == 200, r.text
    r = client.get(f"/offices/{office}", headers=auth("zhengzhou_city"))
    assert r.status_code == 200
    assert HOSTILE not in r.text and "<img src=x" not in r.text  # escaped, never markup
    html = unescape(r.text)
    section = html[html.index("年度工作记录") :]
    assert f"<td>{LAST}</td>" in section and "19/20" in section and "95%" in section
    assert "87.5%" in section and "文明司法所" in section and HOSTILE + ".png" in section
    assert "保存年度工作记录" not in html  # a city bureau reads, it does not keep records
    assert "保存年度工作记录" in unescape(
        client.get(f"/offices/{office}", headers=auth("xinzheng_county")).text
    )


def test_a_year_recorded_from_the_page(client, auth, settings) -> None:
    office = register(client, auth("xinzheng_county"), TOWN, OfficeSpec(work_record=None))
    summary = upload(client, auth, office, "年度总结.png")
    csrf = signed_in(client, settings, "xincun_staff")
    form = {
        "csrf": csrf,
        "year": str(LAST),
        "mediation_cases": "20",
        "mediation_successes": "19",
        "villages": "",
        "titles": ["civilised_unit", "civilised_office"],
        "county_assessment_passed": "true",
        "reports_on_time": "",
        "summary_evidence_id": str(summary),
    }
    r = client.post(f"/offices/{office}/work-records", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    assert r.headers["location"] == f"/offices/{office}?recorded={LAST}"
    page = unescape(client.get(r.headers["location"]).text)
    assert (
        f"已保存 {LAST} 年度工作记录" in page and "95%" in page and "文明单位、文明司法所" in page
    )
    stored = client.get(
        f"/api/v1/offices/{office}/work-records/{LAST}", headers=auth("xincun_staff")
    ).json()
    assert (stored["mediation_cases"], stored["villages"], stored["reports_on_time"]) == (
        20,
        None,
        None,
    )
    assert stored["county_assessment_passed"] is True
    assert stored["summary_evidence_id"] == summary


def test_a_refused_form_shows_why_next_to_the_field_and_keeps_what_was_typed(
    client, auth, settings
) -> None:
    office = register(client, auth("xinzheng_county"), TOWN, OfficeSpec(work_record=None))
    neighbour = register(client, auth("xinzheng_county"), NEIGHBOUR, OfficeSpec(work_record=None))
    theirs = upload(client, auth, neighbour, "别所的总结.png")
    csrf = signed_in(client, settings, "xinzheng_county")
    url = f"/offices/{office}/work-records"
    cases = [
        (
            {"mediation_cases": "20", "mediation_successes": "21"},
            "mediation_successes",
            "不能大于“调解民间纠纷件数”(20)",
        ),
        ({"publicity_events": "-3"}, "publicity_events", "不能小于 0"),
        ({"legal_aid_cases": "两件"}, "legal_aid_cases", "须填写整数"),
        ({"titles": ["nobel_prize"]}, "titles", "不是可选的称号"),
        ({"year": str(LAST + 2)}, "year", "只能填报本年度及以前年度的记录"),
        ({"summary_evidence_id": str(theirs)}, "summary_evidence_id", "不是本司法所的证明材料"),
    ]
    for fields, field, why in cases:
        form = {"csrf": csrf, "year": str(LAST), "rights_stations": "4", **fields}
        r = client.post(url, data=form, follow_redirects=False)
        assert r.status_code == 422, (field, r.text[:300])
        html = unescape(r.text)
        assert "未能保存,请按提示修改后再提交" in html and why in html, field
        assert 'name="rights_stations" min="0" max="1000000" value="4"' in html, field
        listed = client.get(
            f"/api/v1/offices/{office}/work-records", headers=auth("xinzheng_county")
        )
        assert listed.json() == [], field  # nothing stored


def test_the_form_needs_its_token_and_the_right_to_edit(client, auth, settings) -> None:
    office = register(client, auth("xinzheng_county"), TOWN, OfficeSpec(work_record=None))
    csrf = signed_in(client, settings, "xinzheng_county")
    url = f"/offices/{office}/work-records"
    assert client.post(url, data={"csrf": "0" * 40, "year": str(LAST)}).status_code == 403
    assert client.post(url, data={"year": str(LAST)}).status_code == 422
    # a city bureau's own token, but no right to keep records: the page says so
    csrf = signed_in(client, settings, "zhengzhou_city")
    r = client.post(url, data={"csrf": csrf, "year": str(LAST)}, follow_redirects=False)
    assert r.status_code == 403 and "您的角色不能填报工作记录" in unescape(r.text)
    # another county's bureau does not find the office
    csrf = signed_in(client, settings, "zhongmu_county")
    assert client.post(url, data={"csrf": csrf, "year": str(LAST)}).status_code == 404
    assert (
        client.get(f"/api/v1/offices/{office}/work-records", headers=auth("xinzheng_county")).json()
        == []
    )


def test_a_closed_office_has_no_form(client, auth, settings) -> None:
    office = register(client, auth("xinzheng_county"), TOWN, OfficeSpec(work_record=None))
    csrf = signed_in(client, settings, "xinzheng_county")
    r = client.delete(
        f"/api/v1/offices/{office}", params={"reason": "撤并"}, headers=auth("xinzheng_county")
    )
    assert r.status_code in (200, 204)
    page = unescape(client.get(f"/offices/{office}").text)
    assert "年度工作记录" in page and "保存年度工作记录" not in page
    r = client.post(f"/offices/{office}/work-records", data={"csrf": csrf, "year": str(LAST)})
    assert r.status_code == 409 and "司法所已撤销" in unescape(r.text)
