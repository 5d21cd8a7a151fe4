"""Every criterion of every seed standard, through HTTP on real PostGIS: an office recording
the least that meets it passes it, and the same office with one fact short of it fails it.

The office records everything (office_records.OfficeSpec); `variant` changes only the fact the
criterion reads, to exactly the threshold (pass) or just past it (fail). The thresholds that
differ by division kind (河南 2004: township ≥120 m², street ≥80 m²) are tested by value below.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from office_records import (
    OfficeSpec,
    compliance,
    register,
    status_of,
)

from service.standards.definition import SEED_CODES, Criterion, seed
from service.standards.measures import Op

TOWN = "410184102"  # 辛店镇 (kind town)
STREET = "410184001"  # 新建路街道 (kind street)
COUNTY = "xinzheng_county"
ADMIN = "henan_admin"
PUBLISHED = {"henan-2004": "1", "henan-2009": "2"}  # versions the 河南 tenant starts with

CASES = [(code, c) for code in SEED_CODES for c in seed(code).criteria]


def _num(value: Decimal | None) -> float:
    assert value is not None
    return float(value)


def _number_at(c: Criterion, passing: bool) -> float:
    """A value just meeting (or just missing) the criterion's threshold."""
    v = _num(c.value)
    step = 1 if c.measure.endswith(("count", "days")) or "." in c.measure else 0.01
    if c.measure == "area_m2":
        step = 0.1  # areas are recorded to 0.1 m²
    if c.op == Op.ge:
        return v if passing else v - step
    if c.op == Op.gt:
        return v + step if passing else v
    if c.op == Op.le:
        return v if passing else v + step
    if c.op == Op.lt:
        return v - step if passing else v
    return v if passing else v + step


def _set_variant(c: Criterion, passing: bool) -> list[str]:
    assert c.values
    if c.op == Op.has_all:
        return list(c.values) if passing else list(c.values[1:])
    return [c.values[0]] if passing else []


def variant(c: Criterion, passing: bool) -> OfficeSpec:
    spec = OfficeSpec()
    fac = spec.facilities
    assert fac is not None
    staff = spec.staff
    director, others = staff[0], staff[1:]
    m = c.measure
    if m == "staff_count":
        n = int(_number_at(c, passing))
        spec.staff = staff[: max(n, 1)] if n >= 1 else []
        if n > len(staff):
            spec.staff = staff + [dict(others[0]) for _ in range(n - len(staff))]
    elif m in ("formal_staff_count", "civil_servant_count"):
        n = int(_number_at(c, passing))
        flag = "formal" if m.startswith("formal") else "civil_servant"
        for i, member in enumerate(staff):
            member[flag] = i < n
    elif m == "all_staff_formal":
        others[-1]["formal"] = passing
    elif m == "college_staff_share":
        if not passing:
            others[-1]["education"] = "below_college"
    elif m == "party_organisation_ok":
        for member in staff[:3]:
            member["party_member"] = True
        fac["party_branch"] = passing
    elif m == "director_appointed":
        if not passing:
            director["position"] = "staff"
    elif m == "director_civil_servant":
        director["civil_servant"] = passing
    elif m == "director_law_college":
        director["law_major"] = passing
    elif m == "director_not_legal_service_head":
        director["heads_legal_service"] = not passing
    elif m == "director_training_days":
        director["training_days"] = int(_number_at(c, passing))
    elif m == "other_staff_min_training_days":
        others[-1]["training_days"] = int(_number_at(c, passing))
    elif m == "all_staff_min_training_days":
        director["training_days"] = int(_number_at(c, passing))
    elif m == "area_m2":
        spec.area_m2 = _number_at(c, passing)
    elif m in ("own_premises", "separated_from_legal_service"):
        fac[m] = passing if c.op == Op.is_true else not passing
    elif m in ("rooms", "certificates", "displays", "registers", "systems"):
        keep = _set_variant(c, passing)
        dropped = set(c.values or []) - set(keep)
        if m == "rooms" and "general_office" in dropped:
            dropped |= {"director_office", "staff_office"}  # each counts as an office
        fac[m] = keep if c.op == Op.has_any else sorted(set(fac[m]) - dropped)
    elif m in ("equipment", "vehicles"):
        keep = set(_set_variant(c, passing))
        fac[m] = {k: n for k, n in fac[m].items() if k in keep or k not in (c.values or [])}
    elif m.startswith(("equipment.", "vehicles.")):
        root, item = m.split(".")
        fac[root][item] = int(_number_at(c, passing))
    elif m.endswith("_rate"):
        fac[m] = _number_at(c, passing)
    else:
        raise AssertionError(f"no variant for measure {m}")
    return spec


def township_for(c: Criterion) -> str:
    return STREET if c.kinds == ["street"] else TOWN


def publish(client: Any, auth: Any, code: str) -> str:
    """The version to ask for: 河南's own seeds are published; others are published here."""
    if code in PUBLISHED:
        return PUBLISHED[code]
    r = client.post(
        "/api/v1/standards",
        json={"seed": code, "effective_from": "2000-01-01", "replace_targets": False},
        headers=auth(ADMIN),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["version"])


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
        with client_transaction(client):
            office = register(client, auth(COUNTY), township, spec)
            report = compliance(client, auth(COUNTY), office, "1")
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
        client, auth(COUNTY), TOWN, OfficeSpec(area_m2=None, facilities=None, staff=[])
    )
    report = compliance(client, auth(COUNTY), office, "2")
    assert report["passed"] == 0 and report["failed"] == 0
    assert report["unknown"] == len(report["items"])
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


class client_transaction:
    """Run a block in a savepoint of the test's transaction, undone afterwards, so that one
    test can register several offices in the same township."""

    def __init__(self, client: Any) -> None:
        self.db = client.app.state.db

    def __enter__(self) -> None:
        self.savepoint = self.db.connection.begin_nested()

    def __exit__(self, *exc: object) -> None:
        self.savepoint.rollback()
