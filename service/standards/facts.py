"""The statement that measures offices and tests them against a standard, for many offices at
once, composed in SQLAlchemy Core over the mapped tables (docs/architecture.md).

`facts` yields one row per active office of the selection with one typed column per measure of
measures.py (NULL = not recorded = "unknown"), each an expression over the sources
(sources.py). A standard's criteria are data, and `statuses`
turns them into one status expression each — the test of criterion i is written out for its
measure and operator, with its threshold, item key(s) and kinds as bound parameters — so an
office is judged against every criterion in one pass over its row, with no per-criterion
dispatch at run time. Reports aggregate `statuses`; nothing is looped over in Python.
Parameters: :t tenant, :region code prefix, :offices (an array of ids, or NULL for all), those
of `evaluation_params` (:year the evaluation date's year, :grace_ends the last appointment day
whose 3 years (to get a degree) are over, :since the date the standard took effect) and those
of `status_params`.

"Every year" (training days, the year's work results) reads the last completed year or the
current one: a staff member's training record and the office's results carry their year, and
either year serves — an inspection in January is judged on last year's record, one in December
on this year's if it is recorded. Older records count as no training, and older results as not
recorded (unknown). (Interpretation, docs/standards.md.)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    CTE,
    Boolean,
    ColumnElement,
    Integer,
    Numeric,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from service.standards.measures import CHECK_ITEMS, COUNT_ITEMS, NUMBER_OPS, SET_OPS, Op
from service.standards.sources import Sources, sources


class _Version(Protocol):
    id: int
    effective_from: date


def evaluation_params(standard: _Version, day: date) -> dict[str, Any]:
    """The parameters that say against what and when offices are measured — one place for
    every path that evaluates (office checklist, region report, workflow steps, maps)."""
    return {
        "std": standard.id,
        "year": day.year,
        "as_of": day,
        "since": standard.effective_from,
        # appointed on or before this day, the 3 years to get the degree are over
        "grace_ends": _years_before(day, 3),
    }


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _texts(*values: str) -> ColumnElement[Any]:
    """A constant text array, bound as one parameter."""
    return literal(list(values), ARRAY(Text))


# 第五篇 第1条: "xx县(市、区)司法局xx(司法所所在地地名,不含乡镇街道字样)司法所" — the form
# service/offices/naming.py expected_name() suggests (the place name without its 乡/镇/街道
# suffix for towns, townships and streets, without 办事处 otherwise); a test holds the two
# equal for every township of the fixtures.
_SUFFIX = "(街道办事处|街道|镇|乡|苏木)$"


def _normal(value: ColumnElement[Any]) -> ColumnElement[str]:
    # NFKC is a keyword of normalize()'s syntax, not a value: it cannot be a bound parameter
    normalized = func.normalize(value, literal_column("NFKC"), type_=Text)
    return func.regexp_replace(normalized, r"\s+", "", "g", type_=Text)


def name_in_current_form(
    name: ColumnElement[Any], kind: ColumnElement[Any], place: Any, county: Any
) -> ColumnElement[bool]:
    """Is the office name `name` in the current form, for a division of kind `kind` named
    `place` in the county `county` (all Core expressions)?"""
    bare = func.btrim(place, type_=Text)
    stem = case(
        (
            and_(
                kind == any_(_texts("town", "township", "street")),
                bare.op("~", is_comparison=True)(_SUFFIX),
                func.char_length(bare) > func.char_length(func.substring(bare, _SUFFIX)),
            ),
            func.regexp_replace(bare, _SUFFIX, "", type_=Text),
        ),
        else_=func.regexp_replace(bare, "办事处$", "", type_=Text),
    )
    expected = county.op("||")("司法局").op("||")(stem).op("||")("司法所")
    # (the plain comparison first: most names match as typed, and normalising costs ~10 µs)
    return or_(name == expected, _normal(name) == _normal(expected))


Fact = Callable[[Sources], ColumnElement[Any]]


def _column(source: str, name: str) -> Fact:
    return lambda x: getattr(x, source).c[name]


def _results(rate: str) -> Fact:
    return lambda x: case((x.f.c.results_current, x.f.c[rate]))


def _party_branch_ok(x: Sources) -> ColumnElement[Any]:
    known, f = x.st.c.party_known, x.f.c
    return case(
        (and_(known, x.st.c.party < 3), true()),
        (and_(known, f.party_organisation.isnot(None)), f.party_organisation == "branch"),
        (and_(known, ~f.party_branch), false()),
    )


def _rooms(x: Sources) -> ColumnElement[Any]:
    rooms = x.f.c.rooms
    office = case(
        (
            rooms.op("&&", is_comparison=True)(_texts("director_office", "staff_office")),
            _texts("general_office"),
        ),
        else_=_texts(),
    )
    return case((rooms.isnot(None), rooms.op("||", return_type=ARRAY(Text))(office)))


# What each measure of measures.py is, over the sources. NULL = not recorded.
FACTS: dict[str, Fact] = {
    "staff_count": _column("sel", "staff_total"),
    "formal_staff_count": _column("sel", "staff_formal"),
    "civil_servant_count": _column("sel", "staff_civil_servants"),
    "all_staff_formal": lambda x: x.sel.c.staff_formal == x.sel.c.staff_total,
    "college_staff_share": _column("st", "college_share"),
    "staff_without_college_after_3_years": _column("st", "uneducated_past_grace"),
    "new_staff_without_college": _column("st", "uneducated_new"),
    "party_member_count": lambda x: case((x.st.c.party_known, x.st.c.party)),
    "party_organisation_ok": lambda x: case(
        (x.st.c.party_known, or_(x.st.c.party < 3, x.f.c.party_branch))
    ),
    # a 党支部 in particular: unknown where only "支部或党小组" was recorded
    "party_branch_ok": _party_branch_ok,
    "director_appointed": _column("st", "has_director"),
    "director_civil_servant": _column("st", "dir_civil_servant"),
    "director_law_college": _column("st", "dir_law_college"),
    "director_not_legal_service_head": _column("st", "dir_not_head"),
    # unknown (not zero) when the director's training was never recorded
    "director_training_days": lambda x: case((x.st.c.has_director, x.st.c.dir_days)),
    "other_staff_min_training_days": _column("st", "other_min"),
    "all_staff_min_training_days": _column("st", "all_min"),
    "name_in_current_form": lambda x: name_in_current_form(
        x.sel.c.name, x.sel.c.kind, x.sel.c.division_name, x.sel.c.county_name
    ),
    "area_m2": _column("sel", "area_m2"),
    "own_premises": _column("f", "own_premises"),
    "separated_from_legal_service": _column("f", "separated_from_legal_service"),
    # an office with a 所长办公室 or 工作人员办公室 has an 办公室
    "rooms": _rooms,
    "certificates": _column("f", "certificates"),
    "displays": _column("f", "displays"),
    "registers": _column("f", "registers"),
    "systems": _column("f", "systems"),
    "equipment": _column("f", "equipment"),  # item → count (> 0: stored maps hold only what exists)
    "vehicles": _column("f", "vehicles"),
    "mediation_success_rate": _results("mediation_success_rate"),
    "key_assistance_rate": _results("key_assistance_rate"),
    "key_placement_rate": _results("key_placement_rate"),
    "reoffending_rate": _results("reoffending_rate"),
    "staff_shortfall": lambda x: func.greatest(x.f.c.staff_establishment - x.sel.c.staff_total, 0),
    "practices": _column("f", "practices"),  # item → yes/no
    "mediation_network_complete": lambda x: x.w.c.mediation_committees >= x.w.c.villages,
    "full_time_mediators": _column("w", "full_time_mediators"),
    "mediator_min_training_days": _column("w", "mediator_min_training_days"),
    "county_assessment_passed": _column("w", "county_assessment_passed"),
    "reports_on_time": _column("w", "reports_on_time"),
    "discipline_violations": _column("w", "discipline_violations"),
}
# the rate each work-record count pair makes (service/records, pages and exports show them)
WORK_RATES = {
    "mediation_success_rate": ("mediation_successes", "mediation_cases"),
    "key_assistance_rate": ("key_assisted", "key_persons"),
    "key_placement_rate": ("key_placed", "key_persons"),
    "reoffending_rate": ("reoffended", "released_persons"),
}


def _work_rate(rate: str, part: str, whole: str) -> Fact:
    """A yearly work record (the latest of the period) replaces the typed rate: the rate is
    its counts' quotient (NULL where the whole is 0 or not recorded — nothing to rate)."""
    typed = FACTS[rate]

    def fact(x: Sources) -> ColumnElement[Any]:
        quotient = literal_column("100.0", Numeric) * x.w.c[part] / func.nullif(x.w.c[whole], 0)
        return case((x.w.c.office_id.isnot(None), func.round(quotient, 2)), else_=typed(x))

    return fact


for _rate, (_part, _whole) in WORK_RATES.items():
    FACTS[_rate] = _work_rate(_rate, _part, _whole)


@lru_cache(maxsize=64)
def facts(roots: tuple[str, ...]) -> CTE:
    """`facts`: one row per active office of the selection (:region, :offices) with its id,
    division code and kind and one column per measure of `roots` (named as the measure; only
    those are computed)."""
    return facts_over(roots, sources())


def facts_over(roots: tuple[str, ...], x: Sources) -> CTE:
    """`facts` over the offices the sources `x` select (sources.sources_of)."""
    return (
        select(
            x.sel.c.id,
            x.sel.c.division_code,
            x.sel.c.kind,
            *(FACTS[root](x).label(root) for root in roots),
        )
        .select_from(
            x.sel.outerjoin(x.st, x.st.c.office_id == x.sel.c.id)
            .outerjoin(x.f, x.f.c.office_id == x.sel.c.id)
            .outerjoin(x.w, x.w.c.office_id == x.sel.c.id)
        )
        .cte("facts")
        .prefix_with("MATERIALIZED")
    )


class Criterion(Protocol):
    measure: str
    op: str
    kinds: list[str] | None
    mandatory: bool


def _checked(criterion: Criterion) -> tuple[str, str]:
    """The measure's root and item key, refused unless they are the vocabulary's (the root
    names a column of `facts`)."""
    root, _, item = criterion.measure.partition(".")
    if root not in FACTS:
        raise ValueError(f"not a measure: {criterion.measure!r}")
    if item and (not item.replace("_", "").isalnum() or not item.isascii()):
        raise ValueError(f"not an item key: {item!r}")
    return root, item


class CriterionShape(NamedTuple):
    """What of a criterion changes the statement (its threshold, item key(s) and kinds are
    values bound to it): the measure's root, whether it names an item, the operator, whether
    it is limited to some kinds of division, and whether it is mandatory."""

    root: str
    item: bool
    op: str
    kinds: bool
    mandatory: bool


CriteriaShape = tuple[CriterionShape, ...]


def shape_of(criteria: Sequence[Criterion]) -> CriteriaShape:
    """The shape of a standard's criteria, each checked against the vocabulary: statements
    are built once per shape and kept (building one per request cost more than running it
    for a county)."""
    shape = []
    for c in criteria:
        root, item = _checked(c)
        shape.append(CriterionShape(root, bool(item), c.op, bool(c.kinds), c.mandatory))
    return tuple(shape)


def _value(f: CTE, shape: CriterionShape, i: int) -> ColumnElement[Any]:
    """The measured value of criterion i over `facts f` (a count item reads 0 when the
    office recorded its equipment without it); the item key is the parameter :c{i}_item."""
    root = shape.root
    if not shape.item:
        return f.c[root]
    entry = f.c[root].op("->>", return_type=Text)(bindparam(f"c{i}_item", type_=Text))
    if root in CHECK_ITEMS:  # unknown where the item is not recorded
        return cast(entry, Boolean)
    return case((f.c[root].isnot(None), func.coalesce(cast(entry, Numeric), 0)))


_COMPARE = {
    Op.ge: operator.ge,
    Op.gt: operator.gt,
    Op.le: operator.le,
    Op.lt: operator.lt,
    Op.eq: operator.eq,
}


def _status(f: CTE, shape: CriterionShape, i: int) -> ColumnElement[Any]:
    """The status of criterion i for a row of `facts f`: 1 pass, 0 fail, -1 unknown (its data
    not recorded), NULL not applicable to the division's kind. Thresholds, item keys and kinds
    are bound parameters (`status_params`)."""
    value = _value(f, shape, i)
    op = Op(shape.op)
    if op in NUMBER_OPS:
        test = _COMPARE[op](value, bindparam(f"c{i}_thr", type_=Numeric))
    elif op is Op.is_true:
        test = value
    elif op is Op.is_false:
        test = ~value
    else:
        items = bindparam(f"c{i}_items", type_=ARRAY(Text))
        if shape.root in COUNT_ITEMS:  # keys of the item → count map
            symbol = "?&" if op is Op.has_all else "?|"
        else:
            symbol = "@>" if op is Op.has_all else "&&"
        test = value.op(symbol, is_comparison=True)(items)
    status = case({true(): 1, false(): 0}, value=test, else_=-1)
    if shape.kinds:
        kinds = bindparam(f"c{i}_kinds", type_=ARRAY(Text))
        status = case((f.c.kind == any_(kinds), status))
    return status


class _Bound(Criterion, Protocol):
    threshold: Decimal | None
    item_values: list[str] | None


def status_params(criteria: Sequence[_Bound]) -> dict[str, Any]:
    """The values of the criteria's parameters: thresholds, item keys, item lists, kinds."""
    out: dict[str, Any] = {}
    for i, c in enumerate(criteria):
        _, item = _checked(c)
        if item:
            out[f"c{i}_item"] = item
        if Op(c.op) in NUMBER_OPS:
            out[f"c{i}_thr"] = c.threshold
        elif Op(c.op) in SET_OPS:
            out[f"c{i}_items"] = list(c.item_values or [])
        if c.kinds:
            out[f"c{i}_kinds"] = list(c.kinds)
    return out


@lru_cache(maxsize=64)
def statuses(shape: CriteriaShape, *, with_values: bool = False) -> CTE:
    """`statuses`: per office id, division_code and s0 … sN (the status of each criterion,
    see `_status`); with `with_values` also v0 … vN, the measured values (for an office's
    checklist). Built once per shape of criteria (`shape_of`) and kept."""
    return statuses_over(shape, sources(), with_values=with_values)


def statuses_over(shape: CriteriaShape, x: Sources, *, with_values: bool = False) -> CTE:
    """`statuses` over the offices the sources `x` select (sources.sources_of)."""
    if not shape:
        raise ValueError("a standard without criteria cannot be evaluated")
    roots = tuple(sorted({c.root for c in shape}))
    f = facts(roots) if x is sources() else facts_over(roots, x)
    columns = [_status(f, c, i).label(f"s{i}") for i, c in enumerate(shape)]
    if with_values:
        columns += [_value(f, c, i).label(f"v{i}") for i, c in enumerate(shape)]
    return select(f.c.id, f.c.division_code, *columns).cte("statuses").prefix_with("MATERIALIZED")


def tallies(
    shape: CriteriaShape, s: CTE
) -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[bool]]:
    """Columns over a row of `statuses s`: `passed`, `applicable` (criteria that apply to the
    office) and `mandatory_met` (every mandatory criterion that applies passes)."""
    cols = [s.c[f"s{i}"] for i in range(len(shape))]
    passed = sum(
        (func.coalesce(cast(col == 1, Integer), 0) for col in cols[1:]),
        start=func.coalesce(cast(cols[0] == 1, Integer), 0),
    )
    applicable = func.num_nonnulls(*cols, type_=Integer)
    met = and_(
        true(),
        *(func.coalesce(col, 1) == 1 for col, c in zip(cols, shape, strict=True) if c.mandatory),
    )
    return passed.label("passed"), applicable.label("applicable"), met.label("mandatory_met")
