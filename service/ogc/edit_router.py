"""OGC API Features Part 4 (Create, Replace, Update, Delete) on the offices collection: each
a call of the office API's own service function (service/features/edits.py reads the
feature), so the naming rule, one office per township, the division from the point,
If-Match, the audit trail, roles and regions are the same as /api/v1/offices. A delete
closes the office (an office is never erased); it then leaves the collection."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import Response

from service.core.errors import OfficeNotFound
from service.features import edits
from service.http.deps import CurrentScope, SessionDep
from service.offices import service
from service.offices.models import Office
from service.offices.schemas import OfficeClose
from service.ogc.common import collection_of, feature_response, only, url

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

FeatureId = Annotated[str, Path(max_length=40)]
ContentCrs = Annotated[
    str | None,
    Header(alias="Content-Crs", max_length=200, description="the CRS of the body's geometry"),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]
NONE = frozenset[str]()
# a delete from a desktop client has no body: the reason the office API asks for, unless given
DEFAULT_CLOSE_REASON = "经 OGC API 删除"


def _offices(collection_id: str) -> None:
    collection_of(collection_id)
    if collection_id != "offices":
        raise edits.read_only(collection_id)


def _office(session: Any, scope: Any, feature_id: str) -> Office:
    if not feature_id.isdigit() or not 0 < int(feature_id) < 2**63:
        raise OfficeNotFound(f"no office {feature_id[:40]!r} in your region")
    return service.get_office(session=session, scope=scope, office_id=int(feature_id))


def _uncrs(content_crs: str | None) -> str | None:
    """The header's value without the angle brackets of its syntax (`<uri>`)."""
    if content_crs is None:
        return None
    return content_crs.strip().removeprefix("<").removesuffix(">")


@router.post("/collections/{collection_id}/items", status_code=201, summary="Create a feature")
def create_feature(
    collection_id: str,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    feature: Annotated[Any, Body(media_type="application/geo+json")],
    content_crs: ContentCrs = None,
) -> Response:
    """A new office from a GeoJSON Feature (Point; properties as the collection shows them)."""
    only(request, NONE)
    _offices(collection_id)
    office = service.create_office(
        session=session, scope=scope, data=edits.office_create(feature, _uncrs(content_crs))
    )
    location = url(request, f"/ogc/collections/offices/items/{office.id}")
    return feature_response(
        request,
        scope,
        session,
        collection_of("offices"),
        str(office.id),
        status_code=201,
        headers={"Location": location},
    )


@router.put("/collections/{collection_id}/items/{feature_id}", summary="Replace a feature")
def replace_feature(
    collection_id: str,
    feature_id: FeatureId,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    feature: Annotated[Any, Body(media_type="application/geo+json")],
    content_crs: ContentCrs = None,
    if_match: IfMatch = None,
) -> Response:
    """Replace an office's writable properties and point; If-Match with its ETag (412 when
    stale). A writable property left out is cleared."""
    only(request, NONE)
    _offices(collection_id)
    office = _office(session, scope, feature_id)
    data = edits.office_replace(feature, _uncrs(content_crs))
    service.update_office(
        session=session, scope=scope, office=office, data=_changed(office, data), if_match=if_match
    )
    return feature_response(request, scope, session, collection_of("offices"), feature_id)


@router.patch("/collections/{collection_id}/items/{feature_id}", summary="Update a feature")
def update_feature(
    collection_id: str,
    feature_id: FeatureId,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    patch: Annotated[Any, Body(media_type="application/merge-patch+json")],
    content_crs: ContentCrs = None,
    if_match: IfMatch = None,
) -> Response:
    """Change what the merge patch names (its `properties`, its `geometry`); If-Match."""
    only(request, NONE)
    _offices(collection_id)
    office = _office(session, scope, feature_id)
    data = edits.office_patch(patch, _uncrs(content_crs))
    service.update_office(
        session=session, scope=scope, office=office, data=_changed(office, data), if_match=if_match
    )
    return feature_response(request, scope, session, collection_of("offices"), feature_id)


@router.delete(
    "/collections/{collection_id}/items/{feature_id}", status_code=204, summary="Delete a feature"
)
def delete_feature(
    collection_id: str,
    feature_id: FeatureId,
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    reason: Annotated[str | None, Query(min_length=2, max_length=500)] = None,
    if_match: IfMatch = None,
) -> Response:
    """Close the office (never erased: its history stays); `reason` as the office API asks."""
    only(request, frozenset({"reason"}))
    _offices(collection_id)
    office = _office(session, scope, feature_id)
    data = OfficeClose.model_validate({"reason": reason or DEFAULT_CLOSE_REASON})
    service.close_office(session=session, scope=scope, office=office, data=data, if_match=if_match)
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
