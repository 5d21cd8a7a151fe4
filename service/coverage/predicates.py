"""The shared conditions of the reports as SQLAlchemy Core expressions over the mapped
tables — the one idiom for composing a query (docs/architecture.md): a report builds its
statement from these and from any other expression (a filter a library parsed, say), and
never from SQL text pasted together.

Each takes the table (or an alias of it) it speaks of and the report's `CoverageFilter`.
Spatial predicates come with their bounding-box operator written out (`a ~ b AND
ST_Covers(a, b)`): under row-level security only leakproof operators may drive an index.
Today's answer comes from the relation stored on every office (`located_code`); for a past
date only offices standing where a boundary has changed since are located again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
)

from service.coverage.query import CoverageFilter
from service.divisions.models import Division
from service.offices.models import Office

DIVISIONS = Division.__table__
OFFICES = Office.__table__


def valid_at(d: FromClause, f: CoverageFilter) -> ColumnElement[bool]:
    """Division version `d` is the one valid at the filter's date (today: the current one)."""
    if f.as_of is None:
        return d.c.valid_to.is_(None)
    return and_(d.c.valid_from <= f.as_of, or_(d.c.valid_to.is_(None), d.c.valid_to > f.as_of))


def active_at(o: FromClause, f: CoverageFilter) -> ColumnElement[bool]:
    """Office `o` is active at the filter's date (closed on a day: active to its end)."""
    if f.as_of is None:
        return o.c.closed_at.is_(None)
    return and_(
        o.c.opened_on <= f.as_of,
        or_(o.c.closed_at.is_(None), o.c.closed_at >= f.params()["as_of_end"]),
    )


def in_region(code: Any, f: CoverageFilter) -> ColumnElement[bool]:
    """A division code (a column or expression) lies in the filter's region. `starts_with`
    is what the code-prefix indexes answer (text_pattern_ops)."""
    return func.starts_with(code, f.region)


def of_kinds(code: Any, f: CoverageFilter) -> ColumnElement[bool]:
    """The township `code` is of the filter's kinds (always true when it names none):
    reports over offices filter by their township's kind."""
    if not f.kinds:
        return true()
    k = DIVISIONS.alias("k")
    return exists().where(
        k.c.tenant_id == f.tenant_id,
        k.c.code == code,
        k.c.level == "township",
        valid_at(k, f),
        k.c.kind.in_(f.kinds),
    )


def towns(f: CoverageFilter) -> CTE:
    """`towns`: the township versions of the region valid at the date (the filter's kinds),
    each saying whether its kind must have an office."""
    d = DIVISIONS.alias("d")
    conditions = [
        d.c.tenant_id == f.tenant_id,
        d.c.level == "township",
        in_region(d.c.code, f),
        valid_at(d, f),
    ]
    if f.kinds:
        conditions.append(d.c.kind.in_(f.kinds))
    required = d.c.kind.in_(f.required_kinds) if f.required_kinds else false()
    return (
        select(d.c.id, d.c.code, d.c.name, d.c.kind, d.c.parent_code, required.label("required"))
        .where(*conditions)
        .cte("towns")
    )


def located(f: CoverageFilter) -> CTE:
    """`located` (id, division_code, code): the offices active at the date with the code of
    the township they stand in then. Today (and where no township changed since) that is the
    stored `located_code`; otherwise the township version valid then that covers the point,
    the registered one first."""
    o = OFFICES.alias("o")
    if f.as_of is None:
        return (
            select(o.c.id, o.c.division_code, o.c.located_code.label("code"))
            .where(o.c.tenant_id == f.tenant_id, o.c.closed_at.is_(None))
            .cte("located")
        )
    c = DIVISIONS.alias("c")
    changed = (
        select(c.c.geom)
        .where(
            c.c.tenant_id == f.tenant_id,
            c.c.level == "township",
            or_(
                and_(c.c.valid_from <= f.as_of, c.c.valid_to.isnot(None), c.c.valid_to > f.as_of),
                c.c.valid_from > f.as_of,
            ),
        )
        .cte("changed")
    )
    d = DIVISIONS.alias("d")
    then = (
        select(d.c.code)
        .where(
            d.c.tenant_id == f.tenant_id,
            d.c.level == "township",
            valid_at(d, f),
            d.c.geom.op("~")(o.c.geom),
            func.ST_Covers(d.c.geom, o.c.geom),
        )
        .order_by((d.c.code == o.c.division_code).desc(), d.c.code)
        .limit(1)
        .scalar_subquery()
    )
    moved = exists().where(
        changed.c.geom.op("&&")(o.c.geom), func.ST_Intersects(changed.c.geom, o.c.geom)
    )
    return (
        select(
            o.c.id,
            o.c.division_code,
            case((moved, then), else_=o.c.located_code).label("code"),
        )
        .where(o.c.tenant_id == f.tenant_id, active_at(o, f))
        .cte("located")
    )


def with_names(source: FromClause, w: FromClause, f: CoverageFilter) -> tuple[FromClause, Any, Any]:
    """`source` (which holds township `w`) joined to its county and city (through
    parent_code: a function such as left(code, 6) would defeat the index under row-level
    security); with their names."""
    cty = DIVISIONS.alias("cty")
    cit = DIVISIONS.alias("cit")
    joined = source.outerjoin(
        cty, and_(cty.c.tenant_id == f.tenant_id, cty.c.code == w.c.parent_code, valid_at(cty, f))
    ).outerjoin(
        cit, and_(cit.c.tenant_id == f.tenant_id, cit.c.code == cty.c.parent_code, valid_at(cit, f))
    )
    return joined, cty.c.name.label("county_name"), cit.c.name.label("city_name")
