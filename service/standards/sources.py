"""What the measures of a standard read, as Core CTEs over the mapped tables: the offices of
the selection with their division and county (`sel`, materialized: every other source and
the facts are joined to it), their current staff aggregated (`staff`), their facilities
record (`fac`) and their latest yearly work record of the period (`work`). Built once: they
do not depend on the criteria. Parameters: :t, :region, :offices and those of
facts.evaluation_params (:year, :since, :grace_ends)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Boolean,
    Date,
    Integer,
    Numeric,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.sql import Select

from service.core.binds import REGION, T
from service.coverage.predicates import divisions_as, offices_as
from service.records.models import OfficeFacilities, OfficeStaff, OfficeWorkRecord

# the values of `evaluation_params` and the selection, bound at execution
OFFICE_IDS = bindparam("offices", type_=ARRAY(BigInteger))
YEAR = bindparam("year", type_=Integer)
SINCE = bindparam("since", type_=Date)
GRACE_ENDS = bindparam("grace_ends", type_=Date)


@dataclass(frozen=True)
class Sources:
    """What the measures read: `sel` (the office and its division), `st` (its staff,
    aggregated), `f` (its facilities record), `w` (its latest work record of the period)."""

    sel: CTE
    st: CTE
    f: CTE
    w: CTE


def _staff(sel: CTE) -> CTE:
    """`staff`: per office of `sel`, its current staff aggregated into what the measures read
    (party members, education, the director, the year's training days)."""
    s = OfficeStaff.__table__
    director = s.c.position == "director"
    current = s.c.training_year.between(YEAR - 1, YEAR)
    recorded = func.bool_and(s.c.college.isnot(None), type_=Boolean)

    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    return (
        select(
            s.c.office_id,
            func.count().label("n"),
            func.bool_and(s.c.party_member.isnot(None), type_=Boolean).label("party_known"),
            count(s.c.party_member).label("party"),
            case(
                (
                    recorded,
                    func.round(
                        literal_column("100.0", Numeric) * count(s.c.college) / func.count(), 1
                    ),
                )
            ).label("college_share"),
            # unknown only when someone past the 3 years has no recorded education
            case(
                (
                    recorded.filter(s.c.joined_on <= GRACE_ENDS).isnot(false()),
                    count(and_(~s.c.college, s.c.joined_on <= GRACE_ENDS)),
                )
            ).label("uneducated_past_grace"),
            case(
                (
                    recorded.filter(s.c.joined_on >= SINCE).isnot(false()),
                    count(and_(~s.c.college, s.c.joined_on >= SINCE)),
                )
            ).label("uneducated_new"),
            func.coalesce(func.bool_or(director, type_=Boolean), false()).label("has_director"),
            func.coalesce(
                func.bool_or(s.c.civil_servant, type_=Boolean).filter(director), false()
            ).label("dir_civil_servant"),
            func.coalesce(
                func.bool_or(and_(s.c.college, s.c.law_major), type_=Boolean).filter(director),
                false(),
            ).label("dir_law_college"),
            func.coalesce(
                func.bool_or(~s.c.heads_legal_service, type_=Boolean).filter(director), false()
            ).label("dir_not_head"),
            func.max(case((current, s.c.training_days), (s.c.training_year < YEAR - 1, 0)))
            .filter(director)
            .label("dir_days"),
            case(
                (
                    func.bool_and(s.c.training_year.isnot(None), type_=Boolean).filter(~director),
                    func.min(case((current, s.c.training_days), else_=0)).filter(~director),
                )
            ).label("other_min"),
            case(
                (
                    func.bool_and(s.c.training_year.isnot(None), type_=Boolean),
                    func.min(case((current, s.c.training_days), else_=0)),
                )
            ).label("all_min"),
        )
        .where(s.c.tenant_id == T, s.c.left_on.is_(None), s.c.office_id.in_(select(sel.c.id)))
        .group_by(s.c.office_id)
        .cte("staff")
    )


@cache
def sources() -> Sources:
    """The CTEs the measures read, over the offices of the selection (:region, :offices):
    built once, they do not depend on the criteria."""
    return sources_of(None)


def sources_of(picked: Select[Any] | None) -> Sources:
    """The CTEs the measures read, over the active offices of :region that `picked` (a
    statement of office ids: a page of a larger statement) selects, or with None those
    :offices names (NULL: all). Not kept: the statement `picked` is part of is."""
    o, d, c = offices_as("o"), divisions_as("d"), divisions_as("c")
    chosen = (
        o.c.id.in_(picked)
        if picked is not None
        else or_(OFFICE_IDS.is_(None), o.c.id == any_(OFFICE_IDS))
    )
    sel = (
        select(
            o.c.id,
            o.c.name,
            o.c.division_code,
            d.c.kind,
            d.c.name.label("division_name"),
            c.c.name.label("county_name"),
            o.c.staff_total,
            o.c.staff_formal,
            o.c.staff_civil_servants,
            o.c.area_m2,
        )
        .select_from(
            o.join(d, and_(d.c.tenant_id == o.c.tenant_id, d.c.id == o.c.division_id)).outerjoin(
                c,
                and_(
                    c.c.tenant_id == d.c.tenant_id,
                    c.c.code == d.c.parent_code,
                    c.c.valid_to.is_(None),
                ),
            )
        )
        .where(
            o.c.tenant_id == T,
            o.c.closed_at.is_(None),
            func.starts_with(o.c.division_code, REGION),
            chosen,
        )
        .cte("sel")
        .prefix_with("MATERIALIZED")
    )
    f = OfficeFacilities.__table__
    fac = (
        select(*f.c, f.c.results_year.between(YEAR - 1, YEAR).label("results_current"))
        .where(f.c.tenant_id == T, f.c.office_id.in_(select(sel.c.id)))
        .cte("fac")
    )
    r = OfficeWorkRecord.__table__
    work = (
        select(*r.c)
        .ext(distinct_on(r.c.office_id))
        .where(
            r.c.tenant_id == T,
            r.c.office_id.in_(select(sel.c.id)),
            r.c.year.between(YEAR - 1, YEAR),
        )
        .order_by(r.c.office_id, r.c.year.desc())
        .cte("work")
    )
    return Sources(sel=sel, st=_staff(sel), f=fac, w=work)
