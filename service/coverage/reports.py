"""The coverage reports as set-based SQL, composed in SQLAlchemy Core from the shared
predicates (predicates.py): gaps, conflicts, misplaced offices, summaries.

Each list report first computes its whole result set as a materialized step (so the
planner answers the question set-based — hash anti-joins and aggregates — instead of
being tempted by LIMIT into row-by-row loops), then takes one page and only then adds the
names, distances and geometries of that page's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from geoalchemy2 import Geography
from sqlalchemy import (
    CTE,
    Boolean,
    Float,
    FromClause,
    Numeric,
    Select,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from service.core.binds import LIMIT, OFFSET
from service.coverage.predicates import (
    REQUIRED,
    Shape,
    T,
    divisions_as,
    in_region,
    located,
    of_kinds,
    of_level,
    offices_as,
    towns,
    valid_at,
    with_names,
)
from service.coverage.query import CoverageFilter
from service.coverage.rows import ConflictRow, GapRow, MisplacedRow, SummaryRow
from service.divisions.kinds import LEVEL_WIDTH

R = TypeVar("R")
Page = tuple[int, list[R]]


def _run(
    session: Session,
    stmt: Select,
    make: Callable[[dict[str, Any]], R],
    f: CoverageFilter,
    limit: int | None,
    offset: int,
    **extra: Any,
) -> Page[R]:
    """Rows of one page, each made a report row by `make`, plus the total (carried as
    `_total` on every row of the statement)."""
    params = {**f.params(), **extra}
    result = session.execute(stmt, {**params, "limit": limit, "offset": offset}).mappings()
    total, rows = 0, []
    for r in result:
        row = dict(r)
        total = int(row.pop("_total"))
        rows.append(make(row))
    if not rows and offset:  # a page past the end: still say how many there are
        first = session.execute(stmt, {**params, "limit": 1, "offset": 0}).mappings().first()
        total = int(first["_total"]) if first else 0
    return total, rows


def _page(core: CTE, *order: Any) -> CTE:
    """The page CTE over a materialized `core` CTE, with the total of the whole set."""
    return (
        select(core, func.count().over().label("_total"))
        .order_by(*order)
        .limit(LIMIT)
        .offset(OFFSET)
        .cte("page")
    )


def _materialized(stmt: Select, name: str = "core") -> CTE:
    # the whole result set first (hash anti-joins and aggregates), not LIMIT-driven loops
    return stmt.cte(name).prefix_with("MATERIALIZED")


def _geometry(w: FromClause) -> list[Any]:
    return [func.ST_AsGeoJSON(w.c.geom, 6).label("geometry")]


def _township_columns(w: FromClause, county: Any, city: Any) -> list[Any]:
    return [
        w.c.code,
        w.c.name,
        w.c.kind,
        (w.c.kind == any_(REQUIRED)).label("required"),
        func.left(w.c.code, 6).label("county_code"),
        county,
        func.left(w.c.code, 4).label("city_code"),
        city,
    ]


@cache
def _gaps(shape: Shape, with_geometry: bool) -> Select:
    t = towns(shape)
    if not shape.dated:
        o = offices_as("o")
        no_office = ~exists().where(
            o.c.tenant_id == T, o.c.closed_at.is_(None), o.c.located_code == t.c.code
        )
    else:
        lo = located(shape)
        no_office = ~exists().where(lo.c.code == t.c.code)
    want = bindparam("want_required", type_=Boolean)
    core = _materialized(select(t.c.id, t.c.code).where(t.c.required == want, no_office))
    page = _page(core, core.c.code)
    w = divisions_as("w")
    joined, county, city = with_names(
        page.join(w, and_(w.c.tenant_id == T, w.c.id == page.c.id)), w, shape
    )
    return (
        select(
            *_township_columns(w, county, city),
            page.c._total,
            *(_geometry(w) if with_geometry else []),
        )
        .select_from(joined)
        .order_by(w.c.code)
    )


def gaps(
    session: Session,
    f: CoverageFilter,
    *,
    required: bool,
    limit: int | None,
    offset: int,
    with_geometry: bool = False,
) -> Page[GapRow]:
    """Townships (required ones, or the optional kinds) with no active office standing in them."""
    stmt = _gaps(Shape.of(f), with_geometry)
    return _run(session, stmt, GapRow.of, f, limit, offset, want_required=required)


@cache
def _conflicts(shape: Shape, with_geometry: bool) -> Select:
    o = offices_as("o")
    lo = located(shape)
    if not shape.dated:  # counted straight from the index over the active offices' townships
        code = o.c.located_code
        core = _materialized(
            select(code.label("code"), func.count().label("n"))
            .where(
                o.c.tenant_id == T,
                o.c.closed_at.is_(None),
                in_region(code, shape),
                of_kinds(code, shape),
            )
            .group_by(code)
            .having(func.count() > 1)
        )
    else:
        core = _materialized(
            select(lo.c.code, func.count().label("n"))
            .where(in_region(lo.c.code, shape), of_kinds(lo.c.code, shape))
            .group_by(lo.c.code)
            .having(func.count() > 1)
        )
    page = _page(core, core.c.code)
    w = divisions_as("w")
    m = offices_as("m")
    if not shape.dated:
        members = and_(m.c.closed_at.is_(None), m.c.located_code == w.c.code)
    else:
        members = m.c.id.in_(select(lo.c.id).where(lo.c.code == w.c.code))
    offices = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "id",
                        m.c.id,
                        "name",
                        m.c.name,
                        "division_code",
                        m.c.division_code,
                        "exception_reason",
                        m.c.exception_reason,
                    ),
                    m.c.id,
                )
            )
        )
        .where(m.c.tenant_id == T, members)
        .scalar_subquery()
    )
    joined, county, city = with_names(
        page.join(
            w,
            and_(
                w.c.tenant_id == T,
                w.c.code == page.c.code,
                w.c.level == "township",
                valid_at(w, shape),
            ),
        ),
        w,
        shape,
    )
    return (
        select(
            *_township_columns(w, county, city),
            page.c.n.label("office_count"),
            offices.label("offices"),
            page.c._total,
            *(_geometry(w) if with_geometry else []),
        )
        .select_from(joined)
        .order_by(w.c.code)
    )


def conflicts(
    session: Session,
    f: CoverageFilter,
    *,
    limit: int | None,
    offset: int,
    with_geometry: bool = False,
) -> Page[ConflictRow]:
    """Townships with two or more active offices, with those offices and exception reasons."""
    return _run(session, _conflicts(Shape.of(f), with_geometry), ConflictRow.of, f, limit, offset)


@cache
def _misplaced(shape: Shape) -> Select:
    if not shape.dated:  # the partial index ix_offices_misplaced holds exactly these
        o = offices_as("o")
        core = _materialized(
            select(o.c.id, o.c.division_code, o.c.located_code.label("code")).where(
                o.c.tenant_id == T,
                o.c.closed_at.is_(None),
                in_region(o.c.division_code, shape),
                o.c.located_code.is_distinct_from(o.c.division_code),
                of_kinds(o.c.division_code, shape),
            )
        )
    else:
        lo = located(shape)
        core = _materialized(
            select(lo.c.id, lo.c.division_code, lo.c.code).where(
                in_region(lo.c.division_code, shape),
                lo.c.code.is_distinct_from(lo.c.division_code),
                of_kinds(lo.c.division_code, shape),
            )
        )
    page = _page(core, core.c.division_code, core.c.id)
    o = offices_as("p")
    reg = divisions_as("reg")
    loc = divisions_as("loc")
    x, y = func.ST_X(o.c.geom), func.ST_Y(o.c.geom)
    distance = case(
        (  # (swapped axes are not a place on Earth)
            and_(func.abs(y) <= 90, func.abs(x) <= 180),
            func.round(
                cast(
                    func.ST_Distance(cast(reg.c.geom, Geography), cast(o.c.geom, Geography)),
                    Numeric,
                ),
                1,
            ),
        )
    )
    joined = (
        page.join(o, and_(o.c.tenant_id == T, o.c.id == page.c.id))
        .outerjoin(
            reg,
            and_(reg.c.tenant_id == T, reg.c.code == o.c.division_code, valid_at(reg, shape)),
        )
        .outerjoin(loc, and_(loc.c.tenant_id == T, loc.c.code == page.c.code, valid_at(loc, shape)))
    )
    return (
        select(
            o.c.id.label("office_id"),
            o.c.name.label("office_name"),
            o.c.division_code.label("registered_code"),
            reg.c.name.label("registered_name"),
            page.c.code.label("located_code"),
            loc.c.name.label("located_name"),
            cast(func.round(cast(x, Numeric), 7), Float).label("lon"),
            cast(func.round(cast(y, Numeric), 7), Float).label("lat"),
            cast(distance, Float).label("distance_m"),
            page.c._total,
        )
        .select_from(joined)
        .order_by(o.c.division_code, o.c.id)
    )


def misplaced(
    session: Session, f: CoverageFilter, *, limit: int | None, offset: int
) -> Page[MisplacedRow]:
    """Active offices registered in the region whose point is not in their registered township:
    where the point is instead, and how far it is from the registered township."""
    return _run(session, _misplaced(Shape.of(f)), MisplacedRow.of, f, limit, offset)


@cache
def _summary(shape: Shape, width: int, with_geometry: bool) -> Select:
    t = towns(shape)
    if not shape.dated:
        o = offices_as("o")
        present = (
            select(o.c.located_code.label("code"), func.count().label("n"))
            .where(o.c.tenant_id == T, o.c.closed_at.is_(None), in_region(o.c.located_code, shape))
            .group_by(o.c.located_code)
            .cte("present")
        )
        a = offices_as("a")
        astray_part = func.left(a.c.division_code, width)
        astray = (
            select(astray_part.label("part"), func.count().label("n"))
            .where(
                a.c.tenant_id == T,
                a.c.closed_at.is_(None),
                in_region(a.c.division_code, shape),
                a.c.located_code.is_distinct_from(a.c.division_code),
                of_kinds(a.c.division_code, shape),
            )
            .group_by(astray_part)
            .cte("astray")
        )
    else:
        lo = located(shape)
        present = (
            select(lo.c.code, func.count().label("n"))
            .where(in_region(lo.c.code, shape))
            .group_by(lo.c.code)
            .cte("present")
        )
        astray_part = func.left(lo.c.division_code, width)
        astray = (
            select(astray_part.label("part"), func.count().label("n"))
            .where(
                in_region(lo.c.division_code, shape),
                lo.c.code.is_distinct_from(lo.c.division_code),
                of_kinds(lo.c.division_code, shape),
            )
            .group_by(astray_part)
            .cte("astray")
        )
    part = func.left(t.c.code, width)
    n = present.c.n

    def counted(condition: Any) -> Any:
        return func.count().filter(condition)

    # parts is materialized so the planner sees a few thousand parts, not one per township,
    # and looks each part's name up by index instead of hashing every division.
    parts = _materialized(
        select(
            part.label("part"),
            counted(t.c.required).label("required"),
            counted(and_(t.c.required, n >= 1)).label("covered"),
            counted(and_(t.c.required, n.is_(None))).label("gaps"),
            counted(n > 1).label("conflicts"),
            counted(~t.c.required).label("optional"),
            counted(and_(~t.c.required, n.is_(None))).label("optional_gaps"),
        )
        .select_from(t.outerjoin(present, present.c.code == t.c.code))
        .group_by(part),
        "parts",
    )
    sub = divisions_as("sub")

    def of_part(column: Any) -> Any:
        return (
            select(column)
            .where(sub.c.tenant_id == T, sub.c.code == parts.c.part, valid_at(sub, shape))
            .scalar_subquery()
        )

    geometry = (
        [
            of_part(
                func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(sub.c.geom, 0.001), 5)
            ).label("geometry")
        ]
        if with_geometry
        else []
    )
    return (
        select(
            parts.c.part.label("code"),
            of_part(sub.c.name).label("name"),
            parts.c.required,
            parts.c.covered,
            parts.c.gaps,
            parts.c.conflicts,
            func.coalesce(astray.c.n, 0).label("misplaced"),
            parts.c.optional,
            parts.c.optional_gaps,
            *geometry,
        )
        .select_from(parts.outerjoin(astray, astray.c.part == parts.c.part))
        .order_by(parts.c.part)
    )


def summary(
    session: Session, f: CoverageFilter, *, level: str, with_geometry: bool = False
) -> list[SummaryRow]:
    """Per province, city, county or township of the region: required townships, covered, gaps,
    conflicts, misplaced offices, optional townships and their gaps; coverage rate."""
    stmt = _summary(Shape.of(f), LEVEL_WIDTH[level], with_geometry)
    return [SummaryRow.of(dict(r)) for r in session.execute(stmt, f.params()).mappings()]


def totals(rows: list[SummaryRow], code: str, name: str | None) -> SummaryRow:
    """The region as a whole, from its parts."""
    return SummaryRow.of(
        {
            "code": code,
            "name": name,
            "required": sum(r.required for r in rows),
            "covered": sum(r.covered for r in rows),
            "gaps": sum(r.gaps for r in rows),
            "conflicts": sum(r.conflicts for r in rows),
            "misplaced": sum(r.misplaced for r in rows),
            "optional": sum(r.optional for r in rows),
            "optional_gaps": sum(r.optional_gaps for r in rows),
        }
    )


@cache
def _generated(shape: Shape) -> Select:
    d = divisions_as("d")
    return select(exists().where(of_level(d, "township", shape), d.c.generated))


def generated_boundaries(session: Session, f: CoverageFilter) -> bool:
    """Whether the region's township boundaries are generated (exports must say so)."""
    return bool(session.scalar(_generated(Shape.of(f)), f.params()))
