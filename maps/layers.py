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
from folium.elements import JSCSSMixin
from folium.map import Layer
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

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "rows": self.rows, "link": self.link, "labels": self.labels}

    def spec(self) -> str:
        """The spec as a JavaScript literal that cannot close the page's script element."""
        return _js_literal(self.as_dict())


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


def office_collection(offices: list[OfficeMark]) -> dict[str, Any]:
    """Offices as a GeoJSON FeatureCollection of points with their popups' properties."""
    return {
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
    layer = folium.GeoJson(
        office_collection(offices),
        name=layer_name(name),
        marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
        style_function=style,
        on_each_feature=bind_features("name", popup),
        show=show,
    )
    layer.add_to(m)
    return layer


def values_table(rows: dict[str, dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    """Properties by feature code as a VectorTiles layer takes them: the keys once, then
    each code's values in their order (a page sends a province's 2,600 townships' states,
    or the nation's 342 cities' rates, without repeating the names)."""
    return {"keys": keys, "rows": {code: [p.get(k) for k in keys] for code, p in rows.items()}}


VECTORGRID_JS = "/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js"


class VectorTiles(JSCSSMixin, Layer):
    """A layer of the service's own vector tiles (OGC API Tiles, MVT) drawn by
    Leaflet.VectorGrid (npm, served by the registry): polygons filled by the colour their
    class `key` names in `colours` (else `fallback`), or by the class of `classes` (upper
    bound, colour) their number `key` falls in; or lines only (no `key`). A feature's
    properties are the tile's and those `values` gives for its code (a township's
    acceptance state, a region's rates: what the tiles do not carry; `values_table`);
    `aliases` copy a property under another name. `registryMetric(key)` colours the
    features by another number (the aggregates' rate switch, maps/metric.py).
    With a popup spec, a name tooltip and a popup on click, built as the GeoJSON layers'
    are (`registryPopup`: text, never markup); a township's county (for the drill-down
    link) is its code's first six digits. Features are SVG paths (a test can find and click
    them); the layer sets `registryLoaded` when the tiles in view have been drawn. Below
    `detail_from`, the tiles come from `url_low` (their class alone: a zoom-4 tile of the
    nation's townships is 0.34 MB so, 0.86 MB with names) and the features are not
    interactive (a township is a few pixels wide there)."""

    default_js = [("vectorgrid", VECTORGRID_JS)]  # noqa: RUF012 - folium's class attribute

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (o, map) {
          function props(p) {
            var q = Object.assign({}, p);
            Object.keys(o.aliases).forEach(function (k) { q[k] = p[o.aliases[k]]; });
            var row = o.values && o.values.rows[p.code];
            if (o.values) {
              o.values.keys.forEach(function (k, i) { q[k] = row ? row[i] : null; });
            }
            if (q.code != null) { q.county = String(q.code).slice(0, 6); }
            return q;
          }
          function fill(value) {
            if (!o.classes) { return o.colours[value] || o.fallback; }
            if (value === null || value === undefined) { return o.fallback; }
            for (var i = 0; i < o.classes.length; i++) {
              if (value < o.classes[i][0]) { return o.classes[i][1]; }
            }
            return o.classes[o.classes.length - 1][1];
          }
          function style(p, zoom) {
            // (below o.edgesFrom the fills alone: a township is a few pixels wide there)
            var edge = zoom >= o.edgesFrom;
            if (!o.key) { return {fill: false, color: o.edge, weight: o.weight}; }
            return {fill: true, fillColor: fill(props(p)[o.key]),
                    fillOpacity: o.opacity, stroke: edge, color: o.edge, weight: o.weight};
          }
          var styles = {};
          styles[o.layer] = style;
          var layer = L.vectorGrid.protobuf(o.url, {
            rendererFactory: L.svg.tile, interactive: !!o.popup, maxNativeZoom: 18,
            minZoom: o.minZoom,
            vectorTileLayerStyles: styles, getFeatureId: function (f) { return f.properties.code; }
          });
          if (o.urlLow) {  // below o.detailFrom, the tiles of the class alone (smaller)
            var vectorTile = layer._getVectorTilePromise;
            layer._getVectorTilePromise = function (coords, bounds) {
              this._url = coords.z < o.detailFrom ? o.urlLow : o.url;
              return vectorTile.call(this, coords, bounds);
            };
          }
          function detailed() { return !o.urlLow || map.getZoom() >= o.detailFrom; }
          if (o.popup) {
            var tip = L.tooltip({sticky: true, className: 'foliumtooltip'});
            layer.on('mouseover', function (e) {
              if (!detailed()) { return; }
              var div = document.createElement('div');
              var name = e.layer.properties[o.popup.title];
              div.textContent = name == null ? '' : String(name);
              tip.setLatLng(e.latlng).setContent(div);
              map.openTooltip(tip);
            });
            layer.on('mouseout', function () { map.closeTooltip(tip); });
            layer.on('click', function (e) {
              if (!detailed()) { return; }
              L.popup().setLatLng(e.latlng)
                .setContent(window.registryPopup(props(e.layer.properties), o.popup))
                .openOn(map);
            });
          }
          // drawn: every tile in view is, or the zoom is below the layer's (no tile to load)
          function outside() { return map.getZoom() < o.minZoom; }
          layer.registryLoaded = outside();
          layer.on('loading', function () { layer.registryLoaded = false; });
          layer.on('load', function () { layer.registryLoaded = true; });
          map.on('zoomend', function () { if (outside()) { layer.registryLoaded = true; } });
          // coloured by another number: every feature with values, drawn or still to come
          layer.registryMetric = function (key) {
            o.key = key;
            Object.keys(o.values ? o.values.rows : {}).forEach(function (code) {
              layer.setFeatureStyle(code, style({code: code}, map.getZoom()));
            });
          };
          return layer.addTo(map);
        })({{ this.options }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        url: str,
        layer: str,
        *,
        key: str | None = None,
        colours: dict[str, str] | None = None,
        classes: list[tuple[float, str]] | None = None,
        fallback: str = "#bdbdbd",
        values: dict[str, Any] | None = None,
        aliases: dict[str, str] | None = None,
        popup: PopupSpec | None = None,
        edge: str = "#616161",
        weight: float = 0.6,
        opacity: float = 0.55,
        min_zoom: int = 0,
        edges_from: int = 0,
        url_low: str | None = None,
        detail_from: int = 0,
    ) -> None:
        super().__init__(name=layer_name(name), overlay=True, control=True, show=True)
        self._name = "VectorTiles"
        self.options = _js_literal(
            {
                "url": url,
                "layer": layer,
                "key": key,
                "colours": colours or {},
                "classes": classes,
                "fallback": fallback,
                "values": values,
                "aliases": aliases or {},
                "popup": popup.as_dict() if popup is not None else None,
                "edge": edge,
                "weight": weight,
                "opacity": opacity,
                "minZoom": min_zoom,
                "edgesFrom": edges_from,
                "urlLow": url_low,
                "detailFrom": detail_from,
            }
        )


class FetchedOffices(Layer):
    """Offices loaded by the page from `url` once it has loaded (GeoJSON points, each with
    the `style` of its mark: service /maps/{theme}/offices), as circle markers with a name
    tooltip and a popup. Drawn as SVG in their own pane above the tiles (a canvas would
    cover the tiles' townships and take their clicks); `registryLoaded` once drawn, and a
    message in the map if they cannot be loaded."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (o, map) {
          if (!map.getPane('registryOffices')) {
            map.createPane('registryOffices').style.zIndex = 450;
          }
          var renderer = L.svg({pane: 'registryOffices',
                                tolerance: window.innerWidth < 600 ? 14 : 2});
          var layer = L.geoJSON(null, {
            pointToLayer: function (f, latlng) {
              return L.circleMarker(latlng, Object.assign(
                {radius: 5, fill: true, fillOpacity: 0.9, weight: 1,
                 renderer: renderer, pane: 'registryOffices'}, f.style));
            },
            onEachFeature: function (feature, marker) {
              window.registryTooltip(marker, feature.properties, 'name');
              marker.bindPopup(function () {
                return window.registryPopup(feature.properties, o.popup); });
            }
          });
          layer.registryLoaded = false;
          fetch(o.url, {credentials: 'same-origin', headers: {Accept: 'application/geo+json'}})
            .then(function (r) {
              if (!r.ok) { throw new Error('HTTP ' + r.status); }
              return r.json();
            })
            .then(function (data) { layer.addData(data); layer.registryLoaded = true; })
            .catch(function (err) {
              var box = document.createElement('div');
              box.className = 'registry-message';
              box.setAttribute('role', 'alert');
              box.textContent = '司法所数据加载失败(' + err.message + '),请刷新页面重试。';
              map.getContainer().appendChild(box);
            });
          return layer.addTo(map);
        })({{ this.options }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, url: str, popup: PopupSpec) -> None:
        super().__init__(name=layer_name(name), overlay=True, control=True, show=True)
        self._name = "FetchedOffices"
        self.options = _js_literal({"url": url, "popup": popup.as_dict()})
