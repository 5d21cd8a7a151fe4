"""Layer helpers shared by the themed maps: polygons, boundary lines and office points as
GeoJSON layers (one Leaflet layer each, not thousands of markers).

Pages must stay small (a province holds ≈2,600 townships and offices): features carry only
short property values, and tooltips and popups are built in the browser by two functions
(`registryTooltip`, `registryPopup`, defined once per page) — text is inserted as text
(textContent), so stored names can never inject markup. folium's GeoJsonTooltip and
GeoJsonPopup are not used: they write properties into the page with innerHTML. Layer names
are escaped too, because Leaflet's layer control sets them with innerHTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import MacroElement, Template
from folium.utilities import JsCode

from maps.data import Area, MapData, OfficeMark
from maps.inert import inert_json

Style = Callable[[dict[str, Any]], dict[str, Any]]

FEATURE_SCRIPT = """
window.registryTooltip = function (layer, props, key) {
  layer.bindTooltip(function () {
    var div = document.createElement('div');
    div.textContent = props[key] == null ? '' : String(props[key]);
    return div;
  }, {sticky: true, className: 'foliumtooltip'});
};
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


class FeatureScript(MacroElement):
    """Defines registryTooltip and registryPopup once in the page."""

    _template = Template("{% macro script(this, kwargs) %}" + FEATURE_SCRIPT + "{% endmacro %}")


@dataclass(frozen=True)
class PopupSpec:
    """A popup: the title property, rows (label, property, label table, default, unit),
    an optional link (URL prefix, property, text) and label tables for coded values."""

    title: str
    rows: list[tuple[str, str, str | None, str | None, str | None]]
    link: tuple[str, str, str] | None = None
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def spec(self) -> str:
        """The spec as a JavaScript literal that cannot close the page's script element."""
        return _js_literal(
            {"title": self.title, "rows": self.rows, "link": self.link, "labels": self.labels}
        )


def _js_literal(value: Any) -> str:
    # as Jinja's tojson does: no <, > or & in the script's text, so nothing in the value can
    # end the script element or open a comment in it; and no Jinja delimiter (see maps.base)
    text = inert_json(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def bind_features(tooltip: str | None, popup: PopupSpec | None) -> JsCode:
    """Each feature's onEachFeature: a tooltip of the property `tooltip` and a popup."""
    parts = []
    if tooltip is not None:
        parts.append(f"window.registryTooltip(layer, feature.properties, {_js_literal(tooltip)});")
    if popup is not None:
        parts.append(
            "layer.bindPopup(function () {"
            f" return window.registryPopup(feature.properties, {popup.spec()}); }});"
        )
    return JsCode(f"function (feature, layer) {{ {' '.join(parts)} }}")


def layer_name(name: str) -> str:
    """A layer's name for the layer control, which Leaflet inserts with innerHTML."""
    return html.escape(name, quote=False)


def row(
    label: str, key: str, labels: str | None = None, default: str | None = None, unit: str = ""
) -> tuple[str, str, str | None, str | None, str | None]:
    return (label, key, labels, default, unit or None)


def ensure_feature_script(m: folium.Map) -> None:
    if not any(isinstance(c, FeatureScript) for c in m._children.values()):
        m.add_child(FeatureScript())


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
    ensure_feature_script(m)
    layer = folium.GeoJson(
        feature_collection(areas),
        name=layer_name(name),
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        on_each_feature=bind_features("name", popup),
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
        name=layer_name(name),
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
    data: MapData, extra: list | None = None, labels: dict[str, dict[str, str]] | None = None
) -> PopupSpec:
    """An office's popup: its township, county, staff, rooms, state (named as the data names
    it) and the rows the theme adds."""
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
        labels={"state": data.labels.get("state", {}), **(labels or {})},
    )


def office_layer(
    m: folium.Map,
    name: str,
    offices: list[OfficeMark],
    style: Style,
    popup: PopupSpec,
    show: bool = True,
) -> folium.GeoJson:
    """Offices as circle markers of one GeoJSON layer; `style` sees each office's properties."""
    ensure_feature_script(m)
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
        name=layer_name(name),
        marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
        style_function=style,
        on_each_feature=bind_features("name", popup),
        show=show,
    )
    layer.add_to(m)
    return layer
