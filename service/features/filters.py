"""CQL2 filters (OGC API Features Part 3) into the query idiom: cql2 reads the text encoding
into the JSON one, pygeofilter reads JSON into its syntax tree; this module turns the tree
into one SQLAlchemy Core condition over a collection's source (its `geom` and its
properties), with every value a bound parameter. Nothing here parses text.

What a filter may name is the collection's queryables (`Collection.queryables`, plus
`geometry`); each comparison is checked against the property's type before it reaches the
database, so a filter that could only fail there is a 400 naming the problem instead.
Spatial predicates carry their bounding-box operator (`&&`), so the GiST index serves them
under row-level security (coverage/predicates.py says why).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import cql2
import shapely
import shapely.validation
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_json.parser import BINARY_OP_PREDICATES_MAP
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    not_,
    or_,
    true,
)

from geo.crs import CGCS2000, WGS84, northing_first
from service.core.errors import Invalid, InvalidParameter
from service.features.collections import Collection

MAX_FILTER = 20_000  # characters
GEOMETRY = "geometry"
_SQL_TYPES = {"string": String, "integer": Integer, "number": Float, "boolean": Boolean}


def _bad(problem: str) -> InvalidParameter:
    return InvalidParameter(f"filter: {problem}", {"field": "filter"})


@dataclass(frozen=True)
class Operand:
    """An evaluated expression and what it holds (a property type, or "geometry")."""

    expr: Any
    type: str
    literal: bool = False


def parse(text: str, lang: str) -> ast.AstType:
    """The syntax tree of a filter in `lang` (cql2-text or cql2-json); a 400 naming where it
    stops making sense. Kept by its text (the trees are only read): a map asks every tile
    of its view with the same filter, and reading it again (on a thread of its own, below)
    was a tenth of a tile's time."""
    if len(text) > MAX_FILTER:
        raise _bad(f"longer than {MAX_FILTER} characters")
    return _parsed(text, lang)


@lru_cache(maxsize=512)
def _parsed(text: str, lang: str) -> ast.AstType:
    try:
        # CQL2-text is read by cql2 (the standard's grammar, temporal functions included)
        # into CQL2-JSON, which pygeofilter reads: one tree for both encodings
        tree = json.loads(text) if lang == "cql2-json" else _text_as_json(text)
        return parse_json(_as_pygeofilter_reads(tree))
    except Invalid:
        raise
    except Exception as exc:  # the parsers' own errors (cql2, JSON, values): all the client's
        message = " ".join(str(exc).split())[:300]
        raise _bad(f"cannot read it as {lang}: {message}") from exc


# cql2's parser (Rust) recurses once per level of nesting and has no limit of its own: a
# filter of 2,000 opening parentheses overflowed a worker thread's 8 MB stack and killed the
# process. It runs on a thread of its own with a stack that holds the deepest filter that
# MAX_FILTER allows, twice over (10,000 parentheses, 5,000 NOTs or 20,000 minus signs
# needed more than 32 MB and less than 64 MB; the memory is reserved, touched only as deep
# as the filter goes). tests/ogc/test_filters.py sends such filters.
PARSER_STACK = 128 * 1024 * 1024
_stack_size = threading.Lock()


def _text_as_json(text: str) -> Any:
    """CQL2-text as CQL2-JSON, read by cql2 on a thread with a stack deep enough for it."""
    result: dict[str, Any] = {}

    def read() -> None:
        try:
            result["json"] = cql2.parse_text(text).to_json()
        except Exception as exc:  # its ParseError and ValueError: the client's
            result["error"] = exc

    with _stack_size:
        before = threading.stack_size(PARSER_STACK)
        try:
            reader = threading.Thread(target=read, name="cql2-text")
            reader.start()
        finally:
            threading.stack_size(before)
    reader.join()
    if "error" in result:
        raise result["error"]
    return result["json"]


def _as_pygeofilter_reads(node: Any) -> Any:
    """CQL2-JSON (OGC 21-065r2) in the shapes pygeofilter 0.4 reads: `{"bbox": [minx, miny,
    maxx, maxy]}` as the polygon it means (pygeofilter puts the numbers into its envelope in
    another order), `between` with three arguments as `[value, [low, high]]` (its reading
    of an earlier draft), a function call as the draft wrote it, and a geometry collection
    as one geometry."""
    if isinstance(node, dict):
        if node.get("type") == "GeometryCollection":
            return _collection_as_one_geometry(node)
        box = node.get("bbox")
        if set(node) == {"bbox"} and isinstance(box, list) and len(box) in (4, 6):
            x1, y1, x2, y2 = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
            ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
            return {"type": "Polygon", "coordinates": [ring]}
        args = node.get("args")
        op = node.get("op")
        if op == "between" and isinstance(args, list) and len(args) == 3:
            node = {**node, "args": [args[0], [args[1], args[2]]]}
        elif isinstance(op, str) and op not in _PYGEOFILTER_OPS:
            # a function call, {"op": name, "args": [...]}, in its earlier draft's shape
            return {"function": {"name": op, "arguments": _as_pygeofilter_reads(args or [])}}
        return {k: _as_pygeofilter_reads(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_pygeofilter_reads(v) for v in node]
    return node


# the operators pygeofilter reads as such; any other `op` is a function's name
_PYGEOFILTER_OPS = frozenset(
    {"and", "or", "not", "isNull", "between", "like", "in", "casei", *BINARY_OP_PREDICATES_MAP}
)


def _collection_as_one_geometry(node: dict[str, Any]) -> dict[str, Any]:
    """A GEOMETRYCOLLECTION literal as the one geometry of the same points (pygeofilter 0.4
    reads no collection): its members' union, a point, line or polygon or a multi- of them.
    Every spatial predicate answers alike for both (they compare point sets); a collection
    of different kinds (points and polygons, say) has no such geometry and is refused."""
    try:
        union = shapely.union_all(shapely.geometry.shape(node).geoms)
    except Exception as exc:  # shapely's errors on a malformed literal
        raise _bad(f"unreadable GEOMETRYCOLLECTION: {str(exc)[:200]}") from exc
    if union.geom_type == "GeometryCollection":
        raise _bad("a GEOMETRYCOLLECTION must hold geometries of one kind (points, lines or areas)")
    return dict(shapely.geometry.mapping(union))


@dataclass(frozen=True)
class _Context:
    collection: Collection
    source: Any
    epsg: int | None  # filter-crs; None: CRS84


def condition(
    tree: ast.AstType, collection: Collection, source: Any, epsg: int | None
) -> ColumnElement[bool]:
    """The filter as one condition over `source` (a collection's source subquery)."""
    try:
        result = _eval(tree, _Context(collection, source, epsg))
    except RecursionError as exc:
        raise _bad("nested too deeply") from exc
    if result.type != "boolean":
        raise _bad("it must be a condition (a comparison or predicate), not a value")
    return result.expr


def _literal(value: Any, type_: str) -> Operand:
    return Operand(bindparam(None, value, type_=_SQL_TYPES.get(type_, Date)), type_, True)


def _attribute(name: str, ctx: _Context) -> Operand:
    if name in (GEOMETRY, "geom"):
        return Operand(ctx.source.c.geom, GEOMETRY)
    prop = ctx.collection.queryable(name)
    if prop is None:
        names = ", ".join([GEOMETRY, *(p.name for p in ctx.collection.queryables)])
        raise _bad(f"{name[:60]!r} is not a queryable of {ctx.collection.id} (queryables: {names})")
    column = ctx.source.c[name]
    return Operand(cast(column, Float) if prop.type == "number" else column, prop.type)


def _geometry(value: values.Geometry | values.Envelope, ctx: _Context) -> Operand:
    """A geometry literal in filter-crs (in that CRS's axis order), as a PostGIS geometry in
    the stored SRID 4326 lon/lat."""
    text = json.dumps(value.geometry)
    if len(text) > MAX_FILTER:
        raise _bad("geometry too large")
    try:
        shape = shapely.geometry.shape(value.geometry)
    except Exception as exc:  # shapely's errors for every malformed coordinate list
        raise _bad(f"not a geometry: {' '.join(str(exc).split())[:200]}") from exc
    if shape.is_empty or not shape.is_valid:
        problem = "empty" if shape.is_empty else shapely.validation.explain_validity(shape)
        raise _bad(f"the geometry is not valid: {problem[:200]}")
    geom = func.ST_GeomFromGeoJSON(bindparam(None, text, type_=String))
    srid = WGS84 if ctx.epsg in (None, WGS84, CGCS2000) else ctx.epsg
    geom = func.ST_SetSRID(geom, srid)
    if ctx.epsg is not None and northing_first(ctx.epsg):
        geom = func.ST_FlipCoordinates(geom)
    if srid != WGS84:
        geom = func.ST_Transform(geom, WGS84)
    return Operand(geom, GEOMETRY, True)


def _as(operand: Operand, other: Operand, what: str) -> tuple[Any, Any]:
    """Both sides of a comparison, of one type: a literal takes the property's type; two that
    cannot be compared are a 400."""
    a, b = operand, other
    kinds = {a.type, b.type}
    if GEOMETRY in kinds:
        raise _bad(f"{what} does not compare geometries; use S_INTERSECTS and the like")
    if kinds <= {"integer", "number"} or len(kinds) == 1:
        return a.expr, b.expr
    if kinds == {"date", "string"} and (a.literal or b.literal):
        # an RFC 3339 date written as a string
        lit, prop = (a, b) if a.literal else (b, a)
        try:
            day = date.fromisoformat(lit.expr.value)
        except (TypeError, ValueError) as exc:
            raise _bad(f"{lit.expr.value!r} is not a date (YYYY-MM-DD)") from exc
        day_expr = bindparam(None, day, type_=Date)
        return (day_expr, prop.expr) if a.literal else (prop.expr, day_expr)
    raise _bad(f"{what} compares a {a.type} with a {b.type}")


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
_SPATIAL: dict[type, tuple[str, str | None]] = {
    # predicate → (PostGIS function, the bounding-box operator that must also hold)
    ast.GeometryIntersects: ("ST_Intersects", "&&"),
    ast.GeometryWithin: ("ST_Within", "@"),
    ast.GeometryContains: ("ST_Contains", "~"),
    ast.GeometryTouches: ("ST_Touches", "&&"),
    ast.GeometryCrosses: ("ST_Crosses", "&&"),
    ast.GeometryOverlaps: ("ST_Overlaps", "&&"),
    ast.GeometryEquals: ("ST_Equals", "~="),
    ast.GeometryDisjoint: ("ST_Disjoint", None),
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mul: lambda a, b: a * b,
    ast.Div: lambda a, b: a / func.nullif(b, 0),
}


def _eval(node: Any, ctx: _Context) -> Operand:
    if isinstance(node, bool):
        return Operand(true() if node else false(), "boolean", True)
    if isinstance(node, int | float):
        return _literal(node, "integer" if isinstance(node, int) else "number")
    if isinstance(node, str):
        return _literal(node, "string")
    if isinstance(node, datetime):
        return _literal(node.date(), "date")
    if isinstance(node, date):
        return _literal(node, "date")
    if isinstance(node, values.Geometry | values.Envelope):
        return _geometry(node, ctx)
    if isinstance(node, ast.Attribute):
        return _attribute(node.name, ctx)
    if isinstance(node, ast.Not):
        return Operand(not_(_condition(node.sub_node, ctx)), "boolean")
    if isinstance(node, ast.And | ast.Or):
        combine = and_ if isinstance(node, ast.And) else or_
        return Operand(combine(_condition(node.lhs, ctx), _condition(node.rhs, ctx)), "boolean")
    compare = _COMPARE.get(type(node))
    if compare is not None:
        a, b = _as(_eval(node.lhs, ctx), _eval(node.rhs, ctx), "a comparison")
        return Operand(compare(a, b), "boolean")
    if isinstance(node, ast.Between):
        lhs = _eval(node.lhs, ctx)
        low = _as(lhs, _eval(node.low, ctx), "BETWEEN")[1]
        high = _as(lhs, _eval(node.high, ctx), "BETWEEN")[1]
        between = lhs.expr.between(low, high)
        return Operand(not_(between) if node.not_ else between, "boolean")
    if isinstance(node, ast.In):
        lhs = _eval(node.lhs, ctx)
        items = [_as(lhs, _eval(v, ctx), "IN")[1] for v in node.sub_nodes]
        inside = lhs.expr.in_(items)
        return Operand(not_(inside) if node.not_ else inside, "boolean")
    if isinstance(node, ast.Like):
        return _like(node, ctx)
    if isinstance(node, ast.IsNull):
        lhs = _eval(node.lhs, ctx)
        test = lhs.expr.is_not(None) if node.not_ else lhs.expr.is_(None)
        return Operand(test, "boolean")
    spatial = _SPATIAL.get(type(node))
    if spatial is not None:
        return _spatial(node, spatial, ctx)
    arithmetic = _ARITHMETIC.get(type(node))
    if arithmetic is not None:
        a, b = _eval(node.lhs, ctx), _eval(node.rhs, ctx)
        if not {a.type, b.type} <= {"integer", "number"}:
            raise _bad(f"arithmetic on a {a.type} and a {b.type}")
        return Operand(arithmetic(a.expr, b.expr), "number")
    if isinstance(node, ast.TemporalPredicate):
        return _temporal(node, ctx)
    if isinstance(node, ast.Function):
        return _function(node, ctx)
    name = type(node).__name__
    raise _bad(f"{name} is not supported here")


def _condition(node: Any, ctx: _Context) -> Any:
    result = _eval(node, ctx)
    if result.type != "boolean":
        raise _bad("AND, OR and NOT combine conditions, not values")
    return result.expr


def _like(node: ast.Like, ctx: _Context) -> Operand:
    lhs = _eval(node.lhs, ctx)
    if lhs.type != "string":
        raise _bad(f"LIKE needs a text property, not a {lhs.type}")
    pattern = node.pattern
    if isinstance(pattern, ast.Function):  # CASEI('…')
        pattern_op = _function(pattern, ctx)
        matched = lhs.expr.like(pattern_op.expr)
    elif isinstance(pattern, str):
        # CQL2's wildcards are SQL's (% and _, escaped with a backslash): passed as they are
        param = bindparam(None, pattern, type_=String)
        matched = lhs.expr.ilike(param) if node.nocase else lhs.expr.like(param)
    else:
        raise _bad("LIKE takes a text pattern")
    return Operand(not_(matched) if node.not_ else matched, "boolean")


def _function(node: ast.Function, ctx: _Context) -> Operand:
    name = node.name.lower()
    if name in ("casei", "lower") and len(node.arguments) == 1:
        arg = _eval(node.arguments[0], ctx)
        if arg.type != "string":
            raise _bad("CASEI takes text")
        return Operand(func.lower(arg.expr), "string", arg.literal)
    if name == "bbox" and len(node.arguments) in (4, 6):
        numbers = [float(a) for a in node.arguments if isinstance(a, int | float)]
        if len(numbers) != len(node.arguments):
            raise _bad("BBOX takes numbers")
        x1, y1, x2, y2 = (
            (numbers[0], numbers[1], numbers[3], numbers[4]) if len(numbers) == 6 else numbers
        )
        ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
        return _geometry(values.Geometry({"type": "Polygon", "coordinates": [ring]}), ctx)
    raise _bad(f"function {node.name[:40]!r} is not supported (supported: CASEI, BBOX)")


def _spatial(node: Any, spatial: tuple[str, str | None], ctx: _Context) -> Operand:
    a, b = _eval(node.lhs, ctx), _eval(node.rhs, ctx)
    if a.type != GEOMETRY or b.type != GEOMETRY:
        raise _bad(f"{type(node).__name__} compares geometries (the property `geometry`)")
    function, box = spatial
    test = getattr(func, function)(a.expr, b.expr)
    if box is not None:
        test = and_(a.expr.op(box)(b.expr), test)
    return Operand(test, "boolean")


def _temporal(node: ast.TemporalPredicate, ctx: _Context) -> Operand:
    """Temporal predicates between a date property and an instant or an interval (the
    registry's times are days)."""
    lhs = _eval(node.lhs, ctx)
    if lhs.type != "date":
        raise _bad(f"{type(node).__name__} needs a date property, not a {lhs.type}")
    rhs = node.rhs
    if isinstance(rhs, values.Interval):
        start = _bound(rhs.start)
        end = _bound(rhs.end)
        column = lhs.expr
        after_start = true() if start is None else column >= start
        before_end = true() if end is None else column <= end
        inside = and_(after_start, before_end)
        tests: dict[type, Any] = {
            ast.TimeDuring: inside,
            ast.TimeOverlaps: inside,
            ast.TimeBefore: false() if start is None else column < start,
            ast.TimeAfter: false() if end is None else column > end,
            ast.TimeDisjoint: not_(inside),
        }
    else:
        instant = _eval(rhs, ctx)
        if instant.type != "date":
            raise _bad(f"{type(node).__name__} compares with a date, not a {instant.type}")
        column = lhs.expr
        tests = {
            ast.TimeBefore: column < instant.expr,
            ast.TimeAfter: column > instant.expr,
            ast.TimeEquals: column == instant.expr,
            ast.TimeDisjoint: column != instant.expr,
            ast.TimeOverlaps: column == instant.expr,
        }
    test = tests.get(type(node))
    if test is None:
        raise _bad(f"{type(node).__name__} is not supported between these values")
    return Operand(and_(lhs.expr.is_not(None), test), "boolean")


def _bound(value: Any) -> Any:
    if value is None or value == "..":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError as exc:
            raise _bad(f"{value[:40]!r} is not a date") from exc
    if not isinstance(value, date):
        raise _bad("an interval's ends are dates")
    return bindparam(None, value, type_=Date)


def queryables(collection: Collection, url: str) -> dict[str, Any]:
    """The collection's queryables as a JSON Schema (Features Part 3)."""
    properties: dict[str, Any] = {
        GEOMETRY: {
            "title": "几何",
            "format": f"geometry-{collection.geometry.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for p in collection.queryables:
        properties[p.name] = p.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
