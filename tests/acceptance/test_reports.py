"""The city bureau's overview and progress against the target curve, over HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from conftest import scope_of
from office_records import OfficeSpec, register
from page_sections import with_sections
from sqlalchemy import text

TOWNS = ["410184102", "410184103", "410184104", "410184105"]
OTHER_TOWNS = ["410184106", "410184107", "410184108", "410184109", "410184001", "410184002"]
REQUIRED_IN_XINZHENG = 13  # 3 streets, 9 towns, 1 township in the mini fixture (2 optional)


def walk(client: Any, auth: Any, office: int, steps: list[tuple[str, str, str]]) -> None:
    for user, name, day in steps:
        body = {"inspection_date": day, "inspectors": ["王检查"], "reasons": ["测试"]}
        r = client.post(
            f"/api/v1/offices/{office}/acceptance/{name}", json=body, headers=auth(user)
        )
        assert r.status_code == 200, (name, r.text)


def accepted_on(client: Any, auth: Any, code: str, day: str) -> int:
    spec = OfficeSpec()
    for member in spec.staff:  # training counts for the year it was done in
        member["training_year"] = int(day[:4])
    assert spec.facilities is not None
    spec.facilities["results_year"] = int(day[:4])  # and the year's work results too
    spec.work_year = int(day[:4])
    office = register(client, auth("xinzheng_county"), code, spec)
    accept(client, auth, office, day)
    return office


def accept(client: Any, auth: Any, office: int, day: str) -> None:
    """Self-check, application by the county and acceptance by the city, all on `day`."""
    walk(
        client,
        auth,
        office,
        [
            ("xinzheng_county", "self_check", day),
            ("xinzheng_county", "apply", day),
            ("zhengzhou_city", "accept", day),
        ],
    )


@pytest.mark.parametrize(
    ("day", "required", "due", "next_due", "next_share"),
    [
        ("2005-10-30", None, None, "2005-10-31", 0.3),  # no target in force yet
        ("2005-10-31", 0.3, "2005-10-31", "2006-10-31", 0.6),
        ("2006-10-30", 0.3, "2005-10-31", "2006-10-31", 0.6),
        ("2006-10-31", 0.6, "2006-10-31", "2007-10-31", 0.8),
        ("2007-10-30", 0.6, "2006-10-31", "2007-10-31", 0.8),
        ("2007-10-31", 0.8, "2007-10-31", "2008-12-31", 1.0),
        ("2008-12-30", 0.8, "2007-10-31", "2008-12-31", 1.0),
        ("2008-12-31", 1.0, "2008-12-31", None, None),
        ("2012-01-01", 1.0, "2008-12-31", None, None),
    ],
)
def test_henan_target_curve_around_each_date(
    client, auth, day, required, due, next_due, next_share
):
    r = client.get("/api/v1/progress", params={"as_of": day}, headers=auth("henan_planner"))
    assert r.status_code == 200, r.text
    target = r.json()["target"]
    assert target == {
        "share": required,
        "due_on": due,
        "aspirational": None if due is None else due == "2008-12-31",  # 力争 100 %
        "next_due_on": next_due,
        "next_share": next_share,
    }
    curve = r.json()["curve"]
    assert [(t["share"], t["aspirational"]) for t in curve] == [
        (0.3, False),
        (0.6, False),
        (0.8, False),
        (1.0, True),
    ]
    total = r.json()["total"]
    if required is None:
        assert total["status"] == "no_target" and total["short_of_target"] is None
    elif total["offices"] == 0:  # (the fixture's offices open later)
        assert total["status"] == "no_offices"
    elif due == "2008-12-31":  # a 力争 step is shown, not judged as on track or behind
        assert total["status"] in ("reached", "short_of_aspiration")
    else:
        assert total["status"] in ("on_track", "behind")


def put_targets(client: Any, auth: Any, second_step: dict[str, Any]) -> list[dict[str, Any]]:
    """The province's curve: 30 % by 2024-06-30, then `second_step` (due 2025-06-30)."""
    r = client.put(
        "/api/v1/targets",
        json={"targets": [{"due_on": "2024-06-30", "share": 0.3}, second_step]},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 200, r.text
    return list(r.json())


def four_of_ten_offices_accepted(client: Any, auth: Any) -> None:
    """TOWNS' 4 offices accepted on 2024-03-01; OTHER_TOWNS' 6 offices not (yet)."""
    for code in TOWNS:  # 4 of 13 required townships (30.8%)
        accepted_on(client, auth, code, "2024-03-01")
    for code in OTHER_TOWNS:
        register(client, auth("xinzheng_county"), code, OfficeSpec(work_record=None))


def xinzheng_progress(client: Any, auth: Any, day: str) -> dict[str, Any]:
    """新郑's row in 郑州's progress on `day`."""
    r = client.get(
        "/api/v1/progress",
        params={"region": "4101", "as_of": day},
        headers=auth("zhengzhou_city"),
    )
    assert r.status_code == 200, r.text
    (xinzheng,) = [x for x in r.json()["regions"] if x["code"] == "410184"]
    return dict(xinzheng)


def test_progress_on_track_or_behind_around_target_dates(client, auth) -> None:
    put_targets(client, auth, {"due_on": "2025-06-30", "share": 0.5})
    trail = client.get(
        "/api/v1/audit", params={"entity_type": "targets"}, headers=auth("henan_admin")
    ).json()["items"]
    assert trail[0]["after"]["targets"] == [  # (no mark: neither step is 力争)
        {"due_on": "2024-06-30", "share": 0.3},
        {"due_on": "2025-06-30", "share": 0.5},
    ]
    assert trail[0]["before"]["targets"][0]["due_on"] == "2005-10-31"
    four_of_ten_offices_accepted(client, auth)
    before = xinzheng_progress(client, auth, "2024-02-29")
    assert (before["required"], before["accepted"], before["target"]) == (
        REQUIRED_IN_XINZHENG,
        0,
        None,
    )
    assert before["status"] == "no_target"  # (before the first date: none in force)
    # 第二篇 二 counts 司法所: 4 titled of 10 offices (40 %), beside the coverage view
    # (4 of 13 required townships with a titled office)
    assert before["offices"] == 10 and before["offices_titled"] == 0
    at_first = xinzheng_progress(client, auth, "2024-06-30")
    assert (at_first["offices_titled"], at_first["share"], at_first["target"]) == (4, 0.4, 0.3)
    assert at_first["status"] == "on_track" and at_first["short_of_target"] == 0
    assert at_first["accepted"] == 4 and at_first["coverage_share"] == round(4 / 13, 4)
    assert at_first["yardstick"] is True  # the tenant's curve, not one set for 新郑
    after_second = xinzheng_progress(client, auth, "2025-06-30")
    assert after_second["target"] == 0.5 and after_second["status"] == "behind"
    assert after_second["short_of_target"] == 5 - 4  # ceil(10 × 0.5) = 5 offices
    today = xinzheng_progress(client, auth, str(date.today()))
    assert today["offices_titled"] == 4


def test_revoked_offices_stop_counting_from_the_day_of_revocation(client, auth) -> None:
    office = accepted_on(client, auth, TOWNS[0], "2024-03-01")
    walk(client, auth, office, [("zhengzhou_city", "reinspect_fail", "2025-01-15")])

    def accepted(day: str) -> int:
        r = client.get(
            "/api/v1/progress",
            params={"region": "410184", "as_of": day},
            headers=auth("xinzheng_county"),
        )
        return int(r.json()["total"]["accepted"])

    assert (accepted("2024-02-29"), accepted("2024-03-01"), accepted("2025-01-14")) == (0, 1, 1)
    assert accepted("2025-01-15") == 0
    assert accepted(str(date.today())) == 0


def test_city_overview_counts_by_state_and_county_and_lists_reinspections(client, auth) -> None:
    old = accepted_on(client, auth, TOWNS[0], "2022-01-10")  # due 24 months later: overdue
    recent = accepted_on(client, auth, TOWNS[1], str(date.today()))
    waiting = register(client, auth("xinzheng_county"), TOWNS[2], OfficeSpec())
    walk(client, auth, waiting, [("xinzheng_county", "self_check", str(date.today()))])
    register(client, auth("zhongmu_county"), "410122101", OfficeSpec())
    r = client.get("/api/v1/acceptance", params={"region": "4101"}, headers=auth("zhengzhou_city"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["offices"] == 4 and body["titled"] == 2
    assert body["counts"]["accepted"] == 2 and body["counts"]["self_checked"] == 1
    assert body["counts"]["not_applied"] == 1
    by_county = {x["code"]: x for x in body["regions"]}
    assert set(by_county) == {"410184", "410122"}
    assert by_county["410184"]["counts"]["accepted"] == 2
    assert by_county["410122"]["counts"]["not_applied"] == 1
    assert by_county["410184"]["name"] == "新郑市"
    overdue = body["reinspection"]["overdue"]
    assert [o["id"] for o in overdue] == [old] and overdue[0]["due_on"] == "2024-01-10"
    assert recent not in [o["id"] for o in body["reinspection"]["due_soon"]]
    only = client.get(
        "/api/v1/acceptance",
        params={"region": "4101", "state": "self_checked"},
        headers=auth("zhengzhou_city"),
    ).json()
    assert [o["id"] for o in only["items"]] == [waiting] and only["total"] == 1
    assert only["items"][0]["state_label"] == "已自查"


def test_region_compliance_table(client, auth) -> None:
    register(client, auth("xinzheng_county"), TOWNS[0], OfficeSpec())
    short = OfficeSpec(area_m2=100)
    register(client, auth("xinzheng_county"), TOWNS[1], short)
    register(client, auth("zhongmu_county"), "410122101", short)
    r = client.get("/api/v1/compliance", params={"region": "4101"}, headers=auth("zhengzhou_city"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["standard"]["code"] == "henan-2009"
    assert (body["offices"], body["compliant"]) == (3, 1)
    worst = body["criteria"][0]
    assert worst["key"] == "HN2009-AREA" and worst["failed"] == 2 and worst["passed"] == 1
    by_county = {x["code"]: x for x in body["regions"]}
    assert by_county["410184"]["compliant"] == 1 and by_county["410184"]["offices"] == 2
    assert by_county["410122"]["most_failed"] == "HN2009-AREA"


def test_tables_export_to_xlsx_and_csv_with_chinese_headers(client, auth) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    office = accepted_on(client, auth, TOWNS[0], str(date.today()))
    r = client.get(
        "/api/v1/progress",
        params={"region": "4101", "format": "xlsx"},
        headers=auth("zhengzhou_city"),
    )
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[0] == "区划代码")
    assert rows[header][:4] == ["区划代码", "区划名称", "司法所数", "规范化司法所数"]
    assert rows[header][9] == "有规范化司法所的乡镇(街道)数"
    body = {row[0]: row for row in rows[header + 1 :] if row[0]}
    assert body["410184"][3] == 1 and body["410184"][9] == 1 and body["4101"][1] == "合计"
    r = client.get(
        "/api/v1/acceptance",
        params={"region": "4101", "format": "csv"},
        headers=auth("zhengzhou_city"),
    )
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    start = next(i for i, row in enumerate(lines) if row and row[0] == "司法所编号")
    assert [row[0] for row in lines[start + 1 :] if row] == [str(office)]
    assert lines[start + 1][5] == "规范化司法所"
    r = client.get(
        f"/api/v1/offices/{office}/compliance",
        params={"format": "xlsx"},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200
    checklist = [
        [c.value for c in row] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows()
    ]
    assert any(row[0] == "HN2009-AREA" and row[5] == "达标" for row in checklist)
    r = client.get(
        "/api/v1/compliance",
        params={"region": "4101", "format": "csv", "table": "criteria"},
        headers=auth("zhengzhou_city"),
    )
    assert r.status_code == 200 and "HN2009-AREA" in r.content.decode("utf-8-sig")


def test_a_target_curve_must_run_forward(client, auth) -> None:
    for targets in (
        [{"due_on": "2025-01-01", "share": 0.5}, {"due_on": "2024-01-01", "share": 0.6}],
        [{"due_on": "2024-01-01", "share": 0.6}, {"due_on": "2025-01-01", "share": 0.5}],
        [{"due_on": "2024-01-01", "share": 1.5}],
    ):
        r = client.put("/api/v1/targets", json={"targets": targets}, headers=auth("henan_admin"))
        assert r.status_code == 422, r.text
    r = client.get("/api/v1/targets", headers=auth("henan_planner"))
    assert [t["due_on"] for t in r.json()] == [
        "2005-10-31",
        "2006-10-31",
        "2007-10-31",
        "2008-12-31",
    ]


def test_a_province_whose_documents_set_no_target_shows_none(client, auth) -> None:
    """山西 (第三篇) sets no share targets: its regions have no target, not on_track against 0."""
    r = client.get("/api/v1/progress", headers=auth("shanxi_admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["curve"] == [] and body["target"]["share"] is None
    assert body["total"]["status"] == "no_target" and body["total"]["target"] is None
    assert {x["status"] for x in body["regions"]} <= {"no_target", "no_offices"}
    csv = client.get("/api/v1/progress", params={"format": "csv"}, headers=auth("shanxi_admin"))
    assert csv.status_code == 200 and "无目标" in csv.content.decode("utf-8-sig")


def test_a_strive_for_step_is_shown_not_judged_behind(client, auth) -> None:
    """力争 (aspirational) steps: the regions are not 'behind' a hope; they reach it or not."""
    targets = put_targets(
        client, auth, {"due_on": "2025-06-30", "share": 0.5, "aspirational": True}
    )
    assert [t["aspirational"] for t in targets] == [False, True]
    four_of_ten_offices_accepted(client, auth)
    assert xinzheng_progress(client, auth, "2024-07-01")["status"] == "on_track"
    later = xinzheng_progress(client, auth, "2025-07-01")
    assert later["status"] == "short_of_aspiration" and later["short_of_target"] == 5 - 4
    page = with_sections(client, auth("zhengzhou_city"), "/dashboard", region="4101")
    assert "未达力争目标" in page, page[:300]


def test_the_share_of_filings_the_province_sampled_per_city(client, auth) -> None:
    """第二篇 四: the province samples "适当比例" of what the cities file; the report says how
    large a share per city, with the findings (which revoke nothing)."""
    offices = [accepted_on(client, auth, code, "2024-03-01") for code in TOWNS[:3]]
    for office in offices:
        walk(client, auth, office, [("henan_planner", "file", "2024-03-05")])
    r = client.post(
        f"/api/v1/offices/{offices[0]}/acceptance/spot_check_fail",
        json={"inspection_date": "2024-04-01", "inspectors": ["省抽检"], "reasons": ["台账缺失"]},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 200 and r.json()["state"] == "filed"
    r = client.get("/api/v1/spot-checks", params={"region": "41"}, headers=auth("henan_planner"))
    assert r.status_code == 200, r.text
    (zhengzhou,) = [x for x in r.json()["regions"] if x["code"] == "4101"]
    assert (zhengzhou["filed"], zhengzhou["sampled"], zhengzhou["findings"]) == (3, 1, 1)
    assert zhengzhou["share"] == round(1 / 3, 4) and zhengzhou["last_sampled_on"] == "2024-04-01"
    before = client.get(
        "/api/v1/spot-checks",
        params={"region": "4101", "as_of": "2024-03-31"},
        headers=auth("zhengzhou_city"),
    ).json()
    assert before["total"] == {"filed": 3, "sampled": 0, "findings": 0, "share": 0.0}
    other = client.get(
        "/api/v1/spot-checks", params={"region": "4101"}, headers=auth("zhongmu_county")
    )
    assert other.status_code in (403, 404)  # outside the county's region
    sheet = client.get(
        "/api/v1/spot-checks",
        params={"region": "41", "format": "csv"},
        headers=auth("henan_planner"),
    )
    assert sheet.status_code == 200 and "抽检比例(%)" in sheet.content.decode("utf-8-sig")


def test_a_district_has_its_own_schedule(client, auth) -> None:
    """第一篇 三: the district's offices all pass in 2005年下半年 — a schedule for the district
    (published with its standard for the district's code), beside the province's curve."""
    r = client.post(
        "/api/v1/standards",
        json={"seed": "district-2005", "effective_from": "2005-06-01", "target_region": "410184"},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 201, r.text
    targets = client.get("/api/v1/targets", headers=auth("henan_planner")).json()
    assert {(t["region"], t["due_on"], t["share"]) for t in targets if t["region"]} == {
        ("410184", "2005-12-31", 1.0)
    }
    assert len([t for t in targets if not t["region"]]) == 4  # the province's curve stays
    for code in TOWNS[:2]:
        accepted_on(client, auth, code, "2024-03-01")
    register(client, auth("xinzheng_county"), TOWNS[2], OfficeSpec(work_record=None))
    r = client.get(
        "/api/v1/progress",
        params={"region": "4101", "as_of": "2024-06-30"},
        headers=auth("zhengzhou_city"),
    )
    body = r.json()
    assert body["target"]["share"] == 1.0 and body["target"]["due_on"] == "2008-12-31"
    (xinzheng,) = [x for x in body["regions"] if x["code"] == "410184"]
    assert (xinzheng["target"], xinzheng["yardstick"]) == (1.0, False)
    assert xinzheng["status"] == "behind" and xinzheng["short_of_target"] == 1  # 2 of 3
    r = client.get(
        "/api/v1/progress",
        params={"region": "410184", "as_of": "2024-06-30"},
        headers=auth("xinzheng_county"),
    )
    assert r.json()["target"]["due_on"] == "2005-12-31"
    assert r.json()["curve"] == [{"due_on": "2005-12-31", "share": 1.0, "aspirational": False}]
    page = with_sections(client, auth("xinzheng_county"), "/dashboard", region="410184")
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert "2005-12-31" in chart and "2008-12-31" not in chart  # the district's own schedule
    outside = client.post(
        "/api/v1/standards",
        json={"seed": "district-2005", "effective_from": "2005-06-01", "target_region": "1401"},
        headers=auth("henan_admin"),
    )
    assert outside.status_code == 403


def test_civilised_offices_must_be_accepted_within_two_years(client, auth) -> None:
    """第二篇 四: an office named 文明司法所 that is not accepted within 2 years of the standard
    (河南 2004, in force 2004-07-22: by 2006-07-22) is to lose that title."""

    def named(code: str) -> int:
        spec = OfficeSpec()
        assert spec.work_record is not None
        spec.work_record["titles"] = ["civilised_office", "civilised_unit"]
        spec.work_year = 2005
        for member in spec.staff:
            member["training_year"] = 2006
        assert spec.facilities is not None
        spec.facilities["results_year"] = 2006
        return register(client, auth("xinzheng_county"), code, spec)

    in_time, late, never = named(TOWNS[0]), named(TOWNS[1]), named(TOWNS[2])
    accept(client, auth, in_time, "2006-07-22")  # the last day counts
    accept(client, auth, late, "2006-07-23")
    register(client, auth("xinzheng_county"), TOWNS[3], OfficeSpec())  # titles: 文明司法所

    def report(as_of: str) -> dict[str, Any]:
        r = client.get(
            "/api/v1/civilised-offices",
            params={"region": "410184", "as_of": as_of},
            headers=auth("xinzheng_county"),
        )
        assert r.status_code == 200, r.text
        return r.json()

    body = report("2006-06-30")
    assert body["rule"]["deadline"] == "2006-07-22" and body["rule"]["years"] == 2
    status = {i["id"]: i["status"] for i in body["items"]}
    assert status == {in_time: "pending", late: "pending", never: "pending"}  # 2005's records
    body = report(str(date.today()))
    status = {i["id"]: i["status"] for i in body["items"]}
    assert (status[in_time], status[late], status[never]) == ("met", "revoke", "revoke")
    assert body["counts"]["revoke"] == 2 + (len(status) - 3)
    csv = client.get(
        "/api/v1/civilised-offices",
        params={"region": "410184", "format": "csv"},
        headers=auth("xinzheng_county"),
    )
    assert csv.status_code == 200 and "应取消文明司法所称号" in csv.content.decode("utf-8-sig")
    shanxi = client.get("/api/v1/civilised-offices", headers=auth("shanxi_admin")).json()
    assert shanxi["rule"] is None and shanxi["items"] == []  # 第三篇 sets no such rule


def test_the_reinspection_period_is_labelled_provincial_policy(client, auth) -> None:
    """No document sets the re-inspection period (复验办法另行制定): it is shown as the
    province's own policy, with its length."""
    r = client.get("/api/v1/acceptance", params={"region": "4101"}, headers=auth("zhengzhou_city"))
    note = r.json()["reinspection"]["policy_note"]
    assert "本省政策" in note and "24个月" in note and "另行制定" in note


def test_the_dashboards_curve_counts_each_day_as_progress_does(
    client, auth, session, base_data
) -> None:
    """`shares_at` (all the chart's days in one pass) agrees with `progress(as_of=day)`."""
    from service.acceptance.reports import shares_at

    office = accepted_on(client, auth, TOWNS[0], "2024-03-01")
    accepted_on(client, auth, TOWNS[1], "2024-09-01")
    walk(client, auth, office, [("zhengzhou_city", "reinspect_fail", "2025-01-15")])
    register(client, auth("xinzheng_county"), TOWNS[2], OfficeSpec(work_record=None))
    closed = accepted_on(client, auth, TOWNS[3], "2024-03-01")
    session.execute(  # closed on 09-01: open on 08-31, no longer on 09-01
        text(
            "UPDATE offices SET closed_at = '2024-09-01 12:00', closed_reason = '撤并'"
            " WHERE id = :o"
        ),
        {"o": closed},
    )
    scope = scope_of(base_data, "zhengzhou_city")
    days = [
        date(2024, 2, 29),
        date(2024, 3, 1),
        date(2024, 8, 31),
        date(2024, 9, 1),
        date(2025, 1, 15),
    ]
    shares = shares_at(session=session, scope=scope, region="410184", days=days)
    # the whole tenant is read another way (the events without the region's offices)
    whole = shares_at(session=session, scope=replace(scope, region_code="41"), region="", days=days)
    for day in days:
        r = client.get(
            "/api/v1/progress",
            params={"region": "410184", "as_of": str(day)},
            headers=auth("zhengzhou_city"),
        )
        assert shares[day] == r.json()["total"]["share"], day
        r = client.get("/api/v1/progress", params={"as_of": str(day)}, headers=auth("henan_admin"))
        assert whole[day] == r.json()["total"]["share"], day
    # three offices open throughout: one titled from 03-01, two from 09-01, one again from
    # 01-15; the fourth titled from 03-01 and closed on 09-01
    assert [shares[d] for d in days] == [0.0, 0.5, 0.5, 0.6667, 0.3333]
