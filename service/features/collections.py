"""The collections the OGC API serves (docs/architecture.md, "OGC API"): what each is, its
properties, and the statement of its features at a time — SQLAlchemy Core over the mapped
tables, in the idiom of the reports (coverage/predicates.py).

Each source selects `fid` (the feature id, text), `key` (what the id is looked up and the
features ordered by: an indexed column — a code, an office's number), `geom` (stored, SRID
4326 lon/lat) and the
properties under their public names, limited to the tenant (`T`) and the caller's region
(`REGION`, a code prefix) — row-level security draws the same lines again in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    true,
)

from service.core.binds import REGION, T
from service.core.errors import InvalidParameter
from service.core.versions import VersionedTable
from service.coverage.predicates import (
    AS_OF,
    Shape,
    active_at,
    divisions_as,
    located,
    offices_as,
    towns,
)
from service.coverage.status import STATUS_LABELS_ZH
from service.divisions.kinds import KIND_LABELS_ZH
from service.divisions.predicates import version_valid
from service.offices.states import ACCEPTANCE_LABELS_ZH

# the interval [START, END] a request asks about (an instant is the reports' AS_OF)
START = bindparam("start", type_=Date)
END = bindparam("end", type_=Date)
# open ends of an interval
EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)


class When(StrEnum):
    """Which versions a request reads: today's, those valid at an instant, or those valid at
    some time in an interval."""

    current = "current"
    at = "at"
    during = "during"


PropertyType = Literal["string", "integer", "number", "boolean", "date"]


@dataclass(frozen=True)
class Property:
    """A property of a collection's features: its public name, Chinese title and type."""

    name: str
    title: str
    type: PropertyType = "string"
    # the values it can take (a closed vocabulary; their Chinese names are another property)
    values: tuple[str, ...] = ()
    # the column of standards/scores.py `scored` it shows: measured for a page's features
    # only, once paged (items.statement_over), so neither a filter, a sort nor a tile reads it
    measured: str | None = None

    def json_schema(self) -> dict[str, Any]:
        """The property as JSON Schema (queryables, a tileset's layer fields)."""
        entry: dict[str, Any] = {"title": self.title, **_SCHEMA_TYPES[self.type]}
        if self.values:
            entry["enum"] = list(self.values)
        return entry


_SCHEMA_TYPES: dict[PropertyType, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry: Literal["MultiPolygon", "Point"]
    properties: tuple[Property, ...]
    # what `datetime` selects: division versions valid then, offices open then, or the
    # coverage of one day
    temporal: str
    source: Callable[[When], Select]
    # the type of the `key` a feature id is read as (an office's is its number)
    key_type: type = str
    # the tables its features are read from: their data versions name its tiles (ETag)
    reads: tuple[VersionedTable, ...] = ("divisions",)
    # what its vector tiles carry unless asked otherwise: what a map styles, labels and
    # looks up by
    tile_properties: tuple[str, ...] = ("code", "name", "kind")

    @property
    def queryables(self) -> tuple[Property, ...]:
        """The properties its source selects: what a filter, a sort and a tile may read."""
        return tuple(p for p in self.properties if p.measured is None)

    def queryable(self, name: str) -> Property | None:
        return next((p for p in self.queryables if p.name == name), None)

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


def _labels(column: Any, labels: dict[Any, str]) -> Any:
    """The Chinese name of a coded column's value (labels keyed by values or by enums)."""
    return case({str(k): v for k, v in labels.items()}, value=column)


def _columns(table: Any, names: str, **renamed: Any) -> list[Any]:
    """`table`'s columns `names` (space-separated) under their own names, and the columns
    `renamed` gives under its keys: the public names of a source's properties."""
    own = [table.c[name].label(name) for name in names.split()]
    return [*own, *(column.label(name) for name, column in renamed.items())]


_KIND_VALUES = tuple(sorted(k for k in KIND_LABELS_ZH if isinstance(k, str)))
_STATE_VALUES = tuple(k for k in ACCEPTANCE_LABELS_ZH if isinstance(k, str))


# what every division's feature says of it
_DIVISION = (
    Property("code", "区划代码"),
    Property("name", "名称"),
    Property("kind", "类型", values=_KIND_VALUES),
    Property("kind_label", "类型名称"),
)


def _division_properties(level: str) -> tuple[Property, ...]:
    props = [
        *_DIVISION,
        Property("parent_code", "上级区划代码"),
        Property("valid_from", "生效日期", "date"),
        Property("valid_to", "失效日期", "date"),
        Property("generated", "边界为推算生成", "boolean"),
    ]
    if level == "province":
        props = [p for p in props if p.name != "parent_code"]
    return tuple(props)


def _division_source(level: str) -> Callable[[When], Select]:
    @cache
    def source(when: When) -> Select:
        d = divisions_as("d")
        if when is When.during:
            version = and_(d.c.valid_from <= END, or_(d.c.valid_to.is_(None), d.c.valid_to > START))
            # several versions of a code may fall in an interval: each is its own feature
            fid = d.c.code + "@" + cast(d.c.valid_from, String)
        else:
            version = version_valid(d, AS_OF if when is When.at else None)
            fid = d.c.code
        names = "geom code name kind valid_from valid_to generated"
        columns = _columns(d, names if level == "province" else f"{names} parent_code")
        columns += [
            fid.label("fid"),
            fid.label("key"),
            _labels(d.c.kind, KIND_LABELS_ZH).label("kind_label"),
        ]
        return select(*columns).where(
            d.c.tenant_id == T,
            d.c.level == level,
            func.starts_with(d.c.code, REGION),
            version,
        )

    return source


@cache
def _office_source(when: When) -> Select:
    o, d, c = offices_as("o"), divisions_as("d"), divisions_as("c")
    open_then: ColumnElement[bool]
    if when is When.during:
        open_then = and_(o.c.opened_on <= END, or_(o.c.closed_at.is_(None), o.c.closed_at >= START))
    else:  # as the reports count them
        open_then = active_at(o, Shape(dated=when is When.at, kinds=False))
    # the township and county as scalar subqueries, not joins: a count or a filter that
    # does not read them never looks them up, and a page looks them up for its own rows only
    township = and_(d.c.tenant_id == o.c.tenant_id, d.c.id == o.c.division_id)
    county = and_(
        c.c.tenant_id == o.c.tenant_id,
        c.c.code == func.left(o.c.division_code, 6),
        c.c.valid_to.is_(None),
    )
    return select(
        cast(o.c.id, String).label("fid"),
        o.c.id.label("key"),
        _labels(o.c.acceptance_state, ACCEPTANCE_LABELS_ZH).label("state_label"),
        *_columns(
            o,
            "geom id name located_code staff_total staff_formal staff_civil_servants"
            " area_m2 address phone opened_on accepted_on version",
            code=o.c.division_code,
            state=o.c.acceptance_state,
            township=select(d.c.name).where(township).scalar_subquery(),
            kind=select(d.c.kind).where(township).scalar_subquery(),
            county=select(c.c.name).where(county).scalar_subquery(),
        ),
    ).where(o.c.tenant_id == T, func.starts_with(o.c.division_code, REGION), open_then)


_OFFICE_PROPERTIES = (
    Property("id", "编号", "integer"),
    Property("name", "名称"),
    Property("code", "所在乡镇(街道)代码"),
    Property("township", "乡镇(街道)"),
    Property("kind", "乡镇类型", values=_KIND_VALUES),
    Property("county", "县(市、区)"),
    Property("located_code", "实际位置所在乡镇代码"),
    Property("state", "验收状态", values=_STATE_VALUES),
    Property("state_label", "验收状态名称"),
    Property("staff_total", "在编人数", "integer"),
    Property("staff_formal", "政法专项编制", "integer"),
    Property("staff_civil_servants", "公务员人数", "integer"),
    Property("area_m2", "业务用房面积(平方米)", "number"),
    Property("address", "地址"),
    Property("phone", "电话"),
    Property("opened_on", "设立日期", "date"),
    Property("accepted_on", "验收通过日期", "date"),
    Property("version", "版本", "integer"),
    Property("compliance_score", "规范化达标得分", "number", measured="score"),
    Property("mandatory_met", "必备项全部达标", "boolean", measured="mandatory_met"),
)


@cache
def _coverage_source(when: When) -> Select:
    """Townships with their coverage status, from the reports' own building blocks
    (`towns`, and where the active offices stand: `located`)."""
    if when is When.during:
        raise InvalidParameter(
            "datetime: coverage is of one day; give a date, not an interval",
            {"field": "datetime"},
        )
    shape = Shape(dated=when is When.at, kinds=False)
    t = towns(shape, geometry=True)
    cty = divisions_as("cty")
    joined: Any = t
    if shape.dated:  # where each office stood then: located again over the whole region
        joined, n, misplaced = _placed_then(joined, t, located(shape))
    else:
        joined, n, misplaced = _placed_today(joined, t)
    status = case(
        (n > 1, "conflict"),
        (misplaced, "misplaced"),
        (and_(n == 0, t.c.required), "gap"),
        (t.c.required, "covered"),
        else_="not_required",
    )
    joined = joined.outerjoin(
        cty,
        and_(
            cty.c.tenant_id == T,
            cty.c.code == t.c.parent_code,
            version_valid(cty, AS_OF if shape.dated else None),
        ),
    )
    return select(
        _labels(t.c.kind, KIND_LABELS_ZH).label("kind_label"),
        _labels(status, STATUS_LABELS_ZH).label("status_label"),
        *_columns(
            t,
            "code name kind required",
            fid=t.c.code,
            key=t.c.code,
            geom=t.c.geom,
            county=cty.c.name,
        ),
        n.label("offices"),
        status.label("status"),
    ).select_from(joined)


def _placed_today(joined: Any, t: Any) -> tuple[Any, ColumnElement[Any], ColumnElement[bool]]:
    """Each township's active offices standing in it, and whether an office registered to it
    stands elsewhere, from the stored relation (`located_code`): two index lookups per
    township (ix_offices_located_code_active, ix_offices_misplaced), so that a tile or a
    page reads the offices of its own townships only, not the whole region's."""
    o, m = offices_as("o"), offices_as("m")
    present = (
        select(func.count().label("n"))
        .where(o.c.tenant_id == T, o.c.closed_at.is_(None), o.c.located_code == t.c.code)
        .lateral("present")
    )
    astray = (
        select(m.c.id)
        .where(
            m.c.tenant_id == T,
            m.c.closed_at.is_(None),
            m.c.division_code == t.c.code,
            m.c.located_code.is_distinct_from(m.c.division_code),
        )
        .limit(1)
        .lateral("astray")
    )
    joined = joined.join(present, true()).outerjoin(astray, true())
    return joined, present.c.n, astray.c.id.is_not(None)


def _placed_then(
    joined: Any, t: Any, lo: Any
) -> tuple[Any, ColumnElement[Any], ColumnElement[bool]]:
    """The same at a past date, over `located` (the offices active then, where they stood)."""
    present = (
        select(lo.c.code, func.count().label("n"))
        .where(lo.c.code.is_not(None))
        .group_by(lo.c.code)
        .cte("present")
    )
    astray = (
        select(lo.c.division_code.label("code"))
        .where(lo.c.code.is_distinct_from(lo.c.division_code))
        .distinct()
        .cte("astray")
    )
    joined = joined.outerjoin(present, present.c.code == t.c.code).outerjoin(
        astray, astray.c.code == t.c.code
    )
    return joined, func.coalesce(present.c.n, 0), astray.c.code.is_not(None)


_COVERAGE_PROPERTIES = (
    *_DIVISION,
    Property("county", "县(市、区)"),
    Property("required", "必须设所", "boolean"),
    Property("offices", "所在司法所数", "integer"),
    Property("status", "覆盖情况", values=tuple(STATUS_LABELS_ZH)),
    Property("status_label", "覆盖情况名称"),
)

_LEVELS = {
    "provinces": ("province", "省级行政区", "省、自治区、直辖市的边界"),
    "cities": ("city", "地级行政区", "地级市、地区、自治州、盟的边界"),
    "counties": ("county", "县级行政区", "县、县级市、市辖区、旗的边界"),
    "townships": ("township", "乡级行政区", "乡、镇、街道及其他乡级单位的边界"),
}

COLLECTIONS: dict[str, Collection] = {
    **{
        cid: Collection(
            id=cid,
            title=title,
            description=f"{description}。datetime 选取当时有效的区划版本(默认:现行版本)。",
            geometry="MultiPolygon",
            properties=_division_properties(level),
            temporal="versions",
            source=_division_source(level),
        )
        for cid, (level, title, description) in _LEVELS.items()
    },
    "offices": Collection(
        id="offices",
        title="司法所",
        description=(
            "司法所的位置、验收状态、人员与业务用房面积,及按规范化标准自查的得分。datetime"
            " 选取当时在册的司法所(默认:现有司法所);得分按当日施行的标准计算(时间段取其"
            "末日,晚于今日则取今日),与司法所自查表一致,不能用于筛选、排序和矢量瓦片。"
        ),
        geometry="Point",
        properties=_OFFICE_PROPERTIES,
        temporal="open",
        source=_office_source,
        key_type=int,
        reads=("offices", "divisions"),  # the township's and county's names come with it
        tile_properties=("id", "name", "state", "kind", "staff_total"),
    ),
    "coverage": Collection(
        id="coverage",
        title="乡镇司法所覆盖情况",
        description=(
            "乡级行政区及其覆盖情况:已设司法所、未设(空白)、重复设所、司法所位置不在本乡镇、"
            "非必设单位——与覆盖情况报表、覆盖情况图同一口径。datetime 取某一日(默认:今日)。"
        ),
        geometry="MultiPolygon",
        properties=_COVERAGE_PROPERTIES,
        temporal="day",
        source=_coverage_source,
        reads=("divisions", "offices"),
        tile_properties=("code", "name", "kind", "status"),
    ),
}
