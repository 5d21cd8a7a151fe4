"""Offices that just meet, or just miss, one criterion of a seed standard, and the 河南 test
tenant's published versions (tests/standards)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from office_records import OfficeSpec, compliance, older_office_name, register

from service.standards.definition import Criterion
from service.standards.facts import WORK_RATES
from service.standards.measures import Op

TOWN = "410184102"  # 辛店镇 (kind town)
STREET = "410184001"  # 新建路街道 (kind street)
COUNTY = "xinzheng_county"
ADMIN = "henan_admin"
PUBLISHED = {"henan-2004": "1", "henan-2009": "2"}  # versions the 河南 tenant starts with


def _num(value: Decimal | None) -> float:
    assert value is not None
    return float(value)


# measures that count people, with a join date that counts and one that does not
PEOPLE = {
    "staff_without_college_after_3_years": (
        (date.today() - timedelta(days=3 * 366)).isoformat(),
        (date.today() - timedelta(days=2 * 365)).isoformat(),
    ),
    "new_staff_without_college": ("2001-01-01", "1999-12-31"),
}


def _number_at(c: Criterion, passing: bool) -> float:
    """A value just meeting (or just missing) the criterion's threshold."""
    v = _num(c.value)
    counted = (
        c.measure.endswith(("count", "days", "mediators", "shortfall"))
        or c.measure in PEOPLE
        or "." in c.measure
    )
    step = 1 if counted else 0.01
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
    elif m in PEOPLE:
        # n staff without the degree, appointed where the criterion counts them (more than 3
        # years ago; after the standard took effect, 2000-01-01 in these tests); one more such
        # member, appointed where it does not count, every time
        counted_on, ignored_on = PEOPLE[m]
        n = int(_number_at(c, passing))
        for member in others[:n]:
            member.update(education="below_college", joined_on=counted_on)
        others[-1].update(education="below_college", joined_on=ignored_on)
    elif m == "party_organisation_ok":
        for member in staff[:3]:
            member["party_member"] = True
        fac["party_organisation"] = "group" if passing else "none"  # 支部或党小组
    elif m == "name_in_current_form":
        if not passing:
            spec.name = older_office_name(township_for(c))
    elif m == "party_branch_ok":
        for member in staff[:3]:
            member["party_member"] = True
        fac["party_organisation"] = "branch" if passing else "group"
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
    elif m.endswith("_rate"):  # from the work record's counts: part / 10,000 (2 decimals)
        part, whole = WORK_RATES[m]
        assert spec.work_record is not None
        spec.work_record[whole] = 10_000
        spec.work_record[part] = round(_number_at(c, passing) * 100)
    elif m.startswith("practices."):
        fac["practices"][m.split(".")[1]] = passing
    elif m == "staff_shortfall":  # 编制数 against the 5 staff of the spec
        fac["staff_establishment"] = len(staff) + int(_number_at(c, passing))
    elif m == "mediation_network_complete":  # a committee in every village, or one short
        assert spec.work_record is not None
        spec.work_record["mediation_committees"] = spec.work_record["villages"] - (not passing)
    elif m in ("full_time_mediators", "mediator_min_training_days"):
        assert spec.work_record is not None
        spec.work_record[m] = int(_number_at(c, passing))
    elif m in ("county_assessment_passed", "reports_on_time"):
        assert spec.work_record is not None
        spec.work_record[m] = passing
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


class client_transaction:
    """Run a block in a savepoint of the test's transaction, undone afterwards, so that one
    test can register several offices in the same township."""

    def __init__(self, client: Any) -> None:
        self.db = client.app.state.db

    def __enter__(self) -> None:
        self.savepoint = self.db.connection.begin_nested()

    def __exit__(self, *exc: object) -> None:
        self.savepoint.rollback()


def report_for(
    client: Any, auth: Any, spec: OfficeSpec, version: str, township: str = TOWN
) -> dict[str, Any]:
    """The compliance report, under standard `version`, of an office of `spec` registered in
    `township` for the moment (undone afterwards, so that the township takes the next one)."""
    with client_transaction(client):
        office = register(client, auth(COUNTY), township, spec)
        return compliance(client, auth(COUNTY), office, version)
