"""The SQL that measures offices and tests them against a standard, for many offices at once.

`FACTS` yields one row per active office of the selection with every measure of
measures.py in one jsonb document (absent key = not recorded = "unknown"); `EVALUATED`
joins it with the criteria that apply to the office's division kind and decides pass / fail
/ unknown in SQL. Reports aggregate `EVALUATED`; nothing is looped over in Python.
Parameters: :t tenant, :region code prefix, :office (an id or NULL for all), and those of
`evaluation_params`: :std standard id, :year the evaluation date's year, :grace_ends the
last appointment day whose 3 years (to get a degree) are over, :as_of the
evaluation date, :since the date the standard took effect.

"Every year" (training days, the year's work results) reads the last completed year or the
current one: a staff member's training record and the office's results carry their year, and
either year serves — an inspection in January is judged on last year's record, one in December
on this year's if it is recorded. Older records count as no training, and older results as not
recorded (unknown). (Interpretation, docs/standards.md.)
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol


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
_PLACE = f"""CASE WHEN d.kind IN ('town', 'township', 'street')
                   AND btrim(d.name) ~ {_SUFFIX}
                   AND char_length(btrim(d.name))
                       > char_length(substring(btrim(d.name) from {_SUFFIX}))
              THEN regexp_replace(btrim(d.name), {_SUFFIX}, '')
              ELSE regexp_replace(btrim(d.name), '办事处$', '') END"""
_NORMAL = "regexp_replace(normalize({}, NFKC), '\\s+', '', 'g')"
_EXPECTED = "c.name || '司法局' || " + _PLACE + " || '司法所'"
# (the plain comparison first: most names match as typed, and normalising costs ~10 µs a name)
NAME_IN_CURRENT_FORM = (
    f"(o.name = {_EXPECTED} OR "
    + _NORMAL.format("o.name")
    + " = "
    + _NORMAL.format(_EXPECTED)
    + ")"
)

FACTS = """
sel AS MATERIALIZED (
  SELECT o.id, o.division_code, d.kind, o.staff_total, o.staff_formal,
         o.staff_civil_servants, o.area_m2, NAME_IN_CURRENT_FORM AS name_current
    FROM offices o
    JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
    LEFT JOIN divisions c ON c.tenant_id = d.tenant_id AND c.code = d.parent_code
                         AND c.valid_to IS NULL
   WHERE o.tenant_id = :t AND o.closed_at IS NULL
     AND starts_with(o.division_code, :region)
     AND (CAST(:office AS bigint) IS NULL OR o.id = CAST(:office AS bigint))
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
facts AS MATERIALIZED (
  SELECT sel.id, sel.division_code, sel.kind, jsonb_build_object(
    'staff_count', sel.staff_total,
    'name_in_current_form', sel.name_current,
    'formal_staff_count', sel.staff_formal,
    'civil_servant_count', sel.staff_civil_servants,
    'all_staff_formal', sel.staff_formal = sel.staff_total,
    'college_staff_share', st.college_share,
    'staff_without_college_after_3_years', st.uneducated_past_grace,
    'new_staff_without_college', st.uneducated_new,
    'party_member_count', CASE WHEN st.party_known THEN st.party END,
    'party_organisation_ok', CASE WHEN st.party_known
                                  THEN st.party < 3 OR f.party_branch END,
    -- a 党支部 in particular: unknown where only "支部或党小组" was recorded
    'party_branch_ok', CASE WHEN st.party_known AND st.party < 3 THEN true
                            WHEN st.party_known AND f.party_organisation IS NOT NULL
                              THEN f.party_organisation = 'branch'
                            WHEN st.party_known AND NOT f.party_branch THEN false END,
    'director_appointed', st.has_director,
    'director_civil_servant', st.dir_civil_servant,
    'director_law_college', st.dir_law_college,
    'director_not_legal_service_head', st.dir_not_head,
    'director_training_days', CASE WHEN st.has_director THEN coalesce(st.dir_days, -1) END,
    'other_staff_min_training_days', st.other_min,
    'all_staff_min_training_days', st.all_min,
    'area_m2', sel.area_m2,
    'own_premises', f.own_premises,
    'separated_from_legal_service', f.separated_from_legal_service,
    'rooms', CASE WHEN f.rooms IS NOT NULL THEN to_jsonb(
               f.rooms || CASE WHEN f.rooms && ARRAY['director_office', 'staff_office']
                               THEN ARRAY['general_office'] ELSE '{}'::text[] END) END,
    'certificates', to_jsonb(f.certificates),
    'displays', to_jsonb(f.displays),
    'registers', to_jsonb(f.registers),
    'systems', to_jsonb(f.systems),
    'equipment', f.equipment,
    'vehicles', f.vehicles,
    'mediation_success_rate', CASE WHEN f.results_current THEN f.mediation_success_rate END,
    'key_assistance_rate', CASE WHEN f.results_current THEN f.key_assistance_rate END,
    'key_placement_rate', CASE WHEN f.results_current THEN f.key_placement_rate END,
    'reoffending_rate', CASE WHEN f.results_current THEN f.reoffending_rate END
  ) AS facts
    FROM sel
    LEFT JOIN staff st ON st.office_id = sel.id
    LEFT JOIN fac f ON f.office_id = sel.id
)""".replace("NAME_IN_CURRENT_FORM", NAME_IN_CURRENT_FORM)


# director_training_days is -1 when the director's training was never recorded: "unknown"
# below, so that a missing record does not read as zero days.
def measured_sql(criteria_where: str = "") -> str:
    """FACTS plus `crit` (the standard's criteria, optionally narrowed by `criteria_where`)
    and `measured` (each office × each criterion that applies to its kind)."""
    return (
        FACTS
        + """,
crit AS (
  SELECT c.key, c.position, c.category, c.mandatory, c.kinds, c.op, c.threshold,
         c.item_values, c.measure,
         split_part(c.measure, '.', 1) AS root, split_part(c.measure, '.', 2) AS item,
         CASE WHEN c.op IN ('has_all', 'has_any') THEN 'set'
              WHEN c.op IN ('is_true', 'is_false') THEN 'flag' ELSE 'num' END AS test
    FROM standard_criteria c
   WHERE c.tenant_id = :t AND c.standard_id = :std """
        + criteria_where
        + """
),
measured AS (
  SELECT facts.id AS office_id, facts.division_code, crit.key, crit.mandatory, crit.op,
         crit.test, crit.threshold, crit.item_values,
         CASE WHEN crit.test <> 'num' THEN NULL
              WHEN crit.item = '' THEN NULLIF(facts.facts ->> crit.root, '-1')::numeric
              WHEN jsonb_typeof(facts.facts -> crit.root) = 'object'
                THEN coalesce((facts.facts -> crit.root ->> crit.item)::numeric, 0)
         END AS num,
         CASE WHEN crit.test = 'flag' THEN (facts.facts ->> crit.root)::boolean END AS flag,
         CASE WHEN crit.test = 'set'
              THEN NULLIF(facts.facts -> crit.root, 'null'::jsonb) END AS items
    FROM facts
    JOIN crit ON crit.kinds IS NULL OR facts.kind = ANY (crit.kinds)
)"""
    )


MEASURED = measured_sql()

# pass / fail / unknown of a `measured` row m
STATUS = """
  CASE m.test
    WHEN 'num' THEN
      CASE WHEN m.num IS NULL THEN 'unknown'
           WHEN CASE m.op WHEN '>=' THEN m.num >= m.threshold
                          WHEN '>' THEN m.num > m.threshold
                          WHEN '<=' THEN m.num <= m.threshold
                          WHEN '<' THEN m.num < m.threshold
                          ELSE m.num = m.threshold END THEN 'pass'
           ELSE 'fail' END
    WHEN 'flag' THEN
      CASE WHEN m.flag IS NULL THEN 'unknown'
           WHEN m.flag = (m.op = 'is_true') THEN 'pass' ELSE 'fail' END
    ELSE
      CASE WHEN m.items IS NULL THEN 'unknown'
           WHEN CASE m.op WHEN 'has_all' THEN m.items ?& m.item_values
                          ELSE m.items ?| m.item_values END THEN 'pass'
           ELSE 'fail' END
  END"""

EVALUATED = (
    MEASURED
    + """,
evaluated AS (SELECT m.*, """
    + STATUS
    + """ AS status FROM measured m)"""
)
