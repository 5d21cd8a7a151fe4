"""The map every builder starts from: Leaflet served by the registry itself (no CDN), a
configurable basemap (none, 天地图 with a key, or any XYZ URL), and the page's own styles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import folium
import folium.features
from branca.element import MacroElement, Template
from folium.utilities import JsCode

from maps.inert import inert_html, inert_json

# folium writes each layer's GeoJSON through Jinja's tojson: without spaces and with Chinese
# as UTF-8 (not \uXXXX), a province's page is a third smaller. (<, >, & and ' are still
# escaped by tojson, so the JSON cannot close the script.)
_policies = folium.features.GeoJson._template.environment.policies
_policies["json.dumps_kwargs"] = {
    "sort_keys": False,
    "separators": (",", ":"),
    "ensure_ascii": False,
}
_policies["json.dumps_function"] = inert_json

FOLIUM_VIEWPORT = 'content="width=device-width,\n                initial-scale=1.0, maximum-scale=1.0, user-scalable=no"'
ASSET_BASE = "/static"
LEAFLET_JS = f"{ASSET_BASE}/vendor/leaflet/leaflet.js"
LEAFLET_CSS = f"{ASSET_BASE}/vendor/leaflet/leaflet.css"
MAP_CSS = f"{ASSET_BASE}/maps.css"

TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILECOL={{x}}&TILEROW={{y}}&TILEMATRIX={{z}}&tk={key}"
)


@dataclass(frozen=True)
class Basemap:
    """What lies under the data: nothing (the default, for intranets), 天地图 (needs a key),
    or an XYZ tile URL such as an intranet tile server."""

    kind: Literal["none", "tianditu", "xyz"] = "none"
    url: str | None = None
    key: str | None = None
    attribution: str = ""


class OfflineMap(folium.Map):
    """A folium Map that loads only Leaflet, and from the registry (folium's defaults pull
    jQuery, Bootstrap and Font Awesome from CDNs, none of which these maps need)."""

    default_js = [("leaflet", LEAFLET_JS)]  # noqa: RUF012 - folium's class attribute
    default_css = [("leaflet_css", LEAFLET_CSS), ("registry_maps_css", MAP_CSS)]  # noqa: RUF012


def new_map(bounds: list[list[float]] | None, basemap: Basemap, title: str) -> OfflineMap:
    """An empty map fitted to `bounds` ([[south, west], [north, east]]) with its basemap."""
    m = OfflineMap(
        location=None if bounds else [35.0, 105.0],
        zoom_start=4,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,  # thousands of polygons draw faster on one canvas than as SVG
        # a finger is wider than a 10-px marker: on a phone a tap counts 14 px around it
        renderer=JsCode("L.canvas({tolerance: window.innerWidth < 600 ? 14 : 2})"),  # type: ignore[arg-type]
        attribution_control=basemap.kind != "none",
    )
    # set (folium gives it to its tile layer only), so that a layer drawn from a zoom on (the
    # county lines' tiles) does not make Leaflet zoom the whole map in to that zoom
    m.options["minZoom"] = 3
    # a tile is shown whole once drawn: fading translucent fills in over 0.2 s showed a
    # half-drawn map a moment after the tiles had loaded (what `registryLoaded` reports)
    m.options["fadeAnimation"] = False
    m.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f"<title>{inert_html(title)}</title>")
    )
    if basemap.kind == "tianditu" and basemap.key:
        for layer, name in (("vec", "天地图矢量"), ("cva", "天地图注记")):
            folium.TileLayer(
                tiles=TIANDITU.format(layer=layer, key=basemap.key, s="{s}"),
                attr="天地图",
                name=name,
                subdomains="01234567",
                overlay=layer == "cva",
                control=True,
                max_zoom=18,
            ).add_to(m)
    elif basemap.kind == "xyz" and basemap.url:
        folium.TileLayer(
            tiles=basemap.url, attr=basemap.attribution or "底图", name="底图", max_zoom=19
        ).add_to(m)
    if bounds:
        m.add_child(FitBounds(bounds))
    return m


class FitBounds(MacroElement):
    """The map fitted to `bounds` at once (folium's fit_bounds animates the zoom from the
    map's first one, and the layers added meanwhile load their tiles at that zoom)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitBounds"
        self.bounds = inert_json([[float(v) for v in corner] for corner in bounds])


def page_html(m: folium.Map) -> str:
    """The whole page of a map. folium's viewport forbids zooming the page (user-scalable=no),
    which people with poor sight need (WCAG 1.4.4): here the browser's zoom is allowed."""
    page = m.get_root().render()  # (tests/maps check that the replacements still apply)
    page = page.replace("<html>", '<html lang="zh-CN">', 1)  # (read aloud as Chinese)
    return page.replace(FOLIUM_VIEWPORT, 'content="width=device-width, initial-scale=1.0"')
