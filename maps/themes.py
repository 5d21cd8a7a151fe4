"""The five themed maps of a region: coverage, facility status, staffing, acceptance state,
and county/city aggregates. Each: its layers in a layer control, a legend with counts, and
Chinese tooltips and popups. Colours and counts come from the data's properties, which the
service fills from the same queries as its reports; what a colour means and what a legend
counts is in maps/symbols.py, which the printed maps (maps/printed.py) share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import folium

from maps.base import Basemap, new_map
from maps.data import DETAIL_FROM, Area, MapData
from maps.layers import (
    FetchedOffices,
    PopupSpec,
    Style,
    TilePart,
    VectorTiles,
    boundary_layer,
    ensure_feature_script,
    office_collection,
    office_layer,
    office_popup,
    polygon_layer,
    row,
    values_table,
)
from maps.legend import Legend, add_legend
from maps.metric import MetricSwitch
from maps.symbols import (
    COVERAGE,
    COVERAGE_LABELS,
    FACILITY,
    NO_OFFICE,
    NO_RATE,
    RATE_CLASSES,
    STATE_COLOURS,
    TITLES,
    TOWNSHIP_FILL,
    LegendSpec,
    legend_of,
    office_fill,
    office_ring,
    rate_color,
    staffing_radius,
)


def _fill(color: str, opacity: float = 0.55) -> dict[str, Any]:
    return {"fillColor": color, "color": "#616161", "weight": 0.6, "fillOpacity": opacity}


# the county and city lines: name, collection, colour, weight (from tiles, the county
# lines come from zoom DETAIL_FROM: below it a county is a few pixels wide)
LINES = [
    ("县级界线", "counties", "#37474f", 1.6),
    ("市级界线", "cities", "#000000", 2.6),
]


def _frame(data: MapData, basemap: Basemap, theme: str) -> folium.Map:
    """The map with its county and city lines: parts of the page's tiles (with the
    townships, which the theme adds), or GeoJSON layers of the page."""
    m = new_map(data.bounds, basemap, f"{data.region_name}{TITLES[theme]}")
    ensure_feature_script(m)  # (the tooltips and popups of the layers added later)
    if "page" in data.tiles:
        # (the townships' part, if the theme has one, is set up by _townships)
        grid = VectorTiles("乡镇(街道)", data.tiles["page"], detail_from=DETAIL_FROM)
        m.add_child(grid.parted(), name="page_tiles")
    for name, collection, colour, weight in LINES:
        if "page" in data.tiles:
            grid.add_lines(collection, colour, weight)
            TilePart(name, grid, collection).add_to(m)
        elif areas := getattr(data, collection):
            boundary_layer(name, areas, colour, weight).add_to(m)
    return m


def _townships(
    m: folium.Map, data: MapData, theme: str, name: str, popup: PopupSpec, opacity: float
) -> None:
    """The townships filled by the theme's class: a part of the page's tiles (a city, a
    province or the nation; the coverage class is the tiles' `status`, the acceptance state
    is sent by township code), or the page's own GeoJSON."""
    if not data.tiles:
        fill = TOWNSHIP_FILL[theme]
        polygon_layer(
            m, name, data.townships, lambda f: _fill(fill(f["properties"]), opacity), popup
        )
        return
    if theme == "coverage":
        # (the tiles' `status` is the class the page's own townships call `coverage`)
        key, colours = "coverage", {k: colour for k, (colour, _) in COVERAGE.items()}
        values, aliases = None, {"coverage": "status"}
    else:
        key, colours = "state", dict(STATE_COLOURS)
        states = {a.code: a.props for a in data.townships if a.props.get("state")}
        values, aliases = values_table(states, ["state"]), None
    grid = m._children["page_tiles"]
    assert isinstance(grid, VectorTiles)
    grid.fill(
        "coverage",
        key=key,
        colours=colours,
        fallback=NO_OFFICE[0],
        values=values,
        aliases=aliases,
        popup=popup,
        opacity=opacity,
        edges_from=7,
    )
    TilePart(name, grid, "coverage").add_to(m)


def _office_style(theme: str, data: MapData, edge: str) -> Callable[[dict[str, Any]], dict]:
    """Each office's mark on the map of `theme`: its fill, and the ring that flags it (3 px;
    dashed, and sized by staff, on the staffing map) or a thin `edge`."""
    offices = {o.id: o for o in data.offices}

    def style(f: dict[str, Any]) -> dict[str, Any]:
        office = offices[f["id"]]
        ring = office_ring(theme, office)
        out: dict[str, Any] = {
            "fillColor": office_fill(theme, office),
            "color": ring or edge,
            "weight": 3 if ring else 1,
        }
        if theme == "staffing":
            out["dashArray"] = "3 3" if ring else None
            out["radius"] = staffing_radius(office.staff_total)
        return out

    return style


def _office_marks(theme: str, data: MapData) -> tuple[str, Style, PopupSpec]:
    """The theme's office layer: its name, each mark's style and the popup."""
    if theme == "coverage":
        return "司法所", lambda f: {"color": "#212121", "fillColor": "#ffffff"}, office_popup(data)
    if theme == "acceptance":
        popup = office_popup(
            data,
            [row("应复验日期", "due_on"), row("复验逾期", "overdue", labels="yesno")],
            {"yesno": {"true": "是", "false": "否"}},
        )
        return "司法所", _office_style("acceptance", data, "#212121"), popup
    if theme == "facility":
        popup = office_popup(
            data,
            [
                row("设施", "facility", labels="facility"),
                row("缺项", "facility_missing", default="无"),
            ],
            {"facility": {k: label for k, (_, label) in FACILITY.items()}},
        )
        return "司法所设施", _office_style("facility", data, "#212121"), popup
    popup = office_popup(
        data, [row("公务员", "civil_servants", unit=" 人"), row("问题", "problems", default="无")]
    )
    return "司法所人员", _office_style("staffing", data, "#616161"), popup


def _offices(m: folium.Map, theme: str, data: MapData) -> None:
    """The theme's offices: in the page, or loaded by it from `data.offices_url` (the
    marks and styles office_features makes); none on the nation's map."""
    if len(data.region_code) < 2:
        return
    name, style, popup = _office_marks(theme, data)
    if data.offices_url:
        FetchedOffices(name, data.offices_url, popup).add_to(m)
    else:
        office_layer(m, name, data.offices, style, popup)


def office_features(theme: str, data: MapData) -> dict[str, Any]:
    """The offices of the map of `theme` as GeoJSON, each with the `style` of its mark —
    what a page that loads its offices (FetchedOffices) draws, the same marks as in a page."""
    _, style, _ = _office_marks(theme, data)
    features = office_collection(data.offices)
    for f in features["features"]:
        f["style"] = {k: v for k, v in style(f).items() if v is not None}
    return features


def _finish(m: folium.Map, spec: LegendSpec) -> folium.Map:
    add_legend(m, Legend(spec.key, spec.title, spec.entries, spec.note, spec.shape))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def coverage_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Townships coloured has office / gap / conflict / misplaced / not required."""
    m = _frame(data, basemap, "coverage")
    popup = PopupSpec(
        title="name",
        rows=[
            row("代码", "code"),
            row("类型", "kind", labels="kind"),
            row("覆盖情况", "coverage", labels="coverage"),
            row("在册司法所", "offices"),
        ],
        link=_county_link(data),
        labels={"kind": data.labels.get("kind", {}), "coverage": COVERAGE_LABELS},
    )
    _townships(m, data, "coverage", "乡镇(街道)覆盖情况", popup, 0.55)
    _offices(m, "coverage", data)
    return _finish(m, legend_of("coverage", data))


def _drill(data: MapData, theme: str, key: str, text: str) -> tuple[str, str, str] | None:
    """A popup's link to the map of the feature's region (`key`: the property with its code)."""
    return (data.drill.format(theme=theme), key, text) if data.drill else None


def _county_link(data: MapData) -> tuple[str, str, str] | None:
    """A township's popup links to its county's map (drill-down), unless this is one."""
    if len(data.region_code) >= 6:
        return None
    return _drill(data, data.title, "county", "打开所在县(市、区)的地图")


def acceptance_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Offices and their townships coloured by acceptance state; overdue re-inspections
    ringed in red."""
    m = _frame(data, basemap, "acceptance")
    popup = PopupSpec(
        title="name",
        rows=[
            row("代码", "code"),
            row("验收状态", "state", labels="state", default=NO_OFFICE[1]),
        ],
        link=_county_link(data),
        labels={"state": data.labels.get("state", {})},
    )
    _townships(m, data, "acceptance", "乡镇(街道)验收状态", popup, 0.5)
    _offices(m, "acceptance", data)
    return _finish(m, legend_of("acceptance", data))


def facility_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Offices coloured by the facility criteria of their standard."""
    m = _frame(data, basemap, "facility")
    _offices(m, "facility", data)
    return _finish(m, legend_of("facility", data))


def staffing_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Offices sized by staff and coloured against ≥3 / ≥5; a dashed black ring flags no
    civil servant or a director without the required status or degree."""
    m = _frame(data, basemap, "staffing")
    _offices(m, "staffing", data)
    return _finish(m, legend_of("staffing", data))


AGGREGATES: list[tuple[str, str, Callable[[Area], float | None]]] = [
    ("coverage_rate", "覆盖率", lambda a: a.props.get("coverage_rate")),
    ("acceptance_rate", "规范化率", lambda a: a.props.get("acceptance_rate")),
    ("progress_ratio", "规范化率/目标", lambda a: a.props.get("progress_ratio")),
]


# what the aggregates' popups and colours read of a region (the tiles give its code and name)
AGGREGATE_PROPERTIES = [
    "required",
    "covered",
    "coverage_pct",
    "offices",
    "accepted",
    "acceptance_pct",
    "target_pct",
    "progress_zh",
    *(key for key, _, _ in AGGREGATES),
]


def aggregates_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """County and city choropleths of coverage rate, acceptance rate and progress against
    the tenant's target (acceptance rate ÷ target share at the date, capped at 1). One
    polygon layer per level; a switch recolours them by the chosen rate."""
    m = new_map(data.bounds, basemap, f"{data.region_name}{TITLES['aggregates']}")
    ensure_feature_script(m)  # (the tiles' tooltips and popups)
    popup = PopupSpec(
        title="name",
        rows=[
            row("代码", "code"),
            row("应设司法所", "required"),
            row("已覆盖", "covered"),
            row("覆盖率", "coverage_pct", unit="%"),
            row("司法所", "offices"),
            row("规范化司法所", "accepted"),
            row("规范化率", "acceptance_pct", unit="%"),
            row("当期目标", "target_pct", unit="%"),
            row("进度", "progress_zh"),
        ],
    )
    layers: list[Any] = []
    for level, areas, theme, tiled in (
        ("县级", data.counties, "coverage", "county_areas"),
        ("市级", data.cities, None, "city_areas"),
    ):
        if not areas:
            continue
        # a city opens its own statistics map; a county, its townships' coverage map
        link = _drill(data, theme or "aggregates", "code", "打开该区域的地图")
        spec = PopupSpec(popup.title, popup.rows, link, popup.labels)
        name, first = f"{level}分区", AGGREGATES[0][0]
        if tiled not in data.tiles:
            layers.append(polygon_layer(m, name, areas, _rate_style(first), spec))
            continue
        # from the tiles (their outlines and names), the rates sent by code
        rates = values_table({a.code: a.props for a in areas}, AGGREGATE_PROPERTIES)
        tiles = VectorTiles(name, data.tiles[tiled]).fill(
            "counties" if tiled == "county_areas" else "cities",
            key=first,
            classes=RATE_CLASSES,
            fallback=NO_RATE,
            values=rates,
            popup=spec,
            opacity=0.7,
        )
        layers.append(tiles.add_to(m))
    m.add_child(MetricSwitch(layers, [(k, label) for k, label, _ in AGGREGATES], RATE_CLASSES))
    return _finish(m, legend_of("aggregates", data))


def _rate_style(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda f: _fill(rate_color(f["properties"].get(key)), 0.7)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


BUILDERS: dict[str, Callable[[MapData, Basemap], folium.Map]] = {
    "coverage": coverage_map,
    "facility": facility_map,
    "staffing": staffing_map,
    "acceptance": acceptance_map,
    "aggregates": aggregates_map,
}


def build_map(theme: str, data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    return BUILDERS[theme](data, basemap)
