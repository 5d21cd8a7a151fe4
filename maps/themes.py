"""The five themed maps of a region: coverage, facility status, staffing, acceptance state,
and county/city aggregates. Each: its layers in a layer control, a legend with counts, and
Chinese tooltips and popups. Colours and counts come from the data's properties, which the
service fills from the same queries as its reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import folium

from maps.base import Basemap, new_map
from maps.data import Area, MapData
from maps.layers import PopupSpec, boundary_layer, office_layer, office_popup, polygon_layer, row
from maps.legend import Legend, add_legend
from maps.metric import MetricSwitch

COVERAGE = {  # township status → (colour, label)
    "covered": ("#2e7d32", "已设司法所"),
    "gap": ("#d32f2f", "未设司法所(空白)"),
    "conflict": ("#f57c00", "重复设所"),
    "misplaced": ("#7b1fa2", "司法所位置不在本乡镇"),
    "not_required": ("#bdbdbd", "非必设单位"),
}
# acceptance state → colour (their names come with the data: `MapData.labels["state"]`)
STATE_COLOURS = {
    "not_applied": "#9e9e9e",
    "self_checked": "#90caf9",
    "district_review": "#64b5f6",
    "applied": "#1e88e5",
    "rejected": "#e53935",
    "accepted": "#43a047",
    "filed": "#2e7d32",
    "recommended": "#fdd835",
    "excellent": "#ff8f00",
    "revoked": "#6d4c41",
}
NO_OFFICE = ("#eeeeee", "无司法所")  # a township of the acceptance map without an office
FACILITY = {
    "all_met": ("#2e7d32", "设施要求全部达标"),
    "some_missing": ("#f9a825", "部分设施缺项"),
    "unknown": ("#9e9e9e", "设施情况未填报"),
}
STAFFING = {
    "five_plus": ("#2e7d32", "5人以上"),
    "three_plus": ("#1e88e5", "3至4人"),
    "under_three": ("#d32f2f", "不足3人"),
    "unknown": ("#9e9e9e", "人数未填报"),
}
RATE_CLASSES = [  # (upper bound, colour)
    (0.2, "#d73027"),
    (0.4, "#fc8d59"),
    (0.6, "#fee08b"),
    (0.8, "#91cf60"),
    (1.01, "#1a9850"),
]


def _fill(color: str, opacity: float = 0.55) -> dict[str, Any]:
    return {"fillColor": color, "color": "#616161", "weight": 0.6, "fillOpacity": opacity}


def _frame(data: MapData, basemap: Basemap, theme: str) -> folium.Map:
    m = new_map(data.bounds, basemap, f"{data.region_name}{theme}")
    if data.counties:
        boundary_layer("县级界线", data.counties, "#37474f", 1.6).add_to(m)
    if data.cities:
        boundary_layer("市级界线", data.cities, "#000000", 2.6).add_to(m)
    return m


def _finish(m: folium.Map, legend: Legend) -> folium.Map:
    add_legend(m, legend)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _entries(
    table: dict[str, tuple[str, str]], counts: Counter[str]
) -> list[tuple[str, str, int | None]]:
    return [
        (color, label, counts.get(key, 0))
        for key, (color, label) in table.items()
        if key != "none" or counts.get(key, 0)
    ]


COVERAGE_LABELS = {k: label for k, (_, label) in COVERAGE.items()}


def coverage_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Townships coloured has office / gap / conflict / misplaced / not required."""
    m = _frame(data, basemap, "司法所覆盖情况图")
    polygon_layer(
        m,
        "乡镇(街道)覆盖情况",
        data.townships,
        lambda f: _fill(COVERAGE[f["properties"]["coverage"]][0]),
        PopupSpec(
            title="name",
            rows=[
                row("代码", "code"),
                row("类型", "kind", labels="kind"),
                row("覆盖情况", "coverage", labels="coverage"),
                row("在册司法所", "offices"),
            ],
            link=_county_link(data),
            labels={"kind": data.labels.get("kind", {}), "coverage": COVERAGE_LABELS},
        ),
    )
    office_layer(
        m,
        "司法所",
        data.offices,
        lambda f: {"color": "#212121", "fillColor": "#ffffff"},
        office_popup(data),
    )
    counts = Counter(a.props["coverage"] for a in data.townships)
    return _finish(
        m, Legend("coverage", "乡镇(街道)覆盖情况", _entries(COVERAGE, counts), _notes(data))
    )


def _notes(data: MapData) -> str | None:
    """The legend's notes: how its counts are made, and whether boundaries are generated."""
    return " ".join(n for n in (data.counting_note, data.note) if n) or None


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
    m = _frame(data, basemap, "规范化验收状态图")
    polygon_layer(
        m,
        "乡镇(街道)验收状态",
        data.townships,
        lambda f: _fill(STATE_COLOURS.get(f["properties"].get("state"), NO_OFFICE[0]), 0.5),
        PopupSpec(
            title="name",
            rows=[
                row("代码", "code"),
                row("验收状态", "state", labels="state", default=NO_OFFICE[1]),
            ],
            link=_county_link(data),
            labels={"state": data.labels.get("state", {})},
        ),
    )

    def style(f: dict[str, Any]) -> dict[str, Any]:
        p = f["properties"]
        overdue = p.get("overdue")
        return {
            "fillColor": STATE_COLOURS[p["state"]],
            "color": "#d50000" if overdue else "#212121",
            "weight": 3 if overdue else 1,
        }

    popup = office_popup(
        data,
        [row("应复验日期", "due_on"), row("复验逾期", "overdue", labels="yesno")],
        {"yesno": {"true": "是", "false": "否"}},
    )
    office_layer(m, "司法所", data.offices, style, popup)
    counts = Counter(o.state for o in data.offices)
    overdue = sum(1 for o in data.offices if o.props.get("overdue"))
    legend = Legend(
        "acceptance",
        "验收状态(司法所数)",
        [
            *[
                (colour, data.labels.get("state", {}).get(k, k), counts.get(k, 0))
                for k, colour in STATE_COLOURS.items()
            ],
            ("#ffffff", "红圈:复验逾期", overdue),
        ],
        data.note,
        shape="dot",
    )
    return _finish(m, legend)


def facility_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Offices coloured by the facility criteria of their standard."""
    m = _frame(data, basemap, "司法所设施达标情况图")
    popup = office_popup(
        data,
        [row("设施", "facility", labels="facility"), row("缺项", "facility_missing", default="无")],
        {"facility": {k: label for k, (_, label) in FACILITY.items()}},
    )
    office_layer(
        m,
        "司法所设施",
        data.offices,
        lambda f: {"fillColor": FACILITY[f["properties"]["facility"]][0], "color": "#212121"},
        popup,
    )
    counts = Counter(o.props["facility"] for o in data.offices)
    legend = Legend("facility", "基础设施(司法所数)", _entries(FACILITY, counts), data.note, "dot")
    return _finish(m, legend)


def staffing_class(staff: int | None) -> str:
    if staff is None:
        return "unknown"
    return "five_plus" if staff >= 5 else "three_plus" if staff >= 3 else "under_three"


def staffing_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """Offices sized by staff and coloured against ≥3 / ≥5; a dashed black ring flags no
    civil servant or a director without the required status or degree."""
    m = _frame(data, basemap, "司法所人员配备情况图")

    def style(f: dict[str, Any]) -> dict[str, Any]:
        p = f["properties"]
        flagged = p.get("no_civil_servant") or p.get("director_unqualified")
        staff = p.get("staff_total") or 0
        return {
            "fillColor": STAFFING[staffing_class(p.get("staff_total"))][0],
            "color": "#000000" if flagged else "#616161",
            "weight": 3 if flagged else 1,
            "dashArray": "3 3" if flagged else None,
            "radius": 4 + 1.5 * min(staff, 12) ** 0.5 * 2,
        }

    popup = office_popup(
        data, [row("公务员", "civil_servants", unit=" 人"), row("问题", "problems", default="无")]
    )
    office_layer(m, "司法所人员", data.offices, style, popup)
    counts = Counter(staffing_class(o.staff_total) for o in data.offices)
    flagged = sum(
        1
        for o in data.offices
        if o.props.get("no_civil_servant") or o.props.get("director_unqualified")
    )
    legend = Legend(
        "staffing",
        "人员配备(司法所数)",
        [*_entries(STAFFING, counts), ("#ffffff", "黑色虚线圈:无公务员或所长不符合条件", flagged)],
        data.note,
        "dot",
    )
    return _finish(m, legend)


def rate_color(value: float | None) -> str:
    if value is None:
        return "#e0e0e0"
    return next(color for bound, color in RATE_CLASSES if value < bound)


AGGREGATES: list[tuple[str, str, Callable[[Area], float | None]]] = [
    ("coverage_rate", "覆盖率", lambda a: a.props.get("coverage_rate")),
    ("acceptance_rate", "规范化率", lambda a: a.props.get("acceptance_rate")),
    ("progress_ratio", "规范化率/目标", lambda a: a.props.get("progress_ratio")),
]


def aggregates_map(data: MapData, basemap: Basemap = Basemap()) -> folium.Map:
    """County and city choropleths of coverage rate, acceptance rate and progress against
    the tenant's target (acceptance rate ÷ target share at the date, capped at 1). One
    polygon layer per level; a switch recolours them by the chosen rate."""
    m = new_map(data.bounds, basemap, f"{data.region_name}分区统计图")
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
    layers = []
    for level, areas, theme in (("县级", data.counties, "coverage"), ("市级", data.cities, None)):
        if areas:
            # a city opens its own statistics map; a county, its townships' coverage map
            link = _drill(data, theme or "aggregates", "code", "打开该区域的地图")
            spec = PopupSpec(popup.title, popup.rows, link, popup.labels)
            layers.append(
                polygon_layer(m, f"{level}分区", areas, _rate_style(AGGREGATES[0][0]), spec)
            )
    m.add_child(MetricSwitch(layers, [(k, label) for k, label, _ in AGGREGATES], RATE_CLASSES))
    legend = Legend(
        "aggregates",
        "比率",
        [
            *[
                (c, f"{int(lo * 100)}%–{min(int(b * 100), 100)}%", None)
                for (b, c), lo in zip(RATE_CLASSES, [0, 0.2, 0.4, 0.6, 0.8], strict=True)
            ],
            ("#e0e0e0", "无数据", None),
        ],
        data.note,
    )
    return _finish(m, legend)


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
