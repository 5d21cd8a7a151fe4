"""Every criterion of every seed standard, through HTTP on real PostGIS: an office recording
the least that meets it passes it, and the same office with one fact short of it fails it.

The office records everything (office_records.OfficeSpec); `variant` changes only the fact the
criterion reads, to exactly the threshold (pass) or just past it (fail). The thresholds that
differ by division kind (河南 2004: township ≥120 m², street ≥80 m²) are tested by value below.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from criteria_cases import (
    COUNTY,
    PUBLISHED,
    STREET,
    TOWN,
    client_transaction,
    publish,
    report_for,
    township_for,
    variant,
)
from office_records import (
    YEAR,
    OfficeSpec,
    compliance,
    register,
    status_of,
)

from service.standards.definition import SEED_CODES, Criterion, seed

CASES = [(code, c) for code in SEED_CODES for c in seed(code).criteria]


@pytest.mark.parametrize("passing", [True, False], ids=["pass", "fail"])
@pytest.mark.parametrize(("code", "criterion"), CASES, ids=[c.key for _, c in CASES])
def test_criterion(client, auth, code: str, criterion: Criterion, passing: bool) -> None:
    version = publish(client, auth, code)
    office = register(client, auth(COUNTY), township_for(criterion), variant(criterion, passing))
    report = compliance(client, auth(COUNTY), office, version)
    assert status_of(report, criterion.key) == ("pass" if passing else "fail")


def test_the_full_office_meets_every_criterion(client, auth) -> None:
    office = register(client, auth(COUNTY), TOWN, OfficeSpec())
    for version in PUBLISHED.values():
        report = compliance(client, auth(COUNTY), office, version)
        assert report["failed"] == 0 and report["unknown"] == 0, report["missing"]
        assert report["mandatory_met"] is True and report["score"] == 100.0


def test_township_and_street_area_thresholds_of_henan_2004(client, auth) -> None:
    """第二篇 三(五)1: 乡镇 ≥120 m², 街道 ≥80 m² — by value, not by the encoded threshold."""
    expected = {
        (TOWN, 119.9): "fail",
        (TOWN, 120): "pass",
        (STREET, 79.9): "fail",
        (STREET, 80): "pass",
    }
    for (township, area), status in expected.items():
        spec = OfficeSpec(area_m2=area)
        report = report_for(client, auth, spec, "1", township)
        key = "HN2004-AREA-STREET" if township == STREET else "HN2004-AREA-TOWNSHIP"
        assert status_of(report, key) == status, (township, area)
        other = "HN2004-AREA-TOWNSHIP" if township == STREET else "HN2004-AREA-STREET"
        assert other not in {i["key"] for i in report["items"]}  # not applicable


def test_henan_2009_staff_and_training_by_value(client, auth) -> None:
    """第五篇 4、11: ≥3 staff (≥5 advisory), director ≥7 and others ≥5 training days."""
    spec = OfficeSpec()
    spec.staff = spec.staff[:3]
    spec.staff[0]["training_days"] = 7
    spec.staff[1]["training_days"] = 4
    office = register(client, auth(COUNTY), TOWN, spec)
    report = compliance(client, auth(COUNTY), office, "2")
    assert status_of(report, "HN2009-STAFF-3") == "pass"
    assert status_of(report, "HN2009-STAFF-5") == "fail"
    assert status_of(report, "HN2009-TRAIN-DIRECTOR") == "pass"
    assert status_of(report, "HN2009-TRAIN-STAFF") == "fail"
    assert report["mandatory_met"] is False
    assert any("培训" in m for m in report["missing"])
    # the advisory ≥5 staff does not block: it is listed as advice
    assert "HN2009-STAFF-5" not in report["mandatory_open"]


def test_a_directors_office_counts_as_an_office(client, auth) -> None:
    spec = OfficeSpec()
    assert spec.facilities is not None
    spec.facilities["rooms"] = ["director_office", "archive_room", "mediation_room"]
    office = register(client, auth(COUNTY), STREET, spec)
    assert status_of(compliance(client, auth(COUNTY), office, "1"), "HN2004-ROOMS-STREET") == "pass"


def test_nothing_recorded_is_unknown_not_failed(client, auth) -> None:
    office = register(
        client,
        auth(COUNTY),
        TOWN,
        OfficeSpec(area_m2=None, facilities=None, staff=[], work_record=None),
    )
    report = compliance(client, auth(COUNTY), office, "2")
    passed = {i["key"] for i in report["items"] if i["status"] == "pass"}
    assert passed == {"HN2009-NAME"} and report["failed"] == 0  # (a name is always known)
    assert report["unknown"] == len(report["items"]) - 1
    assert all(m.startswith("【") and "补录数据" in m for m in report["missing"])


def test_missing_items_are_named_in_chinese(client, auth) -> None:
    spec = OfficeSpec()
    assert spec.facilities is not None
    spec.facilities["registers"] = ["dispute_ledger", "meeting_minutes"]
    office = register(client, auth(COUNTY), TOWN, spec)
    report = compliance(client, auth(COUNTY), office, "2")
    (item,) = [i for i in report["items"] if i["key"] == "HN2009-REGISTERS"]
    assert item["status"] == "fail"
    assert "刑释解教人员安置帮教情况登记册" in item["missing_items"]
    assert "司法所会议记录册" not in item["missing_items"]
    assert len(item["missing_items"]) == 6


def test_staff_have_three_years_from_appointment_to_get_the_degree(client, auth) -> None:
    """第二篇 三(二)2: 未取得相应学历的人员要在任职3年内完成 — counted from `joined_on` to the
    evaluation date; someone past the 3 years whose education is not recorded is unknown."""
    today = date.today()
    cases = {
        (today - timedelta(days=3 * 365 - 30)).isoformat(): "pass",  # within the 3 years
        (today - timedelta(days=3 * 366)).isoformat(): "fail",
    }
    for joined_on, status in cases.items():
        spec = OfficeSpec()
        spec.staff[-1].update(education="below_college", joined_on=joined_on)
        report = report_for(client, auth, spec, PUBLISHED["henan-2004"])
        assert status_of(report, "HN2004-EDU-COLLEGE") == status, joined_on
    spec = OfficeSpec()
    spec.staff[-1].update(education=None, joined_on="2010-01-01")
    office = register(client, auth(COUNTY), TOWN, spec)
    report = compliance(client, auth(COUNTY), office, PUBLISHED["henan-2004"])
    assert status_of(report, "HN2004-EDU-COLLEGE") == "unknown"


def test_shanxi_asks_a_party_branch_where_henan_2009_takes_a_group(client, auth) -> None:
    """第三篇 三(二)2 "应建立党支部" vs 第五篇 第6条 "党(团)支部或党小组"; a record that only says
    "支部或党小组" (before the kind was recorded) leaves 第三篇's criterion unknown, not failed."""
    shanxi = publish(client, auth, "shanxi-2008")
    cases = [
        ({"party_organisation": "branch"}, 3, "pass", "pass"),
        ({"party_organisation": "group"}, 3, "fail", "pass"),
        ({"party_organisation": "none"}, 3, "fail", "fail"),
        ({"party_branch": True}, 3, "unknown", "pass"),
        ({"party_branch": False}, 3, "fail", "fail"),
        ({"party_organisation": "none"}, 2, "pass", "pass"),  # fewer than 3 party members
    ]
    for recorded, members, in_shanxi, in_henan in cases:
        spec = OfficeSpec()
        assert spec.facilities is not None
        spec.facilities.pop("party_organisation", None)
        spec.facilities.update(recorded)
        for i, member in enumerate(spec.staff):
            member["party_member"] = i < members
        with client_transaction(client):
            office = register(client, auth(COUNTY), TOWN, spec)
            sx = compliance(client, auth(COUNTY), office, shanxi)
            hn = compliance(client, auth(COUNTY), office, PUBLISHED["henan-2009"])
            got = (status_of(sx, "SX2008-PARTY"), status_of(hn, "HN2009-PARTY"))
            assert got == (in_shanxi, in_henan), (recorded, members)


def test_every_year_reads_the_last_completed_year_or_this_one(client, auth) -> None:
    """ "每年…不少于7天": an inspection in January is judged on last year's training (it failed
    before: only the calendar year of the evaluation counted); two years back is no training.
    The year's work results likewise: older results are not recorded (unknown), not failed."""
    cases = [(YEAR, "pass", "pass"), (YEAR - 1, "pass", "pass"), (YEAR - 2, "fail", "unknown")]
    for year, training, results in cases:
        spec = OfficeSpec(work_record=None)  # (the rates as typed, with their year)
        assert spec.facilities is not None
        spec.staff[0].update(training_year=year, training_days=7)
        spec.facilities["results_year"] = year
        report = report_for(client, auth, spec, PUBLISHED["henan-2009"])
        assert status_of(report, "HN2009-TRAIN-DIRECTOR") == training, year
        assert status_of(report, "HN2009-MEDIATION-RATE") == results, year
        assert status_of(report, "HN2009-REOFFENDING") == results, year
