"""Layer helpers shared by the themed maps: polygons, boundary lines and office points as
GeoJSON layers (one Leaflet layer each, not thousands of markers), popups built and escaped
here, so that names can never inject markup."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import folium

from maps.data import Area, OfficeMark

Style = Callable[[dict[str, Any]], dict[str, Any]]


def feature_collection(areas: Iterable[Area], extra: Callable[[Area], dict[str, Any]]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.code,
                "geometry": a.geometry,
                "properties": {"code": a.code, "name": a.name, **a.props, **extra(a)},
            }
            for a in areas
        ],
    }


def popup_html(title: str, rows: list[tuple[str, Any]], link: tuple[str, str] | None = None) -> str:
    """A popup as escaped HTML: a title, label/value rows, an optional link."""
    body = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape('' if value is None else str(value))}</td></tr>"
        for label, value in rows
    )
    more = f'<a href="{escape(link[0])}">{escape(link[1])}</a>' if link else ""
    return f'<div class="registry-popup"><b>{escape(title)}</b><table>{body}</table>{more}</div>'


def polygon_layer(
    name: str,
    areas: list[Area],
    style: Style,
    popup: Callable[[Area], str] | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """Filled polygons with a name tooltip and an optional popup."""
    data = feature_collection(areas, lambda a: {"popup": popup(a)} if popup else {})
    return folium.GeoJson(
        data,
        name=name,
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False) if areas else None,
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if popup and areas else None,
        show=show,
        smooth_factor=1.0,
    )


def boundary_layer(name: str, areas: list[Area], color: str, weight: float) -> folium.GeoJson:
    """Administrative boundaries drawn over the townships (lines only, not clickable)."""
    return folium.GeoJson(
        feature_collection(areas, lambda a: {}),
        name=name,
        style_function=lambda f: {"fill": False, "color": color, "weight": weight},
        interactive=False,
    )


def office_popup(o: OfficeMark, extra: list[tuple[str, Any]] | None = None) -> str:
    rows: list[tuple[str, Any]] = [
        ("乡镇(街道)", f"{o.division_name}({o.division_code})"),
        ("县(市、区)", o.county_name),
        ("工作人员", "未填报" if o.staff_total is None else f"{o.staff_total} 人"),
        ("办公用房", "未填报" if o.area_m2 is None else f"{o.area_m2:g} 平方米"),
        ("验收状态", o.state_label),
        *(extra or []),
    ]
    return popup_html(o.name, rows, (o.url, "查看司法所详情"))


def office_layer(
    name: str,
    offices: list[OfficeMark],
    style: Style,
    popup: Callable[[OfficeMark], str] = office_popup,
    show: bool = True,
) -> folium.GeoJson:
    """Offices as circle markers of one GeoJSON layer; `style` sees each office's properties."""
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": o.id,
                "geometry": {"type": "Point", "coordinates": [round(o.lon, 6), round(o.lat, 6)]},
                "properties": {
                    "id": o.id,
                    "name": o.name,
                    "state": o.state,
                    "staff_total": o.staff_total,
                    **o.props,
                    "popup": popup(o),
                },
            }
            for o in offices
        ],
    }
    return folium.GeoJson(
        data,
        name=name,
        marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False) if offices else None,
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if offices else None,
        show=show,
    )
