"""Yearly work records (第四篇) over HTTP: kept per office and year, replaced whole, the
work-result rates computed from the counts (never typed), every refusal naming its field,
the annual summary only ever one of the office's own files, and a region's records of a year
as a table."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from service.records.models import WORK_COUNTS, WORK_PARTS
from service.records.schemas import WORK_LABELS_ZH, WorkRecordIn
from service.standards.facts import WORK_RATES

YEAR = date.today().year
LAST = YEAR - 1
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

FULL = {
    "mediation_cases": 20,
    "mediation_successes": 19,
    "villages": 30,
    "mediation_committees": 30,
    "mediators": 90,
    "full_time_mediators": 2,
    "released_persons": 40,
    "reoffended": 1,
    "key_persons": 8,
    "key_assisted": 8,
    "key_placed": 7,
    "community_corrections": 12,
    "assistance_agreements": 35,
    "publicity_events": 24,
    "legal_aid_cases": 6,
    "rights_stations": 3,
    "discipline_violations": 0,
    "mediator_min_training_days": 2,
    "titles": ["civilised_office", "civilised_unit"],
    "county_assessment_passed": True,
    "reports_on_time": True,
}


def url(office: int, year: int | None = None) -> str:
    base = f"/api/v1/offices/{office}/work-records"
    return base if year is None else f"{base}/{year}"


def fields_named(response: Any) -> set[str]:
    """The fields a 422 names (request validation and the service's refusals alike)."""
    assert response.status_code == 422, response.text
    return {d["field"].split(".")[0] for d in response.json()["details"]}


def same_but_the_id(body: dict[str, Any]) -> str:
    return re.sub(r"evidence file \d+", "evidence file N", json.dumps(body))


def upload(client, auth, office: int, user: str = "xinzheng_county") -> int:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/offices/{office}/evidence",
        files={"file": ("2024年工作总结.png", PNG, "image/png")},
        headers=auth(user),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_schema_holds_every_count_of_the_table() -> None:
    assert set(WORK_COUNTS) <= set(WorkRecordIn.model_fields)
    assert set(WORK_COUNTS) <= set(WORK_LABELS_ZH)
    for part, whole in WORK_PARTS:  # a part is checked against its whole, validated first
        order = list(WorkRecordIn.model_fields)
        assert order.index(whole) < order.index(part), part


def test_round_trip_with_computed_rates(client, auth, xincun_office) -> None:
    summary = upload(client, auth, xincun_office, "xincun_staff")
    body = FULL | {"summary_evidence_id": summary}
    r = client.put(url(xincun_office, LAST), json=body, headers=auth("xincun_staff"))
    assert r.status_code == 200, r.text
    stored = r.json()
    assert {k: stored[k] for k in body} == body | {"titles": ["civilised_unit", "civilised_office"]}
    assert stored["title_labels"] == ["文明单位", "文明司法所"]
    assert stored["rates"] == {
        "mediation_success_rate": 95.0,  # 19 of 20
        "key_assistance_rate": 100.0,
        "key_placement_rate": 87.5,
        "reoffending_rate": 2.5,
    }
    assert stored["summary_filename"] == "2024年工作总结.png"
    assert stored["summary_href"].endswith(f"/evidence/{summary}/content")
    for user in ("henan_viewer", "zhengzhou_city", "xincun_staff"):
        got = client.get(url(xincun_office, LAST), headers=auth(user))
        assert got.status_code == 200 and got.json() == stored, user
    # another year, with nothing recorded but the mediation counts: the list is newest first
    r = client.put(
        url(xincun_office, YEAR),
        json={"mediation_cases": 3, "mediation_successes": 1},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200
    listed = client.get(url(xincun_office), headers=auth("henan_planner")).json()
    assert [x["year"] for x in listed] == [YEAR, LAST]
    assert listed[0]["rates"] == {
        "mediation_success_rate": 33.33,
        "key_assistance_rate": None,
        "key_placement_rate": None,
        "reoffending_rate": None,
    }
    assert listed[0]["titles"] is None and listed[0]["title_labels"] == []
    assert listed[1] == stored


def test_put_replaces_the_whole_year(client, auth, xincun_office) -> None:
    h = auth("xincun_staff")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    r = client.put(url(xincun_office, LAST), json={"mediation_cases": 0}, headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["mediation_cases"] == 0 and body["villages"] is None and body["titles"] is None
    assert body["rates"]["mediation_success_rate"] is None  # no case: nothing to rate
    assert [x["year"] for x in client.get(url(xincun_office), headers=h).json()] == [LAST]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mediation_cases": -1}, "mediation_cases"),
        ({"publicity_events": 1_000_001}, "publicity_events"),
        ({"legal_aid_cases": 2.5}, "legal_aid_cases"),
        ({"mediator_min_training_days": 367}, "mediator_min_training_days"),
        ({"titles": ["nobel_prize"]}, "titles"),
        ({"titles": ["civilised_unit", "civilised_unit"]}, "titles"),
        ({"summary_evidence_id": 0}, "summary_evidence_id"),
        ({"county_assessment_passed": "perhaps"}, "county_assessment_passed"),
        ({"mediation_success_rate": 95}, "mediation_success_rate"),  # rates are computed
        *(({whole: 1, part: 2}, part) for part, whole in WORK_PARTS),
    ],
)
def test_each_refusal_names_its_field(client, auth, xincun_office, body, field) -> None:
    r = client.put(url(xincun_office, LAST), json=body, headers=auth("xincun_staff"))
    assert fields_named(r) == {field}
    assert client.get(url(xincun_office, LAST), headers=auth("xincun_staff")).status_code == 404


def test_a_count_above_the_inputs_limit_still_reads(client, auth, xincun_office, session) -> None:
    """The database asks only ≥ 0: a count written past the API's limit (by an operator, say)
    is shown as stored, not turned into a server error."""
    h = auth("xinzheng_county")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    session.execute(
        text("UPDATE office_work_records SET publicity_events = 2000000 WHERE office_id = :o"),
        {"o": xincun_office},
    )
    session.commit()
    r = client.get(url(xincun_office, LAST), headers=h)
    assert r.status_code == 200 and r.json()["publicity_events"] == 2_000_000
    assert client.get(f"/offices/{xincun_office}", headers=h).status_code == 200
    assert region_table(client, auth, "xinzheng_county", format="xlsx").status_code == 200


@pytest.mark.parametrize("year", [1999, 2101, YEAR + 1])
def test_a_year_out_of_range_or_not_begun_is_refused(client, auth, xincun_office, year) -> None:
    r = client.put(url(xincun_office, year), json=FULL, headers=auth("xincun_staff"))
    assert fields_named(r) == {"year"}


def test_the_summary_must_be_the_offices_own_file(
    client, auth, xincun_office, xindian_office
) -> None:
    neighbours = upload(client, auth, xindian_office)
    h = auth("xinzheng_county")  # a county bureau that may read both offices' files
    refused = client.put(
        url(xincun_office, LAST), json={"summary_evidence_id": neighbours}, headers=h
    )
    assert fields_named(refused) == {"summary_evidence_id"}
    absent = client.put(
        url(xincun_office, LAST), json={"summary_evidence_id": 9_999_999}, headers=h
    )
    assert fields_named(absent) == {"summary_evidence_id"}
    # another office's file reads exactly like no file at all
    assert same_but_the_id(refused.json()) == same_but_the_id(absent.json())
    own = upload(client, auth, xincun_office)
    r = client.put(url(xincun_office, LAST), json={"summary_evidence_id": own}, headers=h)
    assert r.status_code == 200 and r.json()["summary_evidence_id"] == own


def test_delete_and_not_found(client, auth, xincun_office) -> None:
    h = auth("xinzheng_county")
    r = client.get(url(xincun_office, LAST), headers=h)
    assert r.status_code == 404 and r.json()["code"] == "work_record_not_found"
    assert client.delete(url(xincun_office, LAST), headers=h).status_code == 404
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    r = client.delete(url(xincun_office, LAST), headers=h)
    assert r.status_code == 204 and r.content == b""
    assert client.get(url(xincun_office, LAST), headers=h).status_code == 404
    assert client.get(url(xincun_office), headers=h).json() == []


@pytest.mark.parametrize(
    ("user", "read", "write"),
    [
        ("xincun_staff", 200, 200),
        ("xinzheng_county", 200, 200),
        ("henan_admin", 200, 200),
        ("zhengzhou_city", 200, 403),
        ("henan_planner", 200, 403),
        ("henan_viewer", 200, 403),
        ("zhongmu_county", 404, 404),  # another county: the office does not exist for it
        ("shanxi_admin", 404, 404),
    ],
)
def test_who_reads_and_keeps_records(client, auth, xincun_office, user, read, write) -> None:
    assert (
        client.put(url(xincun_office, LAST), json=FULL, headers=auth("xincun_staff")).status_code
        == 200
    )
    assert client.get(url(xincun_office, LAST), headers=auth(user)).status_code == read
    assert client.get(url(xincun_office), headers=auth(user)).status_code == read
    assert client.put(url(xincun_office, LAST), json=FULL, headers=auth(user)).status_code == write
    r = client.delete(url(xincun_office, LAST), headers=auth(user))
    assert r.status_code == (204 if write == 200 else write)


def test_a_closed_offices_records_can_no_longer_change(client, auth, xincun_office) -> None:
    h = auth("xinzheng_county")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    r = client.delete(f"/api/v1/offices/{xincun_office}", params={"reason": "撤并"}, headers=h)
    assert r.status_code in (200, 204), r.text
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 409
    assert client.delete(url(xincun_office, LAST), headers=h).status_code == 409
    assert client.get(url(xincun_office, LAST), headers=h).status_code == 200  # kept


def test_changes_are_audited(client, auth, xincun_office) -> None:
    h = auth("xinzheng_county")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    assert client.delete(url(xincun_office, LAST), headers=h).status_code == 204
    r = client.get("/api/v1/audit", params={"region": "410184"}, headers=h)
    events = [e for e in r.json()["items"] if e["entity_type"] == "office_work_records"]
    assert len(events) == 2, events


# -- a region's records of a year ----------------------------------------------------------------


def region_table(client, auth, user: str, **params: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.get("/api/v1/work-records", params=params, headers=auth(user))


def test_region_table_of_a_year(client, auth, xincun_office, xindian_office, shanxi_office) -> None:
    h = auth("xinzheng_county")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    assert client.put(url(xindian_office, YEAR), json=FULL, headers=h).status_code == 200
    sx = client.put(url(shanxi_office, LAST), json=FULL, headers=auth("shanxi_admin"))
    assert sx.status_code == 200
    body = region_table(client, auth, "zhengzhou_city").json()  # the last completed year
    assert (body["region"], body["year"]) == ("4101", LAST)
    (row,) = body["items"]
    assert (row["office_id"], row["division_code"], row["county_name"]) == (
        xincun_office,
        "410184101",
        "新郑市",
    )
    assert row["rates"]["mediation_success_rate"] == 95.0 and row["closed"] is False
    this_year = region_table(client, auth, "xinzheng_county", year=YEAR, region="410184").json()
    assert [r["office_id"] for r in this_year["items"]] == [xindian_office]
    assert region_table(client, auth, "xincun_staff", year=YEAR).json()["items"] == []
    # a region outside the caller's is refused, not emptied
    assert region_table(client, auth, "xinzheng_county", region="410122").status_code == 403
    assert region_table(client, auth, "xinzheng_county", region="4101").status_code == 403
    assert region_table(client, auth, "henan_admin", region="14").status_code == 403


def test_region_table_as_csv_and_xlsx(client, auth, xincun_office) -> None:
    h = auth("xinzheng_county")
    assert client.put(url(xincun_office, LAST), json=FULL, headers=h).status_code == 200
    r = region_table(client, auth, "xinzheng_county", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header, row = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    got = dict(zip(header, row, strict=True))
    assert got["司法所编号"] == str(xincun_office) and got["县(市、区)"] == "新郑市"
    assert got["调解成功件数"] == "19" and got["调解成功率(%)"] == "95.0"
    assert got["所获称号"] == "文明单位、文明司法所" and got["县级司法行政机关年度考核合格"] == "是"
    for name in WORK_COUNTS:
        assert WORK_LABELS_ZH[name] in header
    assert len(WORK_RATES) == sum(h.endswith("(%)") for h in header)
    r = region_table(client, auth, "xinzheng_county", format="xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == tuple(header) and rows[1][0] == xincun_office
