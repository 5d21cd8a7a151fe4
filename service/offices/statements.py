"""The statements that read offices, composed in SQLAlchemy Core over the mapped tables
(docs/architecture.md): one office with its division and county, and the office list — its
conditions, the compliance of the region (standards/facts.py), the order and one page.

Join conditions use plain column equality (`c.code = d.parent_code`), never a function of a
column such as left(code, 6): under row-level security only leakproof operations may drive
an index, and a non-leakproof one turns the join into a scan of every division.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Boolean,
    ColumnElement,
    Numeric,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from service.acceptance.predicates import reinspection_due
from service.core.binds import LIMIT, OFFSET, SOON, TODAY
from service.coverage.predicates import REGION, T, divisions_as, offices_as
from service.offices.schemas import ComplianceFilter, OfficeSort, ReinspectionFilter
from service.standards.facts import CriteriaShape
from service.standards.scores import scored
from service.standards.sources import OFFICE_IDS

o, d, c = offices_as("o"), divisions_as("d"), divisions_as("c")
# an office with its division and the division's county
_WITH_DIVISIONS = o.join(
    d, and_(d.c.tenant_id == o.c.tenant_id, d.c.id == o.c.division_id)
).outerjoin(
    c, and_(c.c.tenant_id == o.c.tenant_id, c.c.code == d.c.parent_code, c.c.valid_to.is_(None))
)
# the office as OfficeOut shows it
_COLUMNS = (
    o.c.id,
    o.c.name,
    o.c.division_code,
    o.c.located_code,
    o.c.address,
    o.c.phone,
    o.c.staff_total,
    o.c.staff_formal,
    o.c.staff_civil_servants,
    o.c.area_m2,
    o.c.acceptance_state,
    o.c.exception_reason,
    o.c.external_id,
    o.c.opened_on,
    o.c.version,
    o.c.created_at,
    o.c.updated_at,
    o.c.closed_at,
    o.c.closed_reason,
    func.ST_X(o.c.geom).label("lon"),
    func.ST_Y(o.c.geom).label("lat"),
    d.c.name.label("division_name"),
    d.c.kind.label("division_kind"),
    c.c.name.label("county_name"),
)
ONE_OFFICE = (
    select(*_COLUMNS)
    .select_from(_WITH_DIVISIONS)
    .where(o.c.tenant_id == T, o.c.id == bindparam("id", type_=BigInteger))
)

# the values of a list request, bound at execution
STATES = bindparam("states", type_=ARRAY(Text))
KIND = bindparam("kind", type_=Text)
Q = bindparam("q", type_=Text)
MIN_SCORE = bindparam("min_score", type_=Numeric)
STATE_ORDER = bindparam("state_order", type_=ARRAY(Text))


@dataclass(frozen=True)
class ListShape:
    """What of a list request changes its statements (the values are bound to them): which
    filters are on, the order, and the criteria the region is measured against (None: not
    measured). Each statement is built once per shape and kept: building one per request
    cost more than running it for a county."""

    include_closed: bool
    states: bool
    kind: bool
    q: bool
    reinspection: ReinspectionFilter | None
    compliance: ComplianceFilter | None
    min_score: bool
    sort: OfficeSort
    descending: bool
    criteria: CriteriaShape | None

    @property
    def with_divisions(self) -> bool:
        """The division rows only where a filter or the order reads them."""
        return self.kind or self.sort is OfficeSort.county


def conditions(shape: ListShape) -> list[ColumnElement[bool]]:
    """The list's conditions over the offices `o` and their divisions `d` (joined where
    `with_divisions`). Any other Core condition over them (a filter a library parsed, say)
    is one more item of this list, given to `page_statement`."""
    where = [o.c.tenant_id == T, func.starts_with(o.c.division_code, REGION)]
    if not shape.include_closed:
        where.append(o.c.closed_at.is_(None))
    if shape.states:
        where.append(o.c.acceptance_state == any_(STATES))
    if shape.kind:
        where.append(d.c.kind == KIND)
    if shape.q:
        where.append(func.strpos(o.c.name, Q) > 0)
    if shape.reinspection == "overdue":
        where.append(reinspection_due(o) < TODAY)
    elif shape.reinspection == "due_soon":
        where.append(reinspection_due(o).between(TODAY, SOON))
    return where


def _measured(shape: ListShape, sc: CTE) -> list[ColumnElement[bool]]:
    """The compliance conditions over `scored sc`."""
    measured: list[ColumnElement[bool]] = []
    if shape.compliance == "met":
        measured.append(sc.c.mandatory_met)
    elif shape.compliance == "not_met":
        measured.append(~sc.c.mandatory_met)
    if shape.min_score:
        measured.append(sc.c.score >= MIN_SCORE)
    return measured


# No office measured: the statements keep their shape, with nothing to join.
_NO_SCORES = (
    select(
        cast(null(), BigInteger).label("id"),
        cast(null(), Numeric).label("score"),
        cast(null(), Boolean).label("mandatory_met"),
    )
    .where(false())
    .cte("scored")
)


def _scored(criteria: CriteriaShape | None) -> CTE:
    """`scored` (id, score, mandatory_met) of the offices `facts` selects (:region, :offices),
    measured against `criteria` (standards/scores.py); none without criteria."""
    return scored(criteria) if criteria else _NO_SCORES


# what each sort orders by, over the columns of `matching`; the sort key comes from a closed
# vocabulary (OfficeSort), never from request text
_ORDER: dict[OfficeSort, Callable[[CTE], ColumnElement[Any]]] = {
    OfficeSort.code: lambda m: m.c.division_code,
    OfficeSort.name: lambda m: m.c.name,
    OfficeSort.county: lambda m: m.c.county_name,
    OfficeSort.state: lambda m: func.array_position(STATE_ORDER, m.c.acceptance_state),
    OfficeSort.score: lambda m: m.c.score,
    OfficeSort.due: lambda m: m.c.due_on,
    OfficeSort.updated: lambda m: m.c.updated_at,
}


def page_statement(shape: ListShape, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """How many offices match (`where` over `o` and `d`, then the compliance filters over
    `scored`) and one page of their ids, scores and whether every mandatory criterion is met,
    in order, as a JSON array. `listed` and `matching` are materialized: the planner sees the
    whole set first and sorts it once, rather than letting LIMIT drive a nested loop."""
    scored = _scored(shape.criteria)
    with_divisions = shape.with_divisions
    county = c.c.name if with_divisions else cast(null(), Text)
    listed = (
        select(
            o.c.id,
            o.c.name,
            o.c.division_code,
            o.c.acceptance_state,
            o.c.updated_at,
            county.label("county_name"),
            reinspection_due(o).label("due_on"),
        )
        .select_from(_WITH_DIVISIONS if with_divisions else o)
        .where(*where)
        .cte("listed")
        .prefix_with("MATERIALIZED")
    )
    matching = (
        select(listed, scored.c.score, scored.c.mandatory_met)
        .select_from(listed.outerjoin(scored, scored.c.id == listed.c.id))
        .where(*_measured(shape, scored))
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )
    key = _ORDER[shape.sort](matching)
    order = ((key.desc() if shape.descending else key.asc()).nulls_last(), matching.c.id)
    m = matching.c
    page = (
        select(m.id, m.score, m.mandatory_met, func.row_number().over(order_by=order).label("n"))
        .order_by(*order)
        .limit(LIMIT)
        .offset(OFFSET)
        .subquery("p")
    )
    as_json = func.json_build_array(page.c.id, page.c.score, page.c.mandatory_met)
    return select(
        select(func.count()).select_from(matching).scalar_subquery().label("total"),
        select(func.json_agg(aggregate_order_by(as_json, page.c.n)))
        .scalar_subquery()
        .label("page"),
    )


@lru_cache(maxsize=256)
def page_of(shape: ListShape) -> Select[Any]:
    """The page statement of a request's shape, built once and kept (a condition made
    elsewhere goes through `page_statement(shape, [*conditions(shape), condition])`)."""
    return page_statement(shape, conditions(shape))


@lru_cache(maxsize=32)
def rows_of(criteria: CriteriaShape | None) -> Select[Any]:
    """The offices :offices as the list shows them, measured against `criteria` (if any)."""
    scored = _scored(criteria)
    return (
        select(
            *_COLUMNS, reinspection_due(o).label("due_on"), scored.c.score, scored.c.mandatory_met
        )
        .select_from(_WITH_DIVISIONS.outerjoin(scored, scored.c.id == o.c.id))
        .where(o.c.tenant_id == T, o.c.id == any_(OFFICE_IDS))
    )
