"""An office's compliance score and whether it meets every mandatory criterion, computed in
SQL for many offices at once (over facts.statuses and facts.tallies) with the numbers of its
checklist (compliance.checklist_of): the office list and the OGC API's offices show these.

`in_force` finds what the offices are measured against on a day: the standard in force then,
its criteria's shape (what the statement is built for) and the values bound to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Numeric,
    and_,
    case,
    cast,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from service.standards import service as standards
from service.standards.facts import (
    CriteriaShape,
    evaluation_params,
    shape_of,
    status_params,
    statuses_over,
    tallies,
)
from service.standards.models import Standard
from service.standards.sources import Sources, sources


@dataclass(frozen=True)
class Evaluation:
    """The shape of the criteria of the standard in force on a day and the parameters that
    measure offices against them on that day (facts.evaluation_params, facts.status_params)."""

    shape: CriteriaShape
    params: dict[str, Any]


def in_force(*, session: Session, tenant_id: int, day: date) -> Evaluation | None:
    """What offices are measured against on `day`; None when no standard is in force then,
    or it has no criteria (an office's checklist then has no score either)."""
    try:
        standard = standards.resolve(session=session, tenant_id=tenant_id, ref=None, as_of=day)
    except standards.StandardNotFound:
        return None
    shape, values = _criteria(session, standard)
    if not shape:
        return None
    return Evaluation(shape, {**evaluation_params(standard, day), **values})


# a standard's criteria by (tenant, standard id): their shape and values (status_params)
_KEPT: dict[tuple[int, int], tuple[CriteriaShape, dict[str, Any]]] = {}


def _criteria(session: Session, standard: Standard) -> tuple[CriteriaShape, dict[str, Any]]:
    """The shape and values of a standard's criteria, kept per process: a version's criteria
    are written with it and never changed (the service role may only insert into and read
    standard_criteria: migrations/versions/2026_11_25_0004_standards_records_acceptance.py),
    and a version's id is never reused."""
    key = (standard.tenant_id, standard.id)
    kept = _KEPT.get(key)
    if kept is None:
        criteria = standards.criteria_of(session=session, standard=standard)
        kept = _KEPT[key] = (shape_of(criteria), status_params(criteria))
    return kept


_TENTH = literal_column("0.1", Numeric)


def score_of(passed: Any, applicable: Any) -> ColumnElement[Any]:
    """round(100 * passed / applicable, 1) as checklist_of computes it in Python, NULL when
    no criterion applies. Python rounds the float 100·p/n half to even; with fewer than 2,000
    criteria the only ties are the scores ending in .25 and .75, exact in binary, so the
    fraction rounded half to even in integers gives the same numbers (SQL's round() gives
    6.3 for 100·1/16, Python 6.2)."""
    # integers: // is PostgreSQL's integer division, % its remainder
    passed, applicable = type_coerce(passed, Integer), type_coerce(applicable, Integer)
    thousandfold = 1000 * passed
    tenths = thousandfold // applicable
    rest = thousandfold % applicable
    up = or_(2 * rest > applicable, and_(2 * rest == applicable, tenths % 2 == 1))
    return case((applicable > 0, (tenths + cast(up, Integer)) * _TENTH))


@lru_cache(maxsize=32)
def scored(shape: CriteriaShape) -> CTE:
    """`scored`: per office of the selection (:region, :offices) its id, `score` and
    `mandatory_met` against criteria of `shape`. Built once per shape and kept."""
    return scored_over(shape, sources())


def scored_over(shape: CriteriaShape, x: Sources) -> CTE:
    """`scored` over the offices the sources `x` select (sources.sources_of)."""
    s = statuses_over(shape, x)
    tallied = select(s.c.id, *tallies(shape, s)).cte("tallied")
    t = tallied.c
    return select(t.id, score_of(t.passed, t.applicable).label("score"), t.mandatory_met).cte(
        "scored"
    )
