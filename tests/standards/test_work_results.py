"""The work-result criteria read the yearly work record's counts (第四篇), not a typed rate:
19 successes of 20 cases is 95 % and meets 河南 2009's "调解成功率95%以上", 9,499 of 10,000
misses it, and no case at all is nothing to rate (unknown) — and the checklist measures the
same rate the work-record API shows."""

from __future__ import annotations

from typing import Any

import pytest
from criteria_cases import COUNTY, PUBLISHED, TOWN
from office_records import YEAR, OfficeSpec, compliance, register, status_of

HENAN_2009 = PUBLISHED["henan-2009"]
KEY = "HN2009-MEDIATION-RATE"


def item(report: dict[str, Any], key: str) -> dict[str, Any]:
    (found,) = [i for i in report["items"] if i["key"] == key]
    return found


@pytest.mark.parametrize(
    ("successes", "cases", "rate", "status"),
    [
        (19, 20, 95.0, "pass"),
        (9499, 10000, 94.99, "fail"),
        (1899, 2000, 94.95, "fail"),
        (2, 3, 66.67, "fail"),
        (0, 0, None, "unknown"),  # no case: nothing to rate, whatever rate was typed
    ],
)
def test_last_years_counts_decide_the_mediation_rate(
    client, auth, successes: int, cases: int, rate: float | None, status: str
) -> None:
    office = register(client, auth(COUNTY), TOWN, OfficeSpec(work_record=None))  # typed: 98
    r = client.put(
        f"/api/v1/offices/{office}/work-records/{YEAR - 1}",
        json={"mediation_cases": cases, "mediation_successes": successes},
        headers=auth(COUNTY),
    )
    assert r.status_code == 200, r.text
    assert r.json()["rates"]["mediation_success_rate"] == rate
    report = compliance(client, auth(COUNTY), office, HENAN_2009)
    assert status_of(report, KEY) == status
    measured = item(report, KEY)["measured"]
    assert (None if measured is None else float(measured)) == rate


def test_this_years_record_is_read_before_last_years(client, auth) -> None:
    office = register(client, auth(COUNTY), TOWN, OfficeSpec(work_record=None))
    url = f"/api/v1/offices/{office}/work-records"
    for year, successes in ((YEAR - 1, 19), (YEAR, 18)):
        body = {"mediation_cases": 20, "mediation_successes": successes}
        assert client.put(f"{url}/{year}", json=body, headers=auth(COUNTY)).status_code == 200
    report = compliance(client, auth(COUNTY), office, HENAN_2009)
    assert status_of(report, KEY) == "fail"  # this year's 90 %
    assert client.delete(f"{url}/{YEAR}", headers=auth(COUNTY)).status_code == 204
    assert status_of(compliance(client, auth(COUNTY), office, HENAN_2009), KEY) == "pass"


def test_a_record_two_years_old_is_not_this_periods(client, auth) -> None:
    spec = OfficeSpec(work_record=None)
    assert spec.facilities is not None
    spec.facilities["results_year"] = YEAR - 2  # the typed rates are as old
    office = register(client, auth(COUNTY), TOWN, spec)
    body = {"mediation_cases": 20, "mediation_successes": 20}
    r = client.put(
        f"/api/v1/offices/{office}/work-records/{YEAR - 2}", json=body, headers=auth(COUNTY)
    )
    assert r.status_code == 200
    report = compliance(client, auth(COUNTY), office, HENAN_2009)
    assert status_of(report, KEY) == "unknown"
