"""What a map is drawn from: plain data (GeoJSON geometries and properties), no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the zoom from which a map's townships carry their names (and can be pointed at) and its
# county lines are drawn: below it a township or a county is a few pixels wide
DETAIL_FROM = 6


@dataclass(frozen=True)
class Area:
    """A township, county or city: its code, name, GeoJSON geometry and what to show."""

    code: str
    name: str
    geometry: dict[str, Any]
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OfficeMark:
    """An office on the map with what its popup says and what colours it."""

    id: int
    name: str
    lon: float
    lat: float
    division_code: str
    division_name: str
    county_name: str
    staff_total: int | None
    area_m2: float | None
    state: str
    state_label: str
    url: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass
class MapData:
    """Everything one map of a region shows."""

    title: str
    region_code: str
    region_name: str
    bounds: list[list[float]] | None
    townships: list[Area] = field(default_factory=list)
    counties: list[Area] = field(default_factory=list)
    cities: list[Area] = field(default_factory=list)
    offices: list[OfficeMark] = field(default_factory=list)
    note: str | None = None  # e.g. that township boundaries are generated
    filters: dict[str, Any] = field(default_factory=dict)
    # how the legend's counts are made, where a reader could compare them with a report
    counting_note: str | None = None
    # what the reader must know before reading the map (e.g. no data at the chosen date)
    messages: list[str] = field(default_factory=list)
    # the URL of a map of another region, less the region code, with "{theme}" for the
    # theme (drill-down links; the filters are kept)
    drill: str | None = None
    # the service's names of coded values, by property ("state": acceptance states, "kind":
    # township kinds): the maps colour by code and name by these
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # the townships and the county and city lines come as the service's vector tiles (at
    # full detail at every zoom), not in the page: the tiles' URL templates by collection
    # ("coverage", "counties", "cities"); `townships` then carry no geometry
    tiles: dict[str, str] = field(default_factory=dict)
    # the offices come from this URL (GeoJSON with each mark's style, maps.themes
    # office_features) once the page has loaded, not in the page; `offices` then serve the
    # legend's counts only
    offices_url: str | None = None
