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
    """A layer of the service's own vector tiles (Mapbox Vector Tiles: a page's own,
    service/maps/tiles.py, or the OGC API's) drawn by Leaflet.VectorGrid (npm, served by the
    registry). Its tile layer `layer` holds polygons filled by the colour their class `key`
    names in `colours` (else `fallback`), or by the class of `classes` (upper bound, colour)
    their number `key` falls in. A feature's properties are the tile's and those `values`
    gives for its code (a township's acceptance state, a region's rates: what the tiles do
    not carry; `values_table`); `aliases` copy a property under another name.
    `registryMetric(key)` colours the features by another number (the aggregates' rate
    switch, maps/metric.py). With a popup spec, a name tooltip and a popup on click, built
    as the GeoJSON layers' are (`registryPopup`: text, never markup), from zoom
    `detail_from` (below it a township is a few pixels wide); a township's county (for the
    drill-down link) is its code's first six digits.

    `lines` are more tile layers drawn from the same tiles as lines only (the county and
    city lines of a page's tile), above the fills and never in the pointer's way. A layer of
    several parts is not in the layer control itself: each part is (`TilePart`), and hides
    its own paths. Features are SVG paths (a test can find and click them); the layer sets
    `registryLoaded` when the tiles in view have been drawn."""

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
            return {fill: true, fillColor: fill(props(p)[o.key]), fillOpacity: o.opacity,
                    stroke: zoom >= o.edgesFrom, color: o.edge, weight: o.weight,
                    className: 'registry-part-' + o.layer};
          }
          var styles = {};
          if (o.layer) { styles[o.layer] = style; }
          Object.keys(o.lines).forEach(function (name) {
            var line = o.lines[name];
            styles[name] = function () {
              return {fill: false, color: line.edge, weight: line.weight,
                      className: 'registry-line registry-part-' + name};
            };
          });
          var layer = L.vectorGrid.protobuf(o.url, {
            rendererFactory: L.svg.tile, interactive: !!o.popup, maxNativeZoom: o.maxZoom,
            vectorTileLayerStyles: styles, getFeatureId: function (f) { return f.properties.code; }
          });
          layer.registryParts = Object.keys(styles);
          function detailed() { return map.getZoom() >= o.detailFrom; }
          if (o.popup) {
            var tip = L.tooltip({sticky: true, className: 'foliumtooltip'});
            layer.on('mouseover', function (e) {
              var name = e.layer.properties[o.popup.title];
              if (!detailed() || name === undefined) { return; }
              var div = document.createElement('div');
              div.textContent = name == null ? '' : String(name);
              tip.setLatLng(e.latlng).setContent(div);
              map.openTooltip(tip);
            });
            layer.on('mouseout', function () { map.closeTooltip(tip); });
            layer.on('click', function (e) {
              if (!detailed() || e.layer.properties[o.popup.title] === undefined) { return; }
              L.popup().setLatLng(e.latlng)
                .setContent(window.registryPopup(props(e.layer.properties), o.popup))
                .openOn(map);
            });
          }
          // drawn: every tile in view is
          layer.registryLoaded = false;
          layer.on('loading', function () { layer.registryLoaded = false; });
          layer.on('load', function () { layer.registryLoaded = true; });
          // coloured by another number: every feature with values, drawn or still to come
          layer.registryMetric = function (key) {
            o.key = key;
            Object.keys(o.values ? o.values.rows : {}).forEach(function (code) {
              layer.setFeatureStyle(code, style({code: code}, map.getZoom()));
            });
          };
          return o.parted ? layer : layer.addTo(map);
        })({{ this.options_js }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        url: str,
        *,
        edge: str = "#616161",
        weight: float = 0.6,
        detail_from: int = 0,
        max_zoom: int = 16,
    ) -> None:
        """Tiles of `url`; what they draw is set by `fill` and `add_lines`."""
        super().__init__(name=layer_name(name), overlay=True, control=True, show=True)
        self._name = "VectorTiles"
        self.options: dict[str, Any] = {
            "url": url,
            "edge": edge,
            "weight": weight,
            "detailFrom": detail_from,
            "maxZoom": max_zoom,
            "lines": {},
            "parted": False,
        }
        self.fill(None)

    def fill(
        self,
        layer: str | None,
        *,
        key: str | None = None,
        colours: dict[str, str] | None = None,
        classes: list[tuple[float, str]] | None = None,
        fallback: str = "#bdbdbd",
        values: dict[str, Any] | None = None,
        aliases: dict[str, str] | None = None,
        popup: PopupSpec | None = None,
        opacity: float = 0.55,
        edges_from: int = 0,
    ) -> VectorTiles:
        """Tile layer `layer` drawn as polygons filled by their class (see the class);
        returns the layer."""
        self.options.update(
            layer=layer,
            key=key,
            colours=colours or {},
            classes=classes,
            fallback=fallback,
            values=values,
            aliases=aliases or {},
            popup=popup.as_dict() if popup is not None else None,
            opacity=opacity,
            edgesFrom=edges_from,
        )
        return self

    def parted(self) -> VectorTiles:
        """Its parts, each in the layer control (`TilePart`), instead of itself."""
        self.control = False
        self.options["parted"] = True
        return self

    def add_lines(self, layer: str, edge: str, weight: float) -> None:
        """Tile layer `layer` drawn as lines of `edge` colour and `weight` pixels."""
        self.options["lines"][layer] = {"edge": edge, "weight": weight}

    @property
    def options_js(self) -> str:
        return _js_literal(self.options)


class TilePart(Layer):
    """One part of a parted `VectorTiles` layer (a tile layer of its tiles) as an entry of
    the layer control: turned off, its paths are hidden (a class on the map's container,
    service/pages/static/maps.css); the tiles stop loading when every part is off."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (grid, part, map) {
          var shown = grid.registryShown || (grid.registryShown = {});
          function sync() {
            var box = map.getContainer();
            grid.registryParts.forEach(function (p) {
              if (shown[p]) { L.DomUtil.removeClass(box, 'registry-hide-' + p); }
              else { L.DomUtil.addClass(box, 'registry-hide-' + p); }
            });
            var any = grid.registryParts.some(function (p) { return shown[p]; });
            if (any && !map.hasLayer(grid)) { grid.addTo(map); }
            if (!any && map.hasLayer(grid)) { map.removeLayer(grid); }
          }
          var Part = L.Layer.extend({
            onAdd: function () { shown[part] = true; sync(); },
            onRemove: function () { shown[part] = false; sync(); }
          });
          return new Part().addTo(map);
        })({{ this.grid.get_name() }}, {{ this.part_js }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, grid: VectorTiles, part: str) -> None:
        super().__init__(name=layer_name(name), overlay=True, control=True, show=True)
        self._name = "TilePart"
        self.grid = grid
        self.part_js = _js_literal(part)


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
