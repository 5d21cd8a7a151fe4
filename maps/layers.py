"""Layer helpers shared by the themed maps: polygons, boundary lines and office points as
GeoJSON layers (one Leaflet layer each, not thousands of markers).

Pages must stay small (a province holds ≈2,600 townships and offices): features carry only
short property values, and popups are built in the browser by one function (`registryPopup`,
defined once per page) from a per-layer spec of labels — text is inserted as text, so names
can never inject markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import MacroElement, Template
from folium.utilities import JsCode

from maps.data import Area, OfficeMark

Style = Callable[[dict[str, Any]], dict[str, Any]]

POPUP_SCRIPT = """
window.registryPopup = function (props, spec) {
  var root = document.createElement('div');
  root.className = 'registry-popup';
  var title = document.createElement('b');
  title.textContent = props[spec.title] == null ? '' : String(props[spec.title]);
  root.appendChild(title);
  var table = document.createElement('table');
  spec.rows.forEach(function (row) {
    var value = props[row[1]];
    if (row[2] && spec.labels[row[2]]) { value = spec.labels[row[2]][value]; }
    if (value == null || value === '') { value = row[3] || '—'; }
    var tr = document.createElement('tr');
    var th = document.createElement('th'); th.textContent = row[0];
    var td = document.createElement('td'); td.textContent = String(value) + (row[4] || '');
    tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
  });
  root.appendChild(table);
  if (spec.link && props[spec.link[1]] != null) {
    var a = document.createElement('a');
    a.href = spec.link[0] + encodeURIComponent(props[spec.link[1]]);
    a.textContent = spec.link[2];
    root.appendChild(a);
  }
  return root;
};
"""


class PopupScript(MacroElement):
    """Defines registryPopup once in the page."""

    _template = Template("{% macro script(this, kwargs) %}" + POPUP_SCRIPT + "{% endmacro %}")


@dataclass(frozen=True)
class PopupSpec:
    """A popup: the title property, rows (label, property, label table, default, unit),
    an optional link (URL prefix, property, text) and label tables for coded values."""

    title: str
    rows: list[tuple[str, str, str | None, str | None, str | None]]
    link: tuple[str, str, str] | None = None
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def js(self) -> JsCode:
        spec = json.dumps(
            {"title": self.title, "rows": self.rows, "link": self.link, "labels": self.labels},
            ensure_ascii=False,
            separators=(",", ":"),
        ).replace("</", "<\\/")
        return JsCode(
            f"function (feature, layer) {{ layer.bindPopup(function () {{"
            f" return window.registryPopup(feature.properties, {spec}); }}); }}"
        )


def row(
    label: str, key: str, labels: str | None = None, default: str | None = None, unit: str = ""
) -> tuple[str, str, str | None, str | None, str | None]:
    return (label, key, labels, default, unit or None)


def ensure_popup_script(m: folium.Map) -> None:
    if not any(isinstance(c, PopupScript) for c in m._children.values()):
        m.add_child(PopupScript())


def feature_collection(areas: Iterable[Area]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.code,
                "geometry": a.geometry,
                "properties": {"code": a.code, "name": a.name, **a.props},
            }
            for a in areas
        ],
    }


def polygon_layer(
    m: folium.Map,
    name: str,
    areas: list[Area],
    style: Style,
    popup: PopupSpec | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """Filled polygons with a name tooltip and an optional popup, added to `m`."""
    if popup:
        ensure_popup_script(m)
    layer = folium.GeoJson(
        feature_collection(areas),
        name=name,
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False) if areas else None,
        on_each_feature=popup.js() if popup else None,
        show=show,
    )
    layer.add_to(m)
    return layer


def boundary_layer(name: str, areas: list[Area], color: str, weight: float) -> folium.GeoJson:
    """Administrative boundaries drawn over the townships (lines only, not clickable)."""
    return folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "id": a.code, "geometry": a.geometry, "properties": {}}
                for a in areas
            ],
        },
        name=name,
        style_function=lambda f: {"fill": False, "color": color, "weight": weight},
        interactive=False,
    )


def office_properties(o: OfficeMark) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": o.name,
        "township": f"{o.division_name}({o.division_code})",
        "county": o.county_name,
        "staff_total": o.staff_total,
        "area_m2": o.area_m2,
        "state": o.state,
        **o.props,
    }


def office_popup(
    extra: list | None = None, labels: dict[str, dict[str, str]] | None = None
) -> PopupSpec:
    from maps.themes import STATE_LABELS

    return PopupSpec(
        title="name",
        rows=[
            row("乡镇(街道)", "township"),
            row("县(市、区)", "county"),
            row("工作人员", "staff_total", default="未填报", unit=" 人"),
            row("办公用房", "area_m2", default="未填报", unit=" 平方米"),
            row("验收状态", "state", labels="state"),
            *(extra or []),
        ],
        link=("/offices/", "id", "查看司法所详情"),
        labels={"state": STATE_LABELS, **(labels or {})},
    )


def office_layer(
    m: folium.Map,
    name: str,
    offices: list[OfficeMark],
    style: Style,
    popup: PopupSpec | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """Offices as circle markers of one GeoJSON layer; `style` sees each office's properties."""
    ensure_popup_script(m)
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": o.id,
                "geometry": {"type": "Point", "coordinates": [round(o.lon, 5), round(o.lat, 5)]},
                "properties": office_properties(o),
            }
            for o in offices
        ],
    }
    layer = folium.GeoJson(
        data,
        name=name,
        marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False) if offices else None,
        on_each_feature=(popup or office_popup()).js(),
        show=show,
    )
    layer.add_to(m)
    return layer
