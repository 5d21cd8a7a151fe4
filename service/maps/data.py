"""What each themed map of a region shows, read with the same queries as the reports (so
the map and the report never disagree): coverage from the coverage engine, states and
re-inspections from the acceptance overview, facility status and staffing from the
compliance facts, rates from the summary and progress reports."""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

from sqlalchemy import (
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from maps.data import DETAIL_FROM, Area, MapData, OfficeMark
from service.acceptance import reports as acceptance
from service.acceptance.predicates import reinspection_due
from service.accounts.scope import Scope
from service.core.db import fetch_dicts, plan_for_values
from service.core.errors import Invalid
from service.coverage import reports as coverage
from service.coverage.predicates import (
    KINDS,
    Shape,
    T,
    active_at,
    divisions_as,
    in_region,
    offices_as,
    towns,
    valid_at,
)
from service.coverage.query import CoverageFilter
from service.coverage.service import GENERATED_NOTE
from service.divisions.kinds import TOWNSHIP_KIND_LABELS_ZH
from service.maps.geometry import bounds, display_geometry
from service.offices.states import ACCEPTANCE_LABELS_ZH, TITLED, AcceptanceState
from service.standards import service as standards
from service.standards.facts import evaluation_params, shape_of, status_params, statuses
from service.tenants.models import Tenant

FACILITY_CATEGORY = "基础设施"
# the themes with a map of the whole nation (region ""): the aggregates, and every township
# by coverage (its townships and lines come as vector tiles, and no office is drawn)
NATION_THEMES = frozenset({"aggregates", "coverage"})
# what map_data is asked for: a page, a printed map, or the offices of a page that draws
# them after it has loaded (its `offices_url`)
Purpose = Literal["page", "print", "offices"]


def tiled(region: str) -> bool:
    """A page of a city, a province or the nation draws its townships and its county and
    city lines from the service's vector tiles (full detail at every zoom, a small page) and
    loads its offices after it; a county's page (a few dozen townships) carries them itself."""
    return len(region) <= 4


@cache
def _offices_stmt(shape: Shape, by_state: bool) -> Select:
    """The offices of the map (active at the date; of a state, of township kinds), with
    their township, county and re-inspection due date."""
    o, d, c = offices_as("o"), divisions_as("d"), divisions_as("c")
    tenants = Tenant.__table__
    due = reinspection_due(o, months=tenants.c.reinspection_months)
    stmt = (
        select(
            o.c.id,
            o.c.name,
            func.ST_X(o.c.geom).label("lon"),
            func.ST_Y(o.c.geom).label("lat"),
            o.c.division_code,
            d.c.name.label("division_name"),
            d.c.kind,
            c.c.name.label("county_name"),
            o.c.staff_total,
            o.c.staff_civil_servants,
            o.c.area_m2,
            o.c.acceptance_state.label("state"),
            due.label("due_on"),
        )
        .select_from(
            o.join(tenants, tenants.c.id == o.c.tenant_id)
            .join(d, and_(d.c.tenant_id == o.c.tenant_id, d.c.id == o.c.division_id))
            .outerjoin(
                c,
                and_(
                    c.c.tenant_id == o.c.tenant_id,
                    c.c.code == d.c.parent_code,
                    valid_at(c, shape),
                ),
            )
        )
        .where(o.c.tenant_id == T, in_region(o.c.division_code, shape), active_at(o, shape))
        .order_by(o.c.id)
    )
    if by_state:
        stmt = stmt.where(o.c.acceptance_state == bindparam("state", type_=String))
    if shape.kinds:
        stmt = stmt.where(d.c.kind == any_(KINDS))
    return stmt


_DIRECTOR = """
SELECT s.office_id,
       bool_or(s.position = 'director' AND s.civil_servant AND s.college AND s.law_major)
         AS director_ok
  FROM office_staff s
 WHERE s.tenant_id = :t AND s.left_on IS NULL AND s.office_id = ANY(:ids)
 GROUP BY s.office_id"""


def map_data(
    *,
    session: Session,
    scope: Scope,
    theme: str,
    region: str,
    as_of: date | None,
    state: str | None,
    kinds: tuple[str, ...] | None,
    purpose: Purpose = "page",
) -> MapData:
    """What the map of `theme` shows of `region` (`purpose`: for a page, a printed map, or
    only the offices that a page loads after it)."""
    if len(region) < 2 and (theme not in NATION_THEMES or purpose == "offices"):
        raise Invalid(
            "region: a national map shows only the aggregates and the townships' coverage,"
            " without offices; choose a province or smaller",
            {"field": "region"},
        )
    f = CoverageFilter(
        tenant_id=scope.tenant_id,
        region=region,
        as_of=as_of,
        kinds=kinds,
        required_kinds=scope.required_kinds,
    )
    plan_for_values(session)
    filters = {"as_of": as_of, "state": state, "kinds": kinds}
    if purpose == "offices":
        data = MapData(title=theme, region_code=region, region_name="", bounds=None)
        data.filters = filters
        data.labels = {"state": dict(ACCEPTANCE_LABELS_ZH)}
        _theme_offices(session, scope, f, data, theme, state, as_of)
        return data
    names = _names(session, f, region)
    data = MapData(
        title=theme,
        region_code=region,
        region_name=names.get(region, region or "全国"),
        bounds=bounds(session, f, region),
        note=GENERATED_NOTE if coverage.generated_boundaries(session, f) else None,
        filters=filters,
        labels={"state": dict(ACCEPTANCE_LABELS_ZH), "kind": dict(TOWNSHIP_KIND_LABELS_ZH)},
    )
    if as_of is not None:
        data.messages.extend(_date_messages(session, f, as_of))
    from_tiles = purpose == "page" and tiled(region)
    if theme == "aggregates":
        if from_tiles:
            data.tiles = tile_urls(theme, region, as_of, kinds)
        _aggregates(session, scope, f, region, data, names, outlines=not from_tiles)
        return data
    if from_tiles:
        data.tiles = tile_urls(theme, region, as_of, kinds)
        if region:
            data.offices_url = offices_url(theme, region, as_of, state, kinds)
    else:
        # the county and city lines drawn over the townships: those of the region, or the
        # county and city the region lies in
        data.counties = _areas(session, f, "county", region[:6], names)
        data.cities = _areas(session, f, "city", region[:4], names)
    if region:  # (the nation's map draws no office: 40,000 marks say nothing at that scale)
        _theme_offices(session, scope, f, data, theme, state, as_of)
    if theme in ("coverage", "acceptance"):
        data.townships, gap_codes = _townships(
            session, f, region, data.offices, theme, outlines=not from_tiles
        )
        if theme == "coverage":
            data.counting_note = gap_note(data.townships, gap_codes)
    return data


def _theme_offices(
    session: Session,
    scope: Scope,
    f: CoverageFilter,
    data: MapData,
    theme: str,
    state: str | None,
    as_of: date | None,
) -> None:
    """The offices of the map with what the theme colours them by."""
    data.offices = _offices(session, scope, f, state)
    if theme == "facility":
        _facility(session, scope, f, data.offices, as_of)
    if theme == "staffing":
        _staffing(session, scope, data.offices)


TILE_PATH = "/ogc/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?{query}"
PAGE_TILE_PATH = "/maps/{theme}/tiles/{{z}}/{{y}}/{{x}}?{query}"
# the layers of a page's tile (service/maps/tiles.py), each as the OGC API's tile of its
# collection with these parameters: the townships' coverage class and what the popup
# shows; below DETAIL_FROM the townships' code and class (the acceptance map looks its
# states up by code), or the class alone with the townships of a class merged in each tile
# (the coverage map: a national view draws a few features a tile instead of 35,000 paths);
# the county and city lines, their outlines alone, merged into one feature a tile
TOWNSHIPS = {"properties": "code,name,kind,status,offices"}
TOWNSHIPS_LOW = {"acceptance": {"properties": "code,status"}}
CLASSES_LOW = {"properties": "status", "coalesce": True}
LINES = {"properties": "", "coalesce": True}
# the counties and cities of the aggregates, with their codes and names (OGC API tiles)
AREAS = {"county_areas": "counties", "city_areas": "cities"}


def tile_parts(theme: str, z: int) -> list[tuple[str, dict[str, Any]]]:
    """The layers of a page's tile at zoom `z`: (collection, the OGC tile's parameters)."""
    parts: list[tuple[str, dict[str, Any]]] = []
    if theme in ("coverage", "acceptance"):
        low = TOWNSHIPS_LOW.get(theme, CLASSES_LOW)
        parts.append(("coverage", TOWNSHIPS if z >= DETAIL_FROM else low))
    if z >= DETAIL_FROM:
        parts.append(("counties", LINES))
    parts.append(("cities", LINES))
    return parts


def tile_urls(
    theme: str, region: str, as_of: date | None, kinds: tuple[str, ...] | None
) -> dict[str, str]:
    """Leaflet URL templates of a page's tiles with its filters: its townships and lines in
    one tile (`page`: the same region guard and filters as the page), or the counties and
    cities of the aggregates (the OGC API's tiles; the region in CQL2: digits, checked)."""
    if theme != "aggregates":
        query: list[tuple[str, str]] = [("region", region)]
        query += [("kind", k) for k in kinds or ()]
        if as_of is not None:
            query.append(("as_of", as_of.isoformat()))
        return {"page": PAGE_TILE_PATH.format(theme=theme, query=urlencode(query))}
    out = {}
    for name, collection in AREAS.items():
        asked = {"properties": "code,name"}
        if as_of is not None:
            asked["datetime"] = as_of.isoformat()
        if region:
            asked["filter"] = f"code LIKE '{region}%'"
        out[name] = TILE_PATH.format(collection=collection, query=urlencode(asked))
    return out


def offices_url(
    theme: str, region: str, as_of: date | None, state: str | None, kinds: tuple[str, ...] | None
) -> str:
    """Where a page loads its offices from: the same filters, the same region guard."""
    query: list[tuple[str, str]] = [("region", region)]
    if state:
        query.append(("state", state))
    query += [("kind", k) for k in kinds or ()]
    if as_of is not None:
        query.append(("as_of", as_of.isoformat()))
    return f"/maps/{theme}/offices?{urlencode(query)}"


def gap_note(townships: list[Area], gap_codes: set[str]) -> str:
    """How the map's gap count relates to the reports': the same townships, some drawn in the
    class "office standing elsewhere" (registered there, standing outside)."""
    drawn = {a.code: a.props["coverage"] for a in townships}
    on_map = sum(1 for c in gap_codes if drawn.get(c) == "gap")
    elsewhere = sum(1 for c in gap_codes if drawn.get(c) == "misplaced")
    text = (
        f"“空白”按司法所的实际位置统计,与工作台、空白乡镇名单同一口径,共 {len(gap_codes)} 个:"
        f"图中“未设司法所(空白)”{on_map} 个"
    )
    if elsewhere:
        text += f",另有 {elsewhere} 个乡镇登记有司法所、但司法所位置在乡镇外,图中归入“司法所位置不在本乡镇”"
    return text + "。"


def _date_messages(session: Session, f: CoverageFilter, as_of: date) -> list[str]:
    """A date before the region's first boundaries (or first office) draws an empty map:
    say so, and from when there is data."""
    first = session.execute(
        text(
            "SELECT (SELECT min(valid_from) FROM divisions WHERE tenant_id = :t"
            "         AND starts_with(code, :region)) AS boundaries,"
            "       (SELECT min(opened_on) FROM offices WHERE tenant_id = :t"
            "         AND starts_with(division_code, :region)) AS offices"
        ),
        {"t": f.tenant_id, "region": f.region},
    ).one()
    if first.boundaries is None or as_of < first.boundaries:
        since = f",区划数据自 {first.boundaries} 起" if first.boundaries else ""
        return [f"所选日期 {as_of} 没有区划数据{since},地图无内容可显示;请选择以后的日期。"]
    if first.offices is None or as_of < first.offices:
        since = f"最早的司法所设立于 {first.offices}" if first.offices else "尚无司法所"
        return [f"截至 {as_of} 没有在册的司法所({since})。"]
    return []


@cache
def _names_stmt(shape: Shape) -> Select:
    """The names of the province's regions above the township."""
    d = divisions_as("d")
    return select(d.c.code, d.c.name).where(
        d.c.tenant_id == T,
        d.c.level.in_(("province", "city", "county")),
        func.starts_with(d.c.code, bindparam("p", type_=String)),
        valid_at(d, shape),
    )


def _names(session: Session, f: CoverageFilter, region: str) -> dict[str, str]:
    rows = session.execute(_names_stmt(Shape.of(f)), {**f.params(), "p": region[:2]})
    return {r.code: r.name for r in rows}


def _areas(
    session: Session,
    f: CoverageFilter,
    level: str,
    region: str,
    names: dict[str, str],
) -> list[Area]:
    geometry = display_geometry(session, f, level, region)
    return [Area(code, names.get(code, code), g) for code, g in geometry.items()]


@cache
def _towns_stmt(shape: Shape) -> Select:
    t = towns(shape)
    return select(t.c.code, t.c.name, t.c.kind, t.c.required)


def _townships(
    session: Session,
    f: CoverageFilter,
    region: str,
    offices: list[OfficeMark],
    theme: str,
    *,
    outlines: bool = True,
) -> tuple[list[Area], set[str]]:
    """The townships with what the theme colours them by (`outlines`: with their display
    geometry; else none, the map draws them from tiles); and the coverage reports' gaps."""
    geometry = display_geometry(session, f, "township", region) if outlines else None
    rows = fetch_dicts(session, _towns_stmt(Shape.of(f)), f.params())
    status: dict[str, str] = {}
    gap_codes: set[str] = set()
    if theme == "coverage":
        _, gaps = coverage.gaps(session, f, required=True, limit=None, offset=0)
        _, conflicts = coverage.conflicts(session, f, limit=None, offset=0)
        _, misplaced = coverage.misplaced(session, f, limit=None, offset=0)
        gap_codes = {r.code for r in gaps}
        status.update(dict.fromkeys(gap_codes, "gap"))
        status.update({r.registered_code: "misplaced" for r in misplaced})
        status.update({r.code: "conflict" for r in conflicts})
    registered: dict[str, list[OfficeMark]] = {}
    for o in offices:
        registered.setdefault(o.division_code, []).append(o)
    rank = {s.value: i for i, s in enumerate(AcceptanceState)}
    out = []
    for r in rows:
        code = r["code"]
        if geometry is not None and code not in geometry:
            continue
        own = registered.get(code, [])
        props: dict[str, Any] = {"kind": r["kind"], "offices": len(own), "county": code[:6]}
        if theme == "coverage":
            props["coverage"] = status.get(code) or ("covered" if r["required"] else "not_required")
        else:
            props["state"] = max((o.state for o in own), key=rank.__getitem__) if own else None
        out.append(Area(code, r["name"], geometry[code] if geometry is not None else {}, props))
    return out, gap_codes


def _offices(
    session: Session, scope: Scope, f: CoverageFilter, state: str | None
) -> list[OfficeMark]:
    stmt = _offices_stmt(Shape.of(f), state is not None)
    rows = fetch_dicts(session, stmt, {**f.params(), "state": state, "titled": list(TITLED)})
    today = date.today()
    return [
        OfficeMark(
            id=r["id"],
            name=r["name"],
            lon=float(r["lon"]),
            lat=float(r["lat"]),
            division_code=r["division_code"],
            division_name=r["division_name"],
            county_name=r["county_name"] or "",
            staff_total=r["staff_total"],
            area_m2=float(r["area_m2"]) if r["area_m2"] is not None else None,
            state=r["state"],
            state_label=ACCEPTANCE_LABELS_ZH[AcceptanceState(r["state"])],
            url=f"/offices/{r['id']}",
            props={
                "civil_servants": r["staff_civil_servants"],
                "due_on": str(r["due_on"]) if r["due_on"] else None,
                "overdue": bool(r["due_on"] and r["due_on"] < today),
            },
        )
        for r in rows
    ]


def _facility(
    session: Session, scope: Scope, f: CoverageFilter, offices: list[OfficeMark], as_of: date | None
) -> None:
    """all_met / some_missing / unknown per office, on the facility criteria of the
    standard in force (the same evaluation as the compliance report)."""
    standard = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=None, as_of=as_of)
    criteria = [
        c
        for c in standards.criteria_of(session=session, standard=standard)
        if c.category == FACILITY_CATEGORY
    ]
    by_office: dict[int, list[int | None]] = {}
    if criteria:
        result = session.execute(
            select(statuses(shape_of(criteria))),
            {
                "t": scope.tenant_id,
                "region": f.region,
                "offices": None,
                **evaluation_params(standard, as_of or date.today()),
                **status_params(criteria),
            },
        )
        n = len(criteria)
        by_office = {r[0]: list(r[2 : 2 + n]) for r in result}
    for o in offices:
        applying = [s for s in by_office.get(o.id, ()) if s is not None]
        failed = [
            c.missing for c, s in zip(criteria, by_office.get(o.id, ()), strict=False) if s == 0
        ]
        if not applying or (-1 in applying and not failed):
            o.props["facility"] = "unknown"
        else:
            o.props["facility"] = "some_missing" if failed else "all_met"
        o.props["facility_missing"] = "、".join(failed)


def _staffing(session: Session, scope: Scope, offices: list[OfficeMark]) -> None:
    rows = fetch_dicts(session, _DIRECTOR, {"t": scope.tenant_id, "ids": [o.id for o in offices]})
    director = {r["office_id"]: r["director_ok"] for r in rows}
    for o in offices:
        cs = o.props.get("civil_servants")
        o.props["no_civil_servant"] = cs == 0
        o.props["director_unqualified"] = director.get(o.id) is False
        problems = [
            label
            for flag, label in (
                ("no_civil_servant", "无公务员"),
                ("director_unqualified", "所长不符合条件"),
            )
            if o.props[flag]
        ]
        o.props["problems"] = "、".join(problems)


def _aggregates(
    session: Session,
    scope: Scope,
    f: CoverageFilter,
    region: str,
    data: MapData,
    names: dict[str, str],
    *,
    outlines: bool,
) -> None:
    """The counties and cities of `region` with their rates; their outlines too, unless the
    page draws them from the tiles."""
    levels = ["city"] if len(region) < 2 else ["county", "city"] if len(region) == 2 else ["county"]
    for level in levels:
        size = {"city": 4, "county": 6}[level]  # (the length of its codes)
        if len(region) >= size:
            continue
        rates = {r.code: r for r in coverage.summary(session, f, level=level)}
        progress = acceptance.progress(
            session=session, scope=scope, region=region, as_of=f.as_of, level=level
        )
        target = progress.target.share
        by_code = {p.code: p for p in progress.regions}
        areas = []
        if outlines:
            shapes = display_geometry(session, f, level, region)
        else:
            shapes = {c: {} for c in names if len(c) == size and c.startswith(region)}
        for code, geometry in shapes.items():
            cov = rates.get(code)
            prog = by_code.get(code)
            share = prog.share if prog else None
            props: dict[str, Any] = {
                "required": cov.required if cov else None,
                "covered": cov.covered if cov else None,
                "coverage_rate": cov.coverage_rate if cov else None,
                "offices": prog.offices if prog else None,
                "accepted": prog.offices_titled if prog else None,
                "acceptance_rate": share,
                "target": target,
                "progress_ratio": math.floor(min(share / target, 1.0) * 10_000) / 10_000
                if share is not None and target
                else share,
                "progress_zh": acceptance.PROGRESS_STATUS_ZH[prog.status] if prog else None,
            }
            for key in ("coverage_rate", "acceptance_rate", "target"):
                value = props[key]
                if value is not None:  # (floored: the colour classes' bounds are kept)
                    props[key] = math.floor(value * 10_000) / 10_000
                props[key.replace("_rate", "") + "_pct"] = (
                    None if value is None else round(value * 100, 1)
                )
            areas.append(Area(code, names.get(code, code), geometry, props))
        if level == "county":
            data.counties = areas
        else:
            data.cities = areas
