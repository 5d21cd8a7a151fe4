"""What the maps' colours and legends mean, one table per theme, shared by the web maps
(maps/themes.py) and the printed maps (maps/printed.py): a colour means the same on the
screen and on paper, and a legend counts the same things. No folium here: printing does not
load it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from maps.data import Area, MapData, OfficeMark

COVERAGE = {  # township status → (colour, label)
    "covered": ("#2e7d32", "已设司法所"),
    "gap": ("#d32f2f", "未设司法所(空白)"),
    "conflict": ("#f57c00", "重复设所"),
    "misplaced": ("#7b1fa2", "司法所位置不在本乡镇"),
    "not_required": ("#bdbdbd", "非必设单位"),
}
COVERAGE_LABELS = {k: label for k, (_, label) in COVERAGE.items()}
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
NO_RATE = "#e0e0e0"
# each theme's map title, after the region's name
TITLES = {
    "coverage": "司法所覆盖情况图",
    "facility": "司法所设施达标情况图",
    "staffing": "司法所人员配备情况图",
    "acceptance": "规范化验收状态图",
    "aggregates": "分区统计图",
}
OVERDUE_RING = "#d50000"  # an acceptance map's office whose re-inspection is overdue
FLAG_RING = "#000000"  # a staffing map's office without a civil servant or a qualified director


@dataclass(frozen=True)
class LegendSpec:
    """A legend: its title, (colour, label, count or None) rows, notes, and whether its
    swatches are boxes (areas) or dots (offices)."""

    key: str
    title: str
    entries: list[tuple[str, str, int | None]]
    note: str | None = None
    shape: str = "box"


def staffing_class(staff: int | None) -> str:
    if staff is None:
        return "unknown"
    return "five_plus" if staff >= 5 else "three_plus" if staff >= 3 else "under_three"


def staffing_radius(staff: int | None) -> float:
    """An office's mark on the staffing map grows with its staff (in pixels, or points)."""
    return 4 + 1.5 * min(staff or 0, 12) ** 0.5 * 2


def rate_color(value: float | None) -> str:
    if value is None:
        return NO_RATE
    return next(color for bound, color in RATE_CLASSES if value < bound)


def staffing_flagged(office: OfficeMark) -> bool:
    """No civil servant, or a director without the required status or degree."""
    return bool(office.props.get("no_civil_servant") or office.props.get("director_unqualified"))


def entries(
    table: dict[str, tuple[str, str]], counts: Counter[str]
) -> list[tuple[str, str, int | None]]:
    return [
        (color, label, counts.get(key, 0))
        for key, (color, label) in table.items()
        if key != "none" or counts.get(key, 0)
    ]


def notes(data: MapData) -> str | None:
    """A legend's notes: how its counts are made, and whether boundaries are generated."""
    return " ".join(n for n in (data.counting_note, data.note) if n) or None


# the township fill of the themes that colour townships, from a township's properties
TOWNSHIP_FILL: dict[str, Callable[[dict], str]] = {
    "coverage": lambda p: COVERAGE[p["coverage"]][0],
    "acceptance": lambda p: STATE_COLOURS.get(p.get("state") or "", NO_OFFICE[0]),
}


def office_fill(theme: str, office: OfficeMark) -> str:
    """The colour of an office's mark on the map of `theme`."""
    if theme == "facility":
        return FACILITY[office.props["facility"]][0]
    if theme == "staffing":
        return STAFFING[staffing_class(office.staff_total)][0]
    if theme == "acceptance":
        return STATE_COLOURS[office.state]
    return "#ffffff"


def office_ring(theme: str, office: OfficeMark) -> str | None:
    """The ring that flags an office on the map of `theme`, if any."""
    if theme == "acceptance" and office.props.get("overdue"):
        return OVERDUE_RING
    if theme == "staffing" and staffing_flagged(office):
        return FLAG_RING
    return None


def rate_legend_entries() -> list[tuple[str, str, int | None]]:
    lows = [0, 0.2, 0.4, 0.6, 0.8]
    return [
        *[
            (c, f"{int(lo * 100)}%–{min(int(b * 100), 100)}%", None)
            for (b, c), lo in zip(RATE_CLASSES, lows, strict=True)
        ],
        (NO_RATE, "无数据", None),
    ]


def legend_of(theme: str, data: MapData) -> LegendSpec:
    """The legend of the map of `theme`, its counts from `data`."""
    if theme == "coverage":
        counts = Counter(a.props["coverage"] for a in data.townships)
        return LegendSpec("coverage", "乡镇(街道)覆盖情况", entries(COVERAGE, counts), notes(data))
    if theme == "acceptance":
        states = Counter(o.state for o in data.offices)
        overdue = sum(1 for o in data.offices if o.props.get("overdue"))
        names = data.labels.get("state", {})
        rows: list[tuple[str, str, int | None]] = [
            (colour, names.get(k, k), states.get(k, 0)) for k, colour in STATE_COLOURS.items()
        ]
        rows.append(("#ffffff", "红圈:复验逾期", overdue))
        return LegendSpec("acceptance", "验收状态(司法所数)", rows, data.note, "dot")
    if theme == "facility":
        counts = Counter(o.props["facility"] for o in data.offices)
        return LegendSpec(
            "facility", "基础设施(司法所数)", entries(FACILITY, counts), data.note, "dot"
        )
    if theme == "staffing":
        counts = Counter(staffing_class(o.staff_total) for o in data.offices)
        flagged = sum(1 for o in data.offices if staffing_flagged(o))
        rows = [
            *entries(STAFFING, counts),
            ("#ffffff", "黑色虚线圈:无公务员或所长不符合条件", flagged),
        ]
        return LegendSpec("staffing", "人员配备(司法所数)", rows, data.note, "dot")
    if theme == "aggregates":
        return LegendSpec("aggregates", "比率", rate_legend_entries(), data.note)
    raise ValueError(f"no map theme {theme!r}")


def area_fills(theme: str, data: MapData, metric: str = "coverage_rate") -> list[tuple[Area, str]]:
    """The areas the map of `theme` fills, each with its colour: townships by their class;
    for the aggregates, counties (or cities, where there are no counties) by `metric`."""
    fill = TOWNSHIP_FILL.get(theme)
    if fill is not None:
        return [(a, fill(a.props)) for a in data.townships]
    if theme == "aggregates":
        return [(a, rate_color(a.props.get(metric))) for a in (data.counties or data.cities)]
    return []
