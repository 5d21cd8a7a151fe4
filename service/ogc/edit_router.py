"""OGC API Features Part 4 (Create, Replace, Update, Delete) on the offices collection: each
a call of the office API's own service function (service/features/edits.py reads the
feature), so the naming rule, one office per township, the division from the point,
If-Match, the audit trail, roles and regions are the same as /api/v1/offices. A delete
closes the office (an office is never erased); it then leaves the collection."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Header, Path, Query
from fastapi.responses import Response

from service.core.errors import OfficeNotFound
from service.features import edits
from service.features.collections import Collection
from service.offices import service
from service.offices.models import Office
from service.offices.schemas import OfficeClose, OfficeUpdate
from service.ogc.common import (
    ERRORS,
    GEOJSON,
    Call,
    CallDep,
    CollectionDep,
    OgcRouter,
    answers,
    collection_of,
    feature_response,
)

router = OgcRouter(prefix="/ogc", tags=["OGC API - Features"], responses=ERRORS)

FeatureId = Annotated[str, Path(max_length=40)]
ContentCrs = Annotated[
    str | None,
    Header(alias="Content-Crs", max_length=200, description="the CRS of the body's geometry"),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]
NONE = frozenset[str]()
# a delete from a desktop client has no body: the reason the office API asks for, unless given
DEFAULT_CLOSE_REASON = "经 OGC API 删除"


def _offices(c: Collection) -> None:
    if c.id != "offices":
        raise edits.read_only(c.id)


def _office(call: Call, c: Collection, feature_id: str) -> Office:
    """The office a feature id names, in the caller's region (404 otherwise)."""
    _offices(c)
    if not feature_id.isdigit() or not 0 < int(feature_id) < 2**63:
        raise OfficeNotFound(f"no office {feature_id[:40]!r} in your region")
    return service.get_office(session=call.session, scope=call.scope, office_id=int(feature_id))


def _update(call: Call, office: Office, data: OfficeUpdate, if_match: str | None) -> Response:
    """An office changed through the office API's update, answered as the feature it is now."""
    service.update_office(
        session=call.session,
        scope=call.scope,
        office=office,
        data=_changed(office, data),
        if_match=if_match,
    )
    return feature_response(call, collection_of("offices"), str(office.id))


def _uncrs(content_crs: str | None) -> str | None:
    """The header's value without the angle brackets of its syntax (`<uri>`)."""
    if content_crs is None:
        return None
    return content_crs.strip().removeprefix("<").removesuffix(">")


@router.post(
    "/collections/{collection_id}/items",
    status_code=201,
    summary="Create a feature",
    response_class=Response,
    responses=answers(GEOJSON, status=201),
)
def create_feature(
    c: CollectionDep,
    call: CallDep,
    feature: Annotated[Any, Body(media_type="application/geo+json")],
    content_crs: ContentCrs = None,
) -> Response:
    """A new office from a GeoJSON Feature (Point; properties as the collection shows them)."""
    call.only(NONE)
    _offices(c)
    data = edits.office_create(feature, _uncrs(content_crs))
    office = service.create_office(session=call.session, scope=call.scope, data=data)
    location = call.url(f"/ogc/collections/offices/items/{office.id}")
    return feature_response(
        call, c, str(office.id), status_code=201, headers={"Location": location}
    )


@router.put(
    "/collections/{collection_id}/items/{feature_id}",
    summary="Replace a feature",
    response_class=Response,
    responses=answers(GEOJSON),
)
@router.patch(
    "/collections/{collection_id}/items/{feature_id}",
    summary="Update a feature",
    response_class=Response,
    responses=answers(GEOJSON),
)
def change_feature(
    c: CollectionDep,
    feature_id: FeatureId,
    call: CallDep,
    body: Annotated[Any, Body(media_type="application/geo+json")],
    content_crs: ContentCrs = None,
    if_match: IfMatch = None,
) -> Response:
    """PUT replaces an office's writable properties and point (one left out is cleared);
    PATCH, a JSON merge patch (`application/merge-patch+json`), changes what it names. Both
    with If-Match (the ETag of the feature; 412 when stale)."""
    call.only(NONE)
    office = _office(call, c, feature_id)
    if call.request.method == "PUT":
        data = edits.office_replace(body, _uncrs(content_crs))
    else:
        data = edits.office_patch(body, _uncrs(content_crs))
    return _update(call, office, data, if_match)


@router.delete(
    "/collections/{collection_id}/items/{feature_id}",
    status_code=204,
    summary="Delete a feature",
    response_class=Response,
)
def delete_feature(
    c: CollectionDep,
    feature_id: FeatureId,
    call: CallDep,
    reason: Annotated[str | None, Query(min_length=2, max_length=500)] = None,
    if_match: IfMatch = None,
) -> Response:
    """Close the office (never erased: its history stays); `reason` as the office API asks."""
    call.only(frozenset({"reason"}))
    office = _office(call, c, feature_id)
    data = OfficeClose.model_validate({"reason": reason or DEFAULT_CLOSE_REASON})
    service.close_office(
        session=call.session, scope=call.scope, office=office, data=data, if_match=if_match
    )
    return Response(status_code=204)


def _changed(office: Office, data: Any) -> Any:
    """The update without the staff numbers it gives unchanged: a feature read and written
    back carries them, and they may follow the staff list (then only the list changes them)."""
    same = {
        name
        for name in ("staff_total", "staff_formal", "staff_civil_servants")
        if name in data.model_fields_set and getattr(data, name) == getattr(office, name)
    }
    if not same:
        return data
    kept = {k: getattr(data, k) for k in data.model_fields_set - same}
    return type(data).model_validate(kept)
