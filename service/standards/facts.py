"""The SQL that measures offices and tests them against a standard, for many offices at once.

`facts_sql` yields one row per active office of the selection with one typed column per
measure of measures.py (NULL = not recorded = "unknown"). A standard's criteria are data, and
`statuses_sql` turns them into one status expression each — the test of criterion i is
written out for its measure and operator, with its threshold, item keys and kinds as bound
parameters — so an office is judged against every criterion in one pass over its row, with
no per-criterion dispatch at run time. Reports aggregate `statuses`; nothing is looped over in
Python. Parameters: :t tenant, :region code prefix, :offices (an array of ids, or NULL for all), those of
`evaluation_params` (:year the evaluation date's year, :grace_ends the last appointment day
whose 3 years (to get a degree) are over, :as_of the evaluation date, :since the date the
standard took effect) and those of `status_params`.

"Every year" (training days, the year's work results) reads the last completed year or the
current one: a staff member's training record and the office's results carry their year, and
either year serves — an inspection in January is judged on last year's record, one in December
on this year's if it is recorded. Older records count as no training, and older results as not
recorded (unknown). (Interpretation, docs/standards.md.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from service.standards.measures import CHECK_ITEMS, COUNT_ITEMS, NUMBER_OPS, SET_OPS, Op


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


# 第五篇 第1条: "xx县(市、区)司法局xx(司法所所在地地名,不含乡镇街道字样)司法所" — the form
# service/offices/naming.py expected_name() suggests (the place name without its 乡/镇/街道
# suffix for towns, townships and streets, without 办事处 otherwise); a test holds the two
# equal for every township of the fixtures.
_SUFFIX = "'(街道办事处|街道|镇|乡|苏木)$'"
_NORMAL = "regexp_replace(normalize({}, NFKC), '\\s+', '', 'g')"


def name_in_current_form(name: str, kind: str, place: str, county: str) -> str:
    """SQL: is the office name `name` in the current form, for a division of kind `kind`
    named `place` in the county `county` (all SQL expressions)?"""
    bare = f"btrim({place})"
    stem = f"""CASE WHEN {kind} IN ('town', 'township', 'street')
                     AND {bare} ~ {_SUFFIX}
                     AND char_length({bare}) > char_length(substring({bare} from {_SUFFIX}))
                THEN regexp_replace({bare}, {_SUFFIX}, '')
                ELSE regexp_replace({bare}, '办事处$', '') END"""
    expected = f"{county} || '司法局' || {stem} || '司法所'"
    # (the plain comparison first: most names match as typed, and normalising costs ~10 µs)
    return f"({name} = {expected} OR {_NORMAL.format(name)} = {_NORMAL.format(expected)})"


# What each measure of measures.py is, over the joins of FACTS: `sel` (the office and its
# division), `st` (its staff, aggregated), `f` (its facilities record). NULL = not recorded.
_RESULTS = "CASE WHEN f.results_current THEN f.{} END"
FACT_SQL: dict[str, str] = {
    "staff_count": "sel.staff_total",
    "formal_staff_count": "sel.staff_formal",
    "civil_servant_count": "sel.staff_civil_servants",
    "all_staff_formal": "sel.staff_formal = sel.staff_total",
    "college_staff_share": "st.college_share",
    "staff_without_college_after_3_years": "st.uneducated_past_grace",
    "new_staff_without_college": "st.uneducated_new",
    "party_member_count": "CASE WHEN st.party_known THEN st.party END",
    "party_organisation_ok": "CASE WHEN st.party_known THEN st.party < 3 OR f.party_branch END",
    # a 党支部 in particular: unknown where only "支部或党小组" was recorded
    "party_branch_ok": """CASE WHEN st.party_known AND st.party < 3 THEN true
                               WHEN st.party_known AND f.party_organisation IS NOT NULL
                                 THEN f.party_organisation = 'branch'
                               WHEN st.party_known AND NOT f.party_branch THEN false END""",
    "director_appointed": "st.has_director",
    "director_civil_servant": "st.dir_civil_servant",
    "director_law_college": "st.dir_law_college",
    "director_not_legal_service_head": "st.dir_not_head",
    # unknown (not zero) when the director's training was never recorded
    "director_training_days": "CASE WHEN st.has_director THEN st.dir_days END",
    "other_staff_min_training_days": "st.other_min",
    "all_staff_min_training_days": "st.all_min",
    "name_in_current_form": name_in_current_form(
        "sel.name", "sel.kind", "sel.division_name", "sel.county_name"
    ),
    "area_m2": "sel.area_m2",
    "own_premises": "f.own_premises",
    "separated_from_legal_service": "f.separated_from_legal_service",
    # an office with a 所长办公室 or 工作人员办公室 has an 办公室
    "rooms": """CASE WHEN f.rooms IS NOT NULL THEN
                  f.rooms || CASE WHEN f.rooms && ARRAY['director_office', 'staff_office']
                                  THEN ARRAY['general_office'] ELSE '{}'::text[] END END""",
    "certificates": "f.certificates",
    "displays": "f.displays",
    "registers": "f.registers",
    "systems": "f.systems",
    "equipment": "f.equipment",  # item → count (> 0: stored maps hold only what exists)
    "vehicles": "f.vehicles",
    "mediation_success_rate": _RESULTS.format("mediation_success_rate"),
    "key_assistance_rate": _RESULTS.format("key_assistance_rate"),
    "key_placement_rate": _RESULTS.format("key_placement_rate"),
    "reoffending_rate": _RESULTS.format("reoffending_rate"),
    "staff_shortfall": "greatest(f.staff_establishment - sel.staff_total, 0)",
    "practices": "f.practices",  # item → yes/no
    "mediation_network_complete": "w.mediation_committees >= w.villages",
    "full_time_mediators": "w.full_time_mediators",
    "mediator_min_training_days": "w.mediator_min_training_days",
    "county_assessment_passed": "w.county_assessment_passed",
    "reports_on_time": "w.reports_on_time",
    "discipline_violations": "w.discipline_violations",
}
# the rate each work-record count pair makes (service/records, pages and exports show them)
WORK_RATES = {
    "mediation_success_rate": ("mediation_successes", "mediation_cases"),
    "key_assistance_rate": ("key_assisted", "key_persons"),
    "key_placement_rate": ("key_placed", "key_persons"),
    "reoffending_rate": ("reoffended", "released_persons"),
}
# A yearly work record (the latest of the period) replaces the typed rates: each rate is its
# counts' quotient (NULL where the whole is 0 or not recorded — nothing to rate)
for _rate, (_part, _whole) in WORK_RATES.items():
    FACT_SQL[_rate] = (
        f"CASE WHEN w.office_id IS NOT NULL"
        f" THEN round(100.0 * w.{_part} / NULLIF(w.{_whole}, 0), 2)"
        f" ELSE {FACT_SQL[_rate]} END"
    )

_SOURCES = """
sel AS MATERIALIZED (
  SELECT o.id, o.name, o.division_code, d.kind, d.name AS division_name, c.name AS county_name,
         o.staff_total, o.staff_formal, o.staff_civil_servants, o.area_m2
    FROM offices o
    JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
    LEFT JOIN divisions c ON c.tenant_id = d.tenant_id AND c.code = d.parent_code
                         AND c.valid_to IS NULL
   WHERE o.tenant_id = :t AND o.closed_at IS NULL
     AND starts_with(o.division_code, :region)
     AND (CAST(:offices AS bigint[]) IS NULL OR o.id = ANY(CAST(:offices AS bigint[])))
),
staff AS (
  SELECT s.office_id,
         count(*) AS n,
         bool_and(s.party_member IS NOT NULL) AS party_known,
         count(*) FILTER (WHERE s.party_member) AS party,
         CASE WHEN bool_and(s.college IS NOT NULL)
              THEN round(100.0 * count(*) FILTER (WHERE s.college) / count(*), 1) END
           AS college_share,
         -- unknown only when someone past the 3 years has no recorded education
         CASE WHEN bool_and(s.college IS NOT NULL)
                     FILTER (WHERE s.joined_on <= CAST(:grace_ends AS date))
                   IS NOT FALSE
              THEN count(*) FILTER (WHERE NOT s.college
                                      AND s.joined_on <= CAST(:grace_ends AS date))
         END AS uneducated_past_grace,
         CASE WHEN bool_and(s.college IS NOT NULL)
                     FILTER (WHERE s.joined_on >= CAST(:since AS date)) IS NOT FALSE
              THEN count(*) FILTER (WHERE NOT s.college AND s.joined_on >= CAST(:since AS date))
         END AS uneducated_new,
         coalesce(bool_or(s.position = 'director'), false) AS has_director,
         coalesce(bool_or(s.civil_servant) FILTER (WHERE s.position = 'director'), false)
           AS dir_civil_servant,
         coalesce(bool_or(s.college AND s.law_major) FILTER (WHERE s.position = 'director'),
                  false) AS dir_law_college,
         coalesce(bool_or(NOT s.heads_legal_service) FILTER (WHERE s.position = 'director'),
                  false) AS dir_not_head,
         max(CASE WHEN s.training_year BETWEEN :year - 1 AND :year THEN s.training_days
                  WHEN s.training_year < :year - 1 THEN 0 END)
           FILTER (WHERE s.position = 'director') AS dir_days,
         CASE WHEN bool_and(s.training_year IS NOT NULL) FILTER (WHERE s.position <> 'director')
              THEN min(CASE WHEN s.training_year BETWEEN :year - 1 AND :year
                            THEN s.training_days ELSE 0 END)
                     FILTER (WHERE s.position <> 'director') END AS other_min,
         CASE WHEN bool_and(s.training_year IS NOT NULL)
              THEN min(CASE WHEN s.training_year BETWEEN :year - 1 AND :year
                            THEN s.training_days ELSE 0 END) END
           AS all_min
    FROM office_staff s
   WHERE s.tenant_id = :t AND s.left_on IS NULL AND s.office_id IN (SELECT id FROM sel)
   GROUP BY s.office_id
),
fac AS (
  SELECT f.*, f.results_year BETWEEN :year - 1 AND :year AS results_current
    FROM office_facilities f
   WHERE f.tenant_id = :t AND f.office_id IN (SELECT id FROM sel)
),
work AS (
  SELECT DISTINCT ON (r.office_id) r.*
    FROM office_work_records r
   WHERE r.tenant_id = :t AND r.office_id IN (SELECT id FROM sel)
     AND r.year BETWEEN :year - 1 AND :year
   ORDER BY r.office_id, r.year DESC
)"""


def facts_sql(measures: Iterable[str]) -> str:
    """The CTEs up to `facts`: one row per active office of the selection (:region, :offices)
    with its id, division code and kind and one column per measure asked for (named as the
    measure; only those are computed)."""
    roots = sorted({m.split(".")[0] for m in measures})
    columns = "".join(f",\n         {FACT_SQL[r]} AS {r}" for r in roots)
    return (
        _SOURCES
        + """,
facts AS MATERIALIZED (
  SELECT sel.id, sel.division_code, sel.kind"""
        + columns
        + """
    FROM sel
    LEFT JOIN staff st ON st.office_id = sel.id
    LEFT JOIN fac f ON f.office_id = sel.id
    LEFT JOIN work w ON w.office_id = sel.id
)"""
    )


class Criterion(Protocol):
    measure: str
    op: str
    kinds: list[str] | None


def value_sql(criterion: Criterion) -> str:
    """The measured value of `criterion` over `facts f` (a count item reads 0 when the
    office recorded its equipment without it)."""
    root, _, item = criterion.measure.partition(".")
    if root not in FACT_SQL:  # (a column name written into the SQL: only the vocabulary's)
        raise ValueError(f"not a measure: {criterion.measure!r}")
    if not item:
        return f"f.{root}"
    if root in CHECK_ITEMS:  # unknown where the item is not recorded
        return f"(f.{root} ->> '{_key(item)}')::boolean"
    return (
        f"CASE WHEN f.{root} IS NOT NULL"
        f" THEN coalesce((f.{root} ->> '{_key(item)}')::numeric, 0) END"
    )


def status_sql(criterion: Criterion, i: int) -> str:
    """The status of `criterion` (number i of the statement) for a row of `facts f`: 1 pass,
    0 fail, -1 unknown (its data not recorded), NULL not applicable to the division's kind.
    Thresholds, item keys and kinds are bound parameters (`status_params`)."""
    value = value_sql(criterion)
    op = Op(criterion.op)
    root = criterion.measure.partition(".")[0]
    if op in NUMBER_OPS:
        test = f"{value} {op.value} :c{i}_thr"
    elif op is Op.is_true:
        test = value
    elif op is Op.is_false:
        test = f"NOT {value}"
    elif root in COUNT_ITEMS:  # keys of the item → count map
        test = f"{value} {'?&' if op is Op.has_all else '?|'} CAST(:c{i}_items AS text[])"
    else:
        test = f"{value} {'@>' if op is Op.has_all else '&&'} CAST(:c{i}_items AS text[])"
    status = f"CASE {test} WHEN true THEN 1 WHEN false THEN 0 ELSE -1 END"
    if criterion.kinds:
        status = f"CASE WHEN f.kind = ANY(CAST(:c{i}_kinds AS text[])) THEN {status} END"
    return status


class _Bound(Criterion, Protocol):
    threshold: Decimal | None
    item_values: list[str] | None


def status_params(criteria: Sequence[_Bound]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, c in enumerate(criteria):
        if Op(c.op) in NUMBER_OPS:
            out[f"c{i}_thr"] = c.threshold
        elif Op(c.op) in SET_OPS:
            out[f"c{i}_items"] = list(c.item_values or [])
        if c.kinds:
            out[f"c{i}_kinds"] = list(c.kinds)
    return out


def _key(item: str) -> str:
    """An item key as an SQL literal: keys are the identifiers of measures.py."""
    if not item.replace("_", "").isalnum() or not item.isascii():
        raise ValueError(f"not an item key: {item!r}")
    return item


def statuses_sql(criteria: Sequence[Criterion], *, with_values: bool = False) -> str:
    """The CTEs up to `statuses`: per office id, division_code, s0 … sN (the status of each
    criterion, status_sql), `passed`, `applicable` and `mandatory_met`; with `with_values`
    also v0 … vN, the measured values (for an office's checklist)."""
    if not criteria:
        raise ValueError("a standard without criteria cannot be evaluated")
    cols = [f"{status_sql(c, i)} AS s{i}" for i, c in enumerate(criteria)]
    if with_values:
        cols += [f"{value_sql(c)} AS v{i}" for i, c in enumerate(criteria)]
    return (
        facts_sql(c.measure for c in criteria)
        + """,
statuses AS MATERIALIZED (
  SELECT f.id, f.division_code, """
        + ",\n         ".join(cols)
        + """
    FROM facts f
)"""
    )


def tallies_sql(criteria: Sequence[Any]) -> str:
    """Columns over a row of `statuses`: `passed`, `applicable` (criteria that apply to the
    office) and `mandatory_met` (every mandatory criterion that applies passes)."""
    n = range(len(criteria))
    passed = " + ".join(f"coalesce((s{i} = 1)::int, 0)" for i in n)
    applicable = "num_nonnulls(" + ", ".join(f"s{i}" for i in n) + ")"
    met = " AND ".join(f"coalesce(s{i}, 1) = 1" for i, c in enumerate(criteria) if c.mandatory)
    return f"{passed} AS passed, {applicable} AS applicable, {met or 'true'} AS mandatory_met"
