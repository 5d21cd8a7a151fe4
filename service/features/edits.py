"""OGC API Features Part 4 on offices: a GeoJSON feature read into the same requests the
office API takes (`OfficeCreate`, `OfficeUpdate`), so a feature written through /ogc goes
through the one path every office write takes (offices/service.py: naming rule, one office
per township, division from the point, If-Match, audit, roles and regions).

The point comes in the CRS the `Content-Crs` header names (CRS84 when absent) and in that
CRS's axis order; the properties under the names the offices collection shows."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from geo.crs import WEB_MERCATOR, northing_first, point_to_wgs84
from service.core.errors import Invalid, MethodNotAllowed
from service.features.params import crs_param
from service.offices.schemas import DETAIL_FIELDS, OfficeCreate, OfficeUpdate

# the properties a client may write, by their collection names → the office API's fields
WRITABLE = {**{name: name for name in DETAIL_FIELDS}, "name": "name", "code": "division_code"}
# what the collection shows but a client does not write (read from the database)
DERIVED = frozenset(
    {
        "id",
        "township",
        "kind",
        "county",
        "located_code",
        "state",
        "state_label",
        "accepted_on",
        "version",
        "compliance_score",
        "mandatory_met",
    }
)


# what a replacement without it clears (the opening date and the staff numbers stay: the
# first is required, the others may follow the staff list)
CLEARABLE = ("address", "phone", "area_m2", "exception_reason")


def _location(geometry: Any, content_crs: str | None) -> dict[str, Any]:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise Invalid(
            "geometry: an office is a Point", [{"field": "geometry", "problem": "not a Point"}]
        )
    coords = geometry.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
    ):
        raise Invalid(
            "geometry: a Point's coordinates are two numbers",
            [{"field": "geometry.coordinates", "problem": "two numbers expected"}],
        )
    epsg = crs_param(content_crs, "Content-Crs")
    a, b = float(coords[0]), float(coords[1])
    if epsg is None:
        return {"lon": a, "lat": b, "crs": "EPSG:4326"}
    x, y = (b, a) if northing_first(epsg) else (a, b)
    if epsg == WEB_MERCATOR:
        lon, lat = point_to_wgs84(x, y, epsg)
        return {"lon": lon, "lat": lat, "crs": "EPSG:4326"}
    return {"lon": x, "lat": y, "crs": f"EPSG:{epsg}"}


def _fields(feature: Any, content_crs: str | None, *, geometry_required: bool) -> dict[str, Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise Invalid(
            "the body must be a GeoJSON Feature", [{"field": "type", "problem": "not a Feature"}]
        )
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise Invalid(
            "properties must be an object", [{"field": "properties", "problem": "not an object"}]
        )
    unknown = sorted(set(props) - set(WRITABLE) - DERIVED)
    if unknown:
        raise Invalid(
            f"properties: {', '.join(unknown)[:200]} not a property of offices",
            [{"field": f"properties.{unknown[0][:60]}", "problem": "unknown property"}],
        )
    fields = {WRITABLE[k]: v for k, v in props.items() if k in WRITABLE}
    geometry = feature.get("geometry")
    if geometry is not None:
        fields["location"] = _location(geometry, content_crs)
    elif geometry_required:
        raise Invalid("geometry: required", [{"field": "geometry", "problem": "missing"}])
    return fields


def _validated(model: type[OfficeCreate] | type[OfficeUpdate], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise Invalid(
            f"{where}: {error['msg']}", [{"field": where, "problem": error["msg"]}]
        ) from exc


def office_create(feature: Any, content_crs: str | None) -> OfficeCreate:
    """POST: a new office from a feature (its id, if any, is the server's to give)."""
    result: OfficeCreate = _validated(
        OfficeCreate, _fields(feature, content_crs, geometry_required=True)
    )
    return result


def office_replace(feature: Any, content_crs: str | None) -> OfficeUpdate:
    """PUT: every writable field as the feature gives it; one it leaves out is cleared."""
    fields = _fields(feature, content_crs, geometry_required=True)
    for name in CLEARABLE:
        fields.setdefault(name, None)
    result: OfficeUpdate = _validated(OfficeUpdate, fields)
    return result


def office_patch(patch: Any, content_crs: str | None) -> OfficeUpdate:
    """PATCH (JSON merge patch of a feature): only what it names changes."""
    if not isinstance(patch, dict):
        raise Invalid(
            "the body must be a JSON object", [{"field": "body", "problem": "not an object"}]
        )
    feature = {"type": "Feature", **patch}
    result: OfficeUpdate = _validated(
        OfficeUpdate, _fields(feature, content_crs, geometry_required=False)
    )
    return result


def read_only(collection_id: str) -> MethodNotAllowed:
    return MethodNotAllowed(
        f"collection {collection_id[:60]!r} is read-only; offices can be written",
        {"field": "collection_id"},
        headers={"Allow": "GET, HEAD"},
    )
