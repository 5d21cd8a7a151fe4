"""The offices collection's compliance score and mandatory_met: the numbers of the office's
own checklist (GET /api/v1/offices/{id}/compliance) at the date `datetime` asks, in a page,
in one feature and on its HTML page; null where no standard is in force. Measured for the
page's offices only, so no filter, sort or tile reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from criteria_cases import COUNTY, STREET, TOWN
from office_records import OfficeSpec, full_facilities, register

ITEMS = "/ogc/collections/offices/items"
# what each office records: everything; nothing; a smaller office lacking registers; a street
SPECS = {
    TOWN: OfficeSpec(),
    "410184103": OfficeSpec(area_m2=None, facilities=None, staff=[], work_record=None),
    "410184104": OfficeSpec(area_m2=100),
    STREET: OfficeSpec(area_m2=90),
}
SPECS["410184104"].facilities["registers"] = ["dispute_ledger"]  # type: ignore[index]


@pytest.fixture
def recorded(client, auth) -> list[int]:  # type: ignore[no-untyped-def]
    """Offices of 新郑 (opened 2000-01-01) with the records of SPECS."""
    return [register(client, auth(COUNTY), code, spec) for code, spec in SPECS.items()]


def checklist(client, auth, office_id: int, day: str | None) -> Any:  # type: ignore[no-untyped-def]
    params = {"as_of": day} if day else {}
    r = client.get(f"/api/v1/offices/{office_id}/compliance", params=params, headers=auth(COUNTY))
    return r.json() if r.status_code == 200 else r.json()["code"]


@pytest.mark.parametrize(
    ("datetime", "day"),
    [(None, None), ("2008-01-01", "2008-01-01"), ("../2009-06-30", "2009-06-30")],
    ids=["today", "henan-2004", "interval"],
)
def test_the_score_is_the_checklists(client, auth, recorded, datetime, day) -> None:  # type: ignore[no-untyped-def]
    params = {"datetime": datetime} if datetime else {}
    page = client.get(ITEMS, params={**params, "limit": 100}, headers=auth(COUNTY)).json()
    listed = {int(f["id"]): f["properties"] for f in page["features"]}
    scores = set()
    for office_id in recorded:
        one = client.get(f"{ITEMS}/{office_id}", params=params, headers=auth(COUNTY))
        props = one.json()["properties"]
        report = checklist(client, auth, office_id, day)
        assert report["score"] is not None
        assert props["compliance_score"] == listed[office_id]["compliance_score"] == report["score"]
        assert props["mandatory_met"] is listed[office_id]["mandatory_met"]
        assert props["mandatory_met"] is report["mandatory_met"]
        scores.add(report["score"])
    assert len(scores) >= 3  # (offices that score differently)


def test_no_standard_in_force_no_score(client, auth, recorded) -> None:  # type: ignore[no-untyped-def]
    """河南's first standard took effect 2004-07-22: before that the checklist has none."""
    office_id = recorded[0]
    assert checklist(client, auth, office_id, "2003-06-01") == "standard_not_found"
    one = client.get(
        f"{ITEMS}/{office_id}", params={"datetime": "2003-06-01"}, headers=auth(COUNTY)
    )
    props = one.json()["properties"]
    assert props["compliance_score"] is None and props["mandatory_met"] is None
    assert props["name"]  # the rest as always


def test_the_score_is_shown_not_queried(client, auth, recorded) -> None:  # type: ignore[no-untyped-def]
    who = auth(COUNTY)
    queryables = client.get("/ogc/collections/offices/queryables", headers=who).json()
    assert "staff_total" in queryables["properties"]
    assert not {"compliance_score", "mandatory_met"} & queryables["properties"].keys()
    for params, field in (
        ({"sortby": "-compliance_score"}, "sortby"),
        ({"filter": "compliance_score > 50"}, "filter"),
    ):
        r = client.get(ITEMS, params=params, headers=who)
        assert r.status_code == 400 and field in r.json()["message"], r.text
    tile = "/ogc/collections/offices/tiles/WebMercatorQuad/8/103/210"
    r = client.get(tile, params={"properties": "compliance_score"}, headers=who)
    assert r.status_code == 400 and "properties" in r.json()["message"]
    # asked for alone, it is all a feature carries
    r = client.get(ITEMS, params={"properties": "compliance_score"}, headers=who)
    assert {tuple(f["properties"]) for f in r.json()["features"]} == {("compliance_score",)}


def test_the_html_page_shows_the_score(client, auth, recorded) -> None:  # type: ignore[no-untyped-def]
    office_id = recorded[0]
    r = client.get(f"{ITEMS}/{office_id}", params={"f": "html"}, headers=auth(COUNTY))
    assert r.status_code == 200 and "规范化达标得分" in r.text and "必备项全部达标" in r.text
    score = checklist(client, auth, office_id, None)["score"]
    assert f"<th>规范化达标得分</th><td>{score:g}</td>" in r.text


def test_the_etag_follows_the_score_and_still_guards_writes(client, auth) -> None:  # type: ignore[no-untyped-def]
    """The score changes with the office's other records, not with its version: a feature
    read before its facilities were recorded is not answered 304 after them. Its new ETag
    still serves If-Match (the version it names is current); the old one is stale once a
    write moved the version."""
    office_id = register(client, auth(COUNTY), "410184103", SPECS["410184103"])  # no records
    url, record = f"{ITEMS}/{office_id}", f"/api/v1/offices/{office_id}"
    before = client.get(url, headers=auth(COUNTY))
    version = client.get(record, headers=auth(COUNTY)).headers["etag"]
    r = client.put(f"{record}/facilities", json=full_facilities(), headers=auth(COUNTY))
    assert r.status_code == 200, r.text
    assert client.get(record, headers=auth(COUNTY)).headers["etag"] == version  # not moved
    after = client.get(url, headers={**auth(COUNTY), "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    scores = [x.json()["properties"]["compliance_score"] for x in (before, after)]
    assert scores[0] != scores[1]
    assert after.headers["etag"] != before.headers["etag"]
    again = client.get(url, headers={**auth(COUNTY), "If-None-Match": after.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == after.headers["etag"]
    patch = json.dumps({"properties": {"phone": "0371-62600000"}})
    headers = {**auth(COUNTY), "Content-Type": "application/merge-patch+json"}
    for tag, status in ((after.headers["etag"], 200), (before.headers["etag"], 412)):
        r = client.patch(url, content=patch, headers={**headers, "If-Match": tag})
        assert r.status_code == status, r.text
