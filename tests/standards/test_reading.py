"""The seed standards read as Chinese legal drafting reads them (issue 16).

以上/以下 and their kin include the number itself (民法典 第1259条, 刑法 第99条): "3名以上" is
`>= 3`, "控制在3%以下" is `<= 3`. The expected test is taken from the criterion's own text, not
from its encoding, so an encoding that reads 以下 as `<` fails here; and every such criterion is
asked through HTTP at exactly its number, where the office must pass.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from criteria_cases import (
    PUBLISHED,
    publish,
    report_for,
    township_for,
    variant,
)
from office_records import OfficeSpec, status_of

from service.standards.definition import SEED_CODES, Criterion, seed
from service.standards.facts import WORK_RATES
from service.standards.measures import NUMBER_OPS, Op

AT_LEAST = ("以上", "不少于", "不低于", "至少", "达到")  # the number meets the requirement
AT_MOST = ("以下", "以内", "不超过", "不高于")
NUMERALS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMBER = r"(\d+(?:\.\d+)?|[一二两三四五六七八九])"
_UNIT = r"\s*(?:%|名|人|天|台|个|辆|平方米|平米)?\s*"
_AFTER = re.compile(_NUMBER + _UNIT + "(" + "|".join(AT_LEAST + AT_MOST) + ")")
_BEFORE = re.compile("(" + "|".join(AT_LEAST + AT_MOST) + ")" + r"\s*" + _NUMBER)


def _reading(text: str) -> tuple[Op, Decimal] | None:
    """The test and number the text's own words give ("3%以下" → <= 3, "不少于120平方米" →
    >= 120), if it states exactly one; None when no word qualifies a number ("大专以上学历")."""
    found = {(m.group(2), m.group(1)) for m in _AFTER.finditer(text)}
    found |= {(m.group(1), m.group(2)) for m in _BEFORE.finditer(text)}
    if len(found) != 1:
        return None
    ((word, number),) = found
    value = Decimal(NUMERALS[number]) if number in NUMERALS else Decimal(number)
    return (Op.le if word in AT_MOST else Op.ge), value


NUMBERED = [
    (code, c)
    for code in SEED_CODES
    for c in seed(code).criteria
    if c.op in NUMBER_OPS and _reading(c.text) is not None
]


def test_every_inclusive_word_is_read_inclusively() -> None:
    wrong = [
        (c.key, c.text, c.op.value, c.value)
        for _, c in NUMBERED
        if (c.op, c.value) != _reading(c.text)
    ]
    assert wrong == []
    # the check covers both directions, not a vacuous set
    assert {_reading(c.text)[0] for _, c in NUMBERED} == {Op.ge, Op.le}  # type: ignore[index]
    assert len(NUMBERED) >= 15


@pytest.mark.parametrize(("code", "criterion"), NUMBERED, ids=[c.key for _, c in NUMBERED])
def test_the_exact_number_meets_the_criterion(
    client: Any, auth: Any, code: str, criterion: Criterion
) -> None:
    """An office recording exactly the number the text names passes (test_criteria.py has
    the step beyond it fail)."""
    version = publish(client, auth, code)
    spec = variant(criterion, passing=True)
    report = report_for(client, auth, spec, version, township_for(criterion))
    assert status_of(report, criterion.key) == "pass"
    assert criterion.value is not None
    assert _recorded(spec, criterion) == criterion.value


def _recorded(spec: OfficeSpec, c: Criterion) -> Decimal:
    """The number `variant` recorded for the criterion's measure (to show the pass above was
    at the exact number, not somewhere inside)."""
    fac = spec.facilities or {}
    m = c.measure
    if m == "staff_count":
        return Decimal(len(spec.staff))
    if m == "civil_servant_count":
        return Decimal(sum(1 for s in spec.staff if s.get("civil_servant")))
    if m == "area_m2":
        return Decimal(str(spec.area_m2))
    if m == "director_training_days":
        return Decimal(spec.staff[0]["training_days"])
    if m in ("other_staff_min_training_days", "all_staff_min_training_days"):
        return Decimal(min(s["training_days"] for s in spec.staff))
    if m.startswith("equipment."):
        return Decimal(fac["equipment"][m.split(".")[1]])
    if m.endswith("_rate"):  # from the work record's counts (criteria_cases.variant)
        part, whole = WORK_RATES[m]
        record = spec.work_record or {}
        return Decimal(100) * record[part] / record[whole]
    if m in ("full_time_mediators", "mediator_min_training_days"):
        return Decimal((spec.work_record or {})[m])
    if m == "college_staff_share":
        share = sum(1 for s in spec.staff if s["education"] != "below_college") / len(spec.staff)
        return Decimal(round(share * 100))
    raise AssertionError(f"no reading of {m}")


def test_re_offending_at_exactly_three_percent_passes(client: Any, auth: Any) -> None:
    """第五篇 第17条 "控制在3%以下": 3.00 % passes (it was refused as `< 3`), 3.01 % fails —
    as typed (no work record) and as counted (3 of 100, 301 of 10,000 released persons)."""
    for rate, status in ((3, "pass"), (3.01, "fail"), (0, "pass")):
        spec = OfficeSpec(work_record=None)
        assert spec.facilities is not None
        spec.facilities["reoffending_rate"] = rate
        report = report_for(client, auth, spec, PUBLISHED["henan-2009"])
        assert status_of(report, "HN2009-REOFFENDING") == status, rate
    for reoffended, released, status in ((3, 100, "pass"), (301, 10_000, "fail")):
        spec = OfficeSpec()
        assert spec.work_record is not None
        spec.work_record.update(reoffended=reoffended, released_persons=released)
        report = report_for(client, auth, spec, PUBLISHED["henan-2009"])
        assert status_of(report, "HN2009-REOFFENDING") == status, (reoffended, released)


def test_a_car_or_a_motorcycle_is_a_vehicle_in_henan_2009(client: Any, auth: Any) -> None:
    """第五篇 第29条 "汽车、摩托车等业务用车": either serves; neither does not."""
    for vehicles, status in (
        ({"motorcycle": 1}, "pass"),
        ({"car": 1}, "pass"),
        ({"car": 1, "motorcycle": 2}, "pass"),
        ({}, "fail"),
    ):
        spec = OfficeSpec()
        assert spec.facilities is not None
        spec.facilities["vehicles"] = vehicles
        report = report_for(client, auth, spec, PUBLISHED["henan-2009"])
        assert status_of(report, "HN2009-VEHICLES") == status, vehicles
