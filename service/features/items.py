"""Features of a collection as GeoJSON, made by PostgreSQL: the matching features' number and
one page of them as a JSON array, in one round trip, the geometry in the requested CRS and
axis order. A statement is built once per shape of request (which filters are on, which
properties, the order, the CRS) and kept; the values are bound at execution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from geo.crs import CGCS2000, WGS84, northing_first
from service.accounts.scope import Scope
from service.core.binds import LIMIT, OFFSET
from service.core.db import Precompiled, plan_for_values
from service.features import filters
from service.features.collections import EARLIEST, LATEST, Collection, When
from service.standards.facts import CriteriaShape
from service.standards.scores import in_force, scored_over
from service.standards.sources import sources_of

KEY: BindParameter[Any] = bindparam(
    "key"
)  # a feature's key (its type: the collection's `key_type`)
# the bbox, in the CRS `BBOX_SRID` names, lower-left and upper-right corners as x,y
X1, Y1, X2, Y2 = (bindparam(n, type_=Float) for n in ("x1", "y1", "x2", "y2"))
# decimal places written: in degrees, 1e-9° (≈ 0.1 mm) of a point — an office's position
# reads back as it was written — and 1e-7° (≈ 1 cm, within 5e-8° of the stored vertex) of an
# outline, finer than any division boundary is known, whose thousands of vertices are most of
# a response (a page of 1,000 townships: 16.0 → 13.9 MB); in metres 1 mm
DEGREE_DIGITS = {"Point": 9, "MultiPolygon": 7}
METRE_DIGITS = 3


@dataclass(frozen=True)
class Window:
    """The time a request asks about: today's versions, an instant or an interval (open
    ends as None)."""

    when: When = When.current
    start: date | None = None
    end: date | None = None

    def params(self) -> dict[str, Any]:
        if self.when is When.at and self.start is not None:
            # (as the reports bind a date: an office closed that day was open through it)
            return {"as_of": self.start, "as_of_end": self.start + timedelta(days=1)}
        if self.when is When.during:
            return {"start": self.start or EARLIEST, "end": self.end or LATEST}
        return {}

    def day(self) -> date:
        """The day a measure of the features is taken on (their compliance score): the
        instant; an interval's last day, today if it ends later or is open; today."""
        today = date.today()
        if self.when is When.at and self.start is not None:
            return self.start
        if self.when is When.during and self.end is not None:
            return min(self.end, today)
        return today


@dataclass(frozen=True)
class ItemsShape:
    """What of an items request changes its statement."""

    collection: str
    when: When
    bbox: bool
    bbox_epsg: int | None  # the bbox's CRS; None: CRS84
    properties: tuple[str, ...]
    sortby: tuple[tuple[str, bool], ...]  # (property, descending)
    epsg: int | None  # the response CRS; None: CRS84
    one: bool = False  # a single feature by id
    # the criteria the page's offices are measured against (the properties `measured`);
    # None: none asked for, or no standard in force
    criteria: CriteriaShape | None = None


@dataclass(frozen=True)
class ItemsRequest:
    """An items request: its shape and the values bound to it."""

    collection: Collection
    window: Window = field(default_factory=Window)
    bbox: tuple[float, float, float, float] | None = None
    bbox_epsg: int | None = None
    properties: tuple[str, ...] | None = None  # None: all
    sortby: tuple[tuple[str, bool], ...] = ()
    epsg: int | None = None
    limit: int = 10
    offset: int = 0
    # a CQL2 filter (pygeofilter's syntax tree) and the CRS of its geometries
    filter: Any = None
    filter_epsg: int | None = None

    def shape(self, *, one: bool = False) -> ItemsShape:
        names = self.properties
        if names is None:
            names = tuple(p.name for p in self.collection.properties)
        return ItemsShape(
            collection=self.collection.id,
            when=self.window.when,
            bbox=self.bbox is not None,
            bbox_epsg=self.bbox_epsg if self.bbox is not None else None,
            properties=names,
            sortby=self.sortby,
            epsg=self.epsg,
            one=one,
        )


def output_geometry(geom: Any, epsg: int | None) -> ColumnElement[Any]:
    """The stored geometry (SRID 4326, lon/lat) in the CRS asked for, in that CRS's axis
    order. CGCS2000 and WGS-84 coordinates are taken as equal (geo/crs.py): EPSG:4490 is the
    stored coordinates with their SRID changed."""
    if epsg is None:
        return geom
    if epsg in (WGS84, CGCS2000):
        out = func.ST_SetSRID(geom, epsg)
    else:
        out = func.ST_Transform(geom, epsg)
    return func.ST_FlipCoordinates(out) if northing_first(epsg) else out


def bbox_condition(geom: Any, bbox_epsg: int | None) -> ColumnElement[bool]:
    """The feature's geometry meets the bbox. The bbox comes in the axis order of its CRS
    (OGC API Features Part 2): lat,lon for EPSG:4326/4490, northing,easting for Gauss-Krüger;
    the caller passes it as given and this puts it in x,y order."""
    if bbox_epsg is not None and northing_first(bbox_epsg):
        corners = (Y1, X1, Y2, X2)
    else:
        corners = (X1, Y1, X2, Y2)
    srid = WGS84 if bbox_epsg in (None, WGS84, CGCS2000) else bbox_epsg
    box = func.ST_MakeEnvelope(*corners, srid)
    if srid != WGS84:
        box = func.ST_Transform(func.ST_Segmentize(box, 1000.0), WGS84)
    return geom.op("&&")(box) & func.ST_Intersects(geom, box)


def _property_value(column: Any, prop_type: str) -> Any:
    # numeric(9,1) → a JSON number; the rest as PostgreSQL writes them in JSON
    return cast(column, Float) if prop_type == "number" else column


def conditions(shape: ItemsShape, source: Any) -> list[ColumnElement[bool]]:
    """The shape's own conditions over a collection's `source` subquery (a filter is more)."""
    where: list[ColumnElement[bool]] = []
    if shape.bbox:
        where.append(bbox_condition(source.c.geom, shape.bbox_epsg))
    if shape.one:
        where.append(source.c.key == KEY)
    return where


@lru_cache(maxsize=512)
def items_statement(shape: ItemsShape, collection: Collection) -> Precompiled:
    """(matched, features): how many features match and one page of them as a JSON array
    (text, ordered); a single feature when `shape.one` (matched is then 0 or 1). Built and
    compiled once per shape; a request with a filter builds its own (`filtered_statement`)."""
    source = collection.source(shape.when).subquery("f")
    return Precompiled(statement_over(shape, collection, source, conditions(shape, source)))


def filtered_statement(request: ItemsRequest, shape: ItemsShape) -> Select[Any]:
    """The items statement of a request with a CQL2 filter: its values are in the tree, so
    the statement is this request's own."""
    collection = request.collection
    source = collection.source(shape.when).subquery("f")
    where = conditions(shape, source)
    where.append(filters.condition(request.filter, collection, source, request.filter_epsg))
    return statement_over(shape, collection, source, where)


def statement_over(
    shape: ItemsShape, collection: Collection, source: Any, where: Sequence[ColumnElement[bool]]
) -> Select[Any]:
    """The items statement over `source` with the conditions `where` (a filter a library
    parsed joins this list)."""
    # The matching features' keys (and sort values) are found first, counted, sorted once and
    # cut to the page; only then are the page's features read whole. (Letting LIMIT drive an
    # index walk in key order made the planner read every division of the tenant to find a
    # province's first ten.)
    sorts = [name for name, _ in shape.sortby]
    matching = (
        select(source.c.key, *(source.c[name] for name in sorts))
        .where(*where)
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )
    order = [
        *(
            (matching.c[n].desc() if desc else matching.c[n].asc()).nulls_last()
            for n, desc in shape.sortby
        ),
        matching.c.key,
    ]
    keys = (
        select(matching.c.key, func.row_number().over(order_by=order).label("n"))
        .order_by(*order)
        .limit(1 if shape.one else LIMIT)
        .offset(0 if shape.one else OFFSET)
        .cte("k")
    )
    # what is measured (the compliance score) is measured for the page's offices only
    scored = _measured(shape, collection, keys)
    joined = source.join(keys, source.c.key == keys.c.key)
    if scored is not None:
        joined = joined.outerjoin(scored, scored.c.id == keys.c.key)
    columns = []
    for name in shape.properties:
        prop = collection.property(name)
        assert prop is not None
        if prop.measured is None:
            columns.append(source.c[name])
        else:  # NULL where no standard is in force
            value = null() if scored is None else scored.c[prop.measured]
            columns.append(value.label(name))
    page = select(source.c.fid, source.c.geom, *columns, keys.c.n).select_from(joined).subquery("p")
    digits = (
        METRE_DIGITS
        if shape.epsg not in (None, WGS84, CGCS2000)
        else DEGREE_DIGITS[collection.geometry]
    )
    pairs: list[Any] = []
    for name in shape.properties:
        prop = collection.property(name)
        assert prop is not None
        pairs.extend((literal(name), _property_value(page.c[name], prop.type)))
    feature = func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        page.c.fid,
        literal("geometry"),
        # (options 0: no "crs" member in the geometry — RFC 7946 has none; the CRS is in the
        # Content-Crs header, OGC API Features Part 2)
        cast(func.ST_AsGeoJSON(output_geometry(page.c.geom, shape.epsg), digits, 0), JSON),
        literal("properties"),
        func.json_build_object(*pairs),
    )
    agg = select(
        func.coalesce(cast(func.json_agg(aggregate_order_by(feature, page.c.n)), Text), "[]")
    ).scalar_subquery()
    matched = (
        literal(0, Integer)
        if shape.one
        else select(func.count()).select_from(matching).scalar_subquery()
    )
    return select(matched.label("matched"), agg.label("features"))


def _asks_measured(collection: Collection, names: tuple[str, ...]) -> bool:
    """Whether a property of `names` is measured for the page (`Property.measured`)."""
    return any(p.measured for p in map(collection.property, names) if p)


def _measured(shape: ItemsShape, collection: Collection, keys: CTE) -> CTE | None:
    """The page's offices (its `keys`) measured against the shape's criteria — `scored` of
    standards/scores.py, over these offices only — when a property of the shape shows it."""
    if shape.criteria is None or not _asks_measured(collection, shape.properties):
        return None
    # materialized: the join below is a nested loop over few rows, and would otherwise
    # compute every office's tallies again for each of the page's features
    scored = scored_over(shape.criteria, sources_of(select(keys.c.key)))
    return scored.prefix_with("MATERIALIZED")


def _key(collection: Collection, fid: str) -> Any:
    """The key a feature id names (None: it names none of this collection's features)."""
    if collection.key_type is int:
        return int(fid) if fid.isdigit() and 0 < int(fid) < 2**63 else None
    return fid


def source_params(scope: Scope, region: str, window: Window) -> dict[str, Any]:
    """The values a collection's source reads: the tenant, the caller's region, the
    tenant's required township kinds (the coverage status), the time asked about."""
    return {
        "t": scope.tenant_id,
        "region": region,
        "required": list(scope.required_kinds),
        "kinds": None,
        **window.params(),
    }


def fetch_items(
    session: Session, request: ItemsRequest, scope: Scope, region: str, fid: str | None = None
) -> tuple[int, str]:
    """(numberMatched, the features as a JSON array text) of one page; with `fid`, the one
    feature of that id (numberMatched 0 when there is none)."""
    shape = request.shape(one=fid is not None)
    params: dict[str, Any] = {
        **source_params(scope, region, request.window),
        "limit": request.limit,
        "offset": request.offset,
    }
    if request.bbox is not None:
        params.update(zip(("x1", "y1", "x2", "y2"), request.bbox, strict=True))
    if fid is not None:
        key = _key(request.collection, fid)
        if key is None:
            return 0, "[]"
        params["key"] = key
    if _asks_measured(request.collection, shape.properties):
        evaluation = in_force(session=session, tenant_id=scope.tenant_id, day=request.window.day())
        if evaluation is not None:
            shape = replace(shape, criteria=evaluation.shape)
            # (the window's own values first: its `as_of` is the day's, or not read)
            params = {**evaluation.params, **params}
    if fid is None:  # (a lookup by key is planned well for any values: keep the cached plan)
        plan_for_values(session)
    if request.filter is None:
        row = items_statement(shape, request.collection).one_or_none(session, params)
    else:
        row = session.execute(filtered_statement(request, shape), params).one()
    matched = int(row.matched)
    if fid is not None:
        matched = 0 if row.features == "[]" else 1
    return matched, row.features
