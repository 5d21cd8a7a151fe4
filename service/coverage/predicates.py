"""The shared conditions of the reports as SQLAlchemy Core expressions over the mapped
tables — the one idiom for composing a query (docs/architecture.md): a report builds its
statement from these and from any other expression (a filter a library parsed, say), and
never from SQL text pasted together.

Each takes the table (or an alias of it) it speaks of and the report's `CoverageFilter`,
whose shape (dated or not, kinds or not) it follows; the values are bound parameters.
Spatial predicates come with their bounding-box operator written out (`a ~ b AND
ST_Covers(a, b)`): under row-level security only leakproof operators may drive an index.
Today's answer comes from the relation stored on every office (`located_code`); for a past
date only offices standing where a boundary has changed since are located again."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    FromClause,
    String,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from service.core.binds import REGION, T
from service.coverage.query import CoverageFilter
from service.divisions.models import Division
from service.divisions.predicates import version_valid
from service.offices.models import Office

DIVISIONS = Division.__table__
OFFICES = Office.__table__


@dataclass(frozen=True)
class Shape:
    """What of a filter changes a statement (the rest are values bound to it)."""

    dated: bool  # asked as of a past date
    kinds: bool  # limited to some township kinds

    @classmethod
    def of(cls, f: CoverageFilter) -> Shape:
        return cls(dated=f.as_of is not None, kinds=bool(f.kinds))


# The values of a report's filter, bound at execution (`CoverageFilter.params()`): a
# statement is built once for each shape of filter (dated or not, kinds or not) and kept.
AS_OF = bindparam("as_of", type_=Date)
AS_OF_END = bindparam("as_of_end", type_=Date)
KINDS = bindparam("kinds", type_=ARRAY(String))
REQUIRED = bindparam("required", type_=ARRAY(String))


@cache
def divisions_as(name: str) -> FromClause:
    """The divisions table under an alias, made once: an alias proxies every column of the
    table, and making them again for each report was half its time in Python."""
    return DIVISIONS.alias(name)


@cache
def offices_as(name: str) -> FromClause:
    """The offices table under an alias, made once (see `divisions_as`)."""
    return OFFICES.alias(name)


def valid_at(d: FromClause, shape: Shape) -> ColumnElement[bool]:
    """Division version `d` is the one valid at the filter's date (today: the current one)."""
    return version_valid(d, AS_OF if shape.dated else None)


def active_at(o: FromClause, shape: Shape) -> ColumnElement[bool]:
    """Office `o` is active at the filter's date (closed on a day: active to its end)."""
    if not shape.dated:
        return o.c.closed_at.is_(None)
    return and_(
        o.c.opened_on <= AS_OF,
        or_(o.c.closed_at.is_(None), o.c.closed_at >= AS_OF_END),
    )


def in_region(code: Any, shape: Shape) -> ColumnElement[bool]:
    """A division code (a column or expression) lies in the filter's region. `starts_with`
    is what the code-prefix indexes answer (text_pattern_ops)."""
    return func.starts_with(code, REGION)


def of_kinds(code: Any, shape: Shape) -> ColumnElement[bool]:
    """The township `code` is of the filter's kinds (always true when it names none):
    reports over offices filter by their township's kind."""
    if not shape.kinds:
        return true()
    k = divisions_as("k")
    return exists().where(
        k.c.tenant_id == T,
        k.c.code == code,
        k.c.level == "township",
        valid_at(k, shape),
        k.c.kind == any_(KINDS),
    )


def of_level(d: FromClause, level: Any, shape: Shape) -> ColumnElement[bool]:
    """Division versions `d` of a level (a name or a bound parameter) in the filter's region,
    valid at its date."""
    return and_(
        d.c.tenant_id == T, d.c.level == level, in_region(d.c.code, shape), valid_at(d, shape)
    )


def towns(shape: Shape, *, geometry: bool = False) -> CTE:
    """`towns`: the township versions of the region valid at the date (the filter's kinds),
    each saying whether its kind must have an office; with `geometry`, their polygons too
    (for features and tiles: read in the same pass, not joined back to divisions)."""
    d = divisions_as("d")
    conditions = [of_level(d, "township", shape)]
    if shape.kinds:
        conditions.append(d.c.kind == any_(KINDS))
    required = d.c.kind == any_(REQUIRED)
    columns = [d.c.id, d.c.code, d.c.name, d.c.kind, d.c.parent_code, required.label("required")]
    if geometry:
        columns.append(d.c.geom)
    return select(*columns).where(*conditions).cte("towns")


def located(shape: Shape) -> CTE:
    """`located` (id, division_code, code): the offices active at the date with the code of
    the township they stand in then. Today (and where no township changed since) that is the
    stored `located_code`; otherwise the township version valid then that covers the point,
    the registered one first."""
    o = offices_as("o")
    if not shape.dated:
        return (
            select(o.c.id, o.c.division_code, o.c.located_code.label("code"))
            .where(o.c.tenant_id == T, o.c.closed_at.is_(None))
            .cte("located")
        )
    c = divisions_as("c")
    changed = (
        select(c.c.geom)
        .where(
            c.c.tenant_id == T,
            c.c.level == "township",
            or_(
                and_(c.c.valid_from <= AS_OF, c.c.valid_to.isnot(None), c.c.valid_to > AS_OF),
                c.c.valid_from > AS_OF,
            ),
        )
        .cte("changed")
    )
    d = divisions_as("d")
    then = (
        select(d.c.code)
        .where(
            d.c.tenant_id == T,
            d.c.level == "township",
            valid_at(d, shape),
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
        .where(o.c.tenant_id == T, active_at(o, shape))
        .cte("located")
    )


def with_names(source: FromClause, w: FromClause, shape: Shape) -> tuple[FromClause, Any, Any]:
    """`source` (which holds township `w`) joined to its county and city (through
    parent_code: a function such as left(code, 6) would defeat the index under row-level
    security); with their names."""
    cty = divisions_as("cty")
    cit = divisions_as("cit")
    joined = source.outerjoin(
        cty, and_(cty.c.tenant_id == T, cty.c.code == w.c.parent_code, valid_at(cty, shape))
    ).outerjoin(
        cit, and_(cit.c.tenant_id == T, cit.c.code == cty.c.parent_code, valid_at(cit, shape))
    )
    return joined, cty.c.name.label("county_name"), cit.c.name.label("city_name")
