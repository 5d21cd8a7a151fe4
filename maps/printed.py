"""Printable maps: a themed map of a region as one PDF or PNG page (A4 or A3, landscape or
portrait) for reports and slides (工作汇报), drawn by matplotlib without a browser.

The page has a Chinese title, the map in an equal-area projection fitted to the region, the
county and city lines, a legend with counts, a scale bar, a north arrow, the data's date and
filters, the notes (how counts are made; generated boundaries) and the issuing unit. It is
drawn from the same `MapData` and the same symbols (maps/symbols.py) as the web map, so the
paper and the screen agree. Every text is drawn as plain text: a name holding `$…$` is not
read as a formula (matplotlib's mathtext), nor anything else.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrow, Rectangle
from matplotlib.path import Path
from pyproj import Transformer

from maps.data import Area, MapData
from maps.symbols import TITLES, LegendSpec, area_fills, legend_of, office_fill, office_ring

PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}  # landscape: width, height
PNG_DPI = 200
MM = 1 / 25.4  # inches
MARGIN_MM = 10.0
# the map's source coordinates: the registry's geographic CRS (CGCS2000 longitude, latitude)
SOURCE_CRS = "EPSG:4490"
TOWNSHIP_EDGE = "#616161"
COUNTY_LINE = ("#37474f", 0.5)  # colour, width in points
CITY_LINE = ("#000000", 1.0)
OFFICE_EDGE = "#212121"
NICE_STEPS = (1, 2, 5)
_drawing = threading.Lock()  # matplotlib's text and font caches are not thread-safe


@dataclass(frozen=True)
class Sheet:
    """The paper: A4 or A3, landscape or portrait."""

    paper: str = "A4"
    orientation: str = "landscape"

    def size_mm(self) -> tuple[float, float]:
        w, h = PAPERS_MM[self.paper]
        return (w, h) if self.orientation == "landscape" else (h, w)


@dataclass(frozen=True)
class Imprint:
    """What the page says besides the map: who issues it, when it was printed, the date of
    the data and the filters applied."""

    issued_by: str
    printed_on: date
    data_date: date
    filters: str | None = None


def equal_area_for(bounds: Sequence[Sequence[float]] | None) -> Transformer:
    """Albers equal-area conic on CGCS2000's ellipsoid fitted to the region: its central
    meridian through the region (north is up along it) and standard parallels at one sixth
    of the region's latitude span from each edge, so that scale errors across a province
    stay below a fraction of a percent (the scale bar is true where it is drawn)."""
    if bounds is None:
        south, west, north, east = 18.0, 73.0, 54.0, 135.0  # the nation's extent
    else:
        (south, west), (north, east) = bounds
    span = max(north - south, 0.01)
    lat1, lat2 = south + span / 6, north - span / 6
    lon0 = (west + east) / 2
    proj = (
        f"+proj=aea +lat_0={(south + north) / 2:.6f} +lon_0={lon0:.6f} +lat_1={lat1:.6f}"
        f" +lat_2={lat2:.6f} +ellps=GRS80 +units=m +no_defs"
    )
    return Transformer.from_crs(SOURCE_CRS, proj, always_xy=True)


def _projected(areas: Iterable[Area], to_map: Transformer) -> np.ndarray:
    geoms = np.array([shapely.geometry.shape(a.geometry) for a in areas], dtype=object)
    if not len(geoms):
        return geoms

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = to_map.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, project)


def _path(geom: Any) -> Path:
    """A polygon or multipolygon as one matplotlib path (holes as rings of their own: the
    rings are oriented, exterior counter-clockwise, so the non-zero rule leaves holes open);
    a line or multiline as one path of segments."""
    rings: list[np.ndarray] = []
    polygons = shapely.get_parts(shapely.orient_polygons(geom))
    for part in polygons:
        if isinstance(part, shapely.Polygon):
            rings.append(np.asarray(part.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in part.interiors)
        elif isinstance(part, shapely.LineString | shapely.LinearRing):
            rings.append(np.asarray(part.coords))
    rings = [r for r in rings if len(r) >= 2]
    if not rings:
        return Path(np.zeros((1, 2)), [Path.MOVETO])
    vertices = np.concatenate(rings)
    codes = np.full(len(vertices), Path.LINETO, dtype=Path.code_type)
    start = 0
    for r in rings:
        codes[start] = Path.MOVETO
        start += len(r)
    return Path(vertices, codes)


def _font(path: str, size: float) -> FontProperties:
    return FontProperties(fname=path, size=size)


def _nice_length(metres: float) -> float:
    """The round length (1, 2 or 5 × 10ⁿ metres) at most `metres`."""
    exponent = math.floor(math.log10(metres))
    best = 10.0**exponent
    for step in NICE_STEPS:
        if step * 10.0**exponent <= metres:
            best = step * 10.0**exponent
    return best


def _distance(metres: float) -> str:
    return f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"


@dataclass(frozen=True)
class Layout:
    """Where things go on the page, as fractions of the figure: the map's box
    [left, bottom, width, height], the legend's, the title's baseline and the footer's top."""

    map_box: tuple[float, float, float, float]
    legend_box: tuple[float, float, float, float]
    title_y: float
    subtitle_y: float
    footer_y: float


def layout(sheet: Sheet) -> Layout:
    """Title and subtitle on top, the footer at the bottom; the legend right of the map on
    landscape paper, under it on portrait."""
    w, h = sheet.size_mm()
    m = MARGIN_MM
    title_h, footer_h = 22.0, 16.0
    if sheet.orientation == "landscape":
        legend_w = 62.0 if sheet.paper == "A4" else 78.0
        map_box = (m, m + footer_h, w - 3 * m - legend_w, h - 2 * m - title_h - footer_h)
        legend_box = (w - m - legend_w, m + footer_h, legend_w, h - 2 * m - title_h - footer_h)
    else:
        legend_h = 60.0 if sheet.paper == "A4" else 78.0
        bottom = m + footer_h + legend_h + m / 2  # the map above the legend
        map_box = (m, bottom, w - 2 * m, h - m - title_h - bottom)
        legend_box = (m, m + footer_h, w - 2 * m, legend_h)

    def frac(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)

    return Layout(
        map_box=frac(map_box),
        legend_box=frac(legend_box),
        title_y=1 - (m + 9.0) / h,
        subtitle_y=1 - (m + 16.0) / h,
        footer_y=(m + footer_h - 3.0) / h,
    )


def title_of(theme: str, data: MapData) -> str:
    return f"{data.region_name}{TITLES[theme]}"


def render(
    theme: str,
    data: MapData,
    sheet: Sheet,
    imprint: Imprint,
    *,
    fmt: str,
    font_path: str,
) -> bytes:
    """The printable map of `theme` as PDF or PNG bytes."""
    with _drawing, matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        figure = draw(theme, data, sheet, imprint, font_path=font_path)
        out = io.BytesIO()
        figure.savefig(
            out,
            format=fmt,
            dpi=PNG_DPI,
            metadata=(
                {"Title": title_of(theme, data), "Creator": "司法所登记系统"}
                if fmt == "pdf"
                else {"Title": title_of(theme, data), "Software": "司法所登记系统"}
            ),
        )
        return out.getvalue()


def draw(theme: str, data: MapData, sheet: Sheet, imprint: Imprint, *, font_path: str) -> Figure:
    """The page as a matplotlib Figure (no pyplot: nothing global, no display)."""
    w, h = sheet.size_mm()
    fig = Figure(figsize=(w * MM, h * MM))
    fig.patch.set_facecolor("white")
    box = layout(sheet)
    to_map = equal_area_for(data.bounds)
    ax = fig.add_axes(box.map_box)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_linewidth(0.6)
    fills = area_fills(theme, data)
    drawn = _draw_areas(ax, fills, to_map)
    # the nation's 2,800 counties: hairlines, or their lines would hide the townships
    thin = len(data.counties) > 1000
    for areas, (colour, width) in ((data.counties, COUNTY_LINE), (data.cities, CITY_LINE)):
        width = width * 0.4 if thin else width
        if areas:
            lines = shapely.boundary(_projected(areas, to_map))
            ax.add_collection(
                PathCollection(
                    [_path(g) for g in lines],
                    facecolors="none",
                    edgecolors=colour,
                    linewidths=width,
                )
            )
            drawn = drawn if drawn is not None else shapely.total_bounds(lines)
    _draw_offices(ax, theme, data, to_map)
    _fit(ax, data, to_map, drawn, box, sheet)
    _scale_bar(ax, box, sheet, font_path)
    _north_arrow(ax, font_path)
    _texts(fig, theme, data, imprint, box, font_path)
    if data.messages:  # e.g. a date before the region's first boundaries: say why it is empty
        ax.text(0.5, 0.5, _wrapped("\n".join(data.messages), 40), ha="center", va="center",
                transform=ax.transAxes, fontproperties=_font(font_path, 11), zorder=6,
                bbox={"facecolor": "#fff8e1", "edgecolor": "#f9a825"})  # fmt: skip
    _legend(fig, legend_of(theme, data), box, sheet, font_path)
    return fig


def _draw_areas(ax: Any, fills: list[tuple[Area, str]], to_map: Transformer) -> Any:
    if not fills:
        return None
    geoms = _projected([a for a, _ in fills], to_map)
    ax.add_collection(
        PathCollection(
            [_path(g) for g in geoms],
            facecolors=[colour for _, colour in fills],
            edgecolors=TOWNSHIP_EDGE,
            linewidths=0.15,
        )
    )
    return shapely.total_bounds(geoms)


def _draw_offices(ax: Any, theme: str, data: MapData, to_map: Transformer) -> None:
    """The offices' marks; on the coverage map of the nation none (40,000 marks would cover
    its townships, whose colour already says where an office is)."""
    if not data.offices or (theme == "coverage" and len(data.region_code) < 2):
        return
    x, y = to_map.transform([o.lon for o in data.offices], [o.lat for o in data.offices])
    points = len(data.offices)
    # marks shrink as their number grows: a province's 2,000 offices stay apart on A4
    size = 10.0 if points < 200 else 5.0 if points < 1000 else 2.5
    if theme == "coverage":
        ax.scatter(x, y, s=size * 0.6, c="white", edgecolors=OFFICE_EDGE, linewidths=0.3)
        return
    rings = [office_ring(theme, o) for o in data.offices]
    ax.scatter(
        x,
        y,
        s=size * 1.6,
        c=[office_fill(theme, o) for o in data.offices],
        edgecolors=[r or OFFICE_EDGE for r in rings],
        linewidths=[0.9 if r else 0.3 for r in rings],
        zorder=3,
    )


def _fit(
    ax: Any, data: MapData, to_map: Transformer, drawn: Any, box: Layout, sheet: Sheet
) -> None:
    """The view: what was drawn (or the region's bounds), with a little room around it,
    widened in one direction to the map box's proportions (so one metre is as long across
    as up)."""
    if drawn is None or not np.all(np.isfinite(drawn)):
        if data.bounds is None:
            drawn = (-1000.0, -1000.0, 1000.0, 1000.0)
        else:
            (s, w), (n, e) = data.bounds
            xs, ys = to_map.transform([w, e, w, e], [s, s, n, n])
            drawn = (min(xs), min(ys), max(xs), max(ys))
    x1, y1, x2, y2 = (float(v) for v in drawn)
    pad = 0.03 * max(x2 - x1, y2 - y1, 1000.0)
    x1, y1, x2, y2 = x1 - pad, y1 - pad, x2 + pad, y2 + pad
    w_mm, h_mm = sheet.size_mm()
    want = (box.map_box[2] * w_mm) / (box.map_box[3] * h_mm)  # width / height of the box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    dx, dy = x2 - x1, y2 - y1
    if dx / dy < want:
        dx = dy * want
    else:
        dy = dx / want
    ax.set_xlim(cx - dx / 2, cx + dx / 2)
    ax.set_ylim(cy - dy / 2, cy + dy / 2)


def map_scale(ax: Any, box: Layout, sheet: Sheet) -> float:
    """The map's scale denominator: metres on the ground per metre on the paper."""
    x1, x2 = ax.get_xlim()
    width_mm = box.map_box[2] * sheet.size_mm()[0]
    return (x2 - x1) / (width_mm / 1000)


def _scale_bar(ax: Any, box: Layout, sheet: Sheet, font_path: str) -> None:
    """A bar of a round length, about a fifth of the map's width, in the lower left corner,
    cut in two halves, with the scale as a ratio under it."""
    x1, x2 = ax.get_xlim()
    y1, y2 = ax.get_ylim()
    length = _nice_length((x2 - x1) / 5)
    left, bottom = x1 + 0.03 * (x2 - x1), y1 + 0.04 * (y2 - y1)
    height = 0.008 * (y2 - y1)
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                height,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.5,
                zorder=5,
            )
        )
    font = _font(font_path, 6.5)
    for at, label in ((0, "0"), (length / 2, _distance(length / 2)), (length, _distance(length))):
        ax.text(left + at, bottom + 2.2 * height, label, ha="center", va="bottom",
                fontproperties=font, zorder=5)  # fmt: skip
    denominator = map_scale(ax, box, sheet)
    rounded = round(denominator, -math.floor(math.log10(denominator)) + 1)
    ax.text(left, bottom - 1.5 * height, f"比例尺 1:{rounded:,.0f}", ha="left", va="top",
            fontproperties=font, zorder=5)  # fmt: skip


def _north_arrow(ax: Any, font_path: str) -> None:
    """An arrow pointing up (north, along the projection's central meridian) with 北."""
    ax.add_patch(
        FancyArrow(0.95, 0.84, 0, 0.08, width=0.006, head_width=0.03, head_length=0.035,
                   length_includes_head=True, transform=ax.transAxes, color="black", zorder=5)
    )  # fmt: skip
    ax.text(0.95, 0.80, "北", ha="center", va="top", transform=ax.transAxes,
            fontproperties=_font(font_path, 9), zorder=5)  # fmt: skip


def _texts(
    fig: Figure, theme: str, data: MapData, imprint: Imprint, box: Layout, font_path: str
) -> None:
    fig.text(0.5, box.title_y, title_of(theme, data), ha="center", va="baseline",
             fontproperties=_font(font_path, 18))  # fmt: skip
    sub = f"数据日期:{imprint.data_date:%Y年%m月%d日}"
    if imprint.filters:
        sub += f"    筛选:{imprint.filters}"
    fig.text(0.5, box.subtitle_y, sub, ha="center", va="baseline",
             fontproperties=_font(font_path, 9))  # fmt: skip
    footer = (
        f"制图单位:{imprint.issued_by}    制图日期:{imprint.printed_on:%Y年%m月%d日}"
        "    数据来源:司法所登记系统"
    )
    fig.text(box.map_box[0], box.footer_y, footer, ha="left", va="top",
             fontproperties=_font(font_path, 7.5))  # fmt: skip


def _wrapped(text: str, width: int) -> str:
    """Chinese text broken every `width` characters (it has no spaces to break at)."""
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _legend(fig: Figure, spec: LegendSpec, box: Layout, sheet: Sheet, font_path: str) -> None:
    """The legend: its title, a swatch (box or dot) with label and count per row, and the
    notes under them; rows run in one column beside a landscape map, two under a portrait."""
    lg = fig.add_axes(box.legend_box)
    lg.set_xlim(0, 1)
    lg.set_ylim(0, 1)
    lg.axis("off")
    w_mm, h_mm = (box.legend_box[2] * sheet.size_mm()[0], box.legend_box[3] * sheet.size_mm()[1])
    row_mm = 5.2
    lg.text(0, 1, spec.title, ha="left", va="top", fontproperties=_font(font_path, 10))
    columns = 1 if sheet.orientation == "landscape" else 2
    per_column = math.ceil(len(spec.entries) / columns)
    font = _font(font_path, 8)
    sw, sh = 6.0 / w_mm, 3.6 / h_mm
    top = 1 - 8.0 / h_mm
    for i, (colour, label, count) in enumerate(spec.entries):
        col, r = divmod(i, per_column)
        x = col / columns
        y = top - r * row_mm / h_mm
        if spec.shape == "dot":
            # (a marker, round whatever the legend box's proportions)
            lg.plot([x + sw / 2], [y - sh / 2], marker="o", markersize=6, linestyle="none",
                    markerfacecolor=colour, markeredgecolor=OFFICE_EDGE, markeredgewidth=0.5)  # fmt: skip
        else:
            lg.add_patch(Rectangle((x, y - sh), sw, sh, facecolor=colour,
                                   edgecolor=TOWNSHIP_EDGE, linewidth=0.4))  # fmt: skip
        text = label if count is None else f"{label}  {count}"
        lg.text(x + sw + 2.0 / w_mm, y - sh / 2, text, ha="left", va="center", fontproperties=font)
    if spec.note:
        used = top - per_column * row_mm / h_mm - 2.0 / h_mm
        chars = max(int(w_mm / 2.6), 10)
        lg.text(0, used, _wrapped(spec.note, chars), ha="left", va="top",
                fontproperties=_font(font_path, 6.5), linespacing=1.4)  # fmt: skip
