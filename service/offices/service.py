"""Registering, changing and closing offices, with the spatial and naming rules of docs/glossary.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from geo.points import points_to_wgs84
from service.accounts.permissions import Action
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.core.db import advisory_lock
from service.core.errors import (
    Conflict,
    DivisionMismatch,
    Forbidden,
    Invalid,
    InvalidLocation,
    NameConvention,
    OfficeNotFound,
    PreconditionFailed,
    PreconditionRequired,
    TownshipHasOffice,
)
from service.divisions.service import (
    DivisionRef,
    get_current,
    locate_township,
    nearest_township,
    require_current,
)
from service.offices.models import Office
from service.offices.naming import expected_name, name_matches
from service.offices.schemas import (
    DETAIL_FIELDS,
    Location,
    OfficeClose,
    OfficeCreate,
    OfficeUpdate,
)
from service.offices.staff_counts import larger_than_total
from service.records.service import staff_list_counts

# What an office's own staff may edit: facility and contact data, not identity or location.
STAFF_EDITABLE = frozenset(DETAIL_FIELDS - {"exception_reason"})


@dataclass(frozen=True)
class Placement:
    """Where an office is: WGS-84 point and the township that contains it."""

    lon: float
    lat: float
    township: DivisionRef


def to_wgs84(location: Location) -> tuple[float, float]:
    """The WGS-84 lon/lat of a submitted point; 422 naming the problem when it cannot be one."""
    x, y = location.lon, location.lat
    converted = points_to_wgs84(location.crs, np.array([x]), np.array([y]))
    if converted.problems[0]:
        raise InvalidLocation(
            f"location: {converted.problems[0]}", {"field": "location", "lon": x, "lat": y}
        )
    return float(converted.lon[0]), float(converted.lat[0])


def _no_township_hint(session: Session, scope: Scope, lon: float, lat: float) -> str:
    swapped = locate_township(session=session, tenant_id=scope.tenant_id, lon=lat, lat=lon)
    if swapped is not None:
        return (
            f"with lon and lat swapped it would lie in {swapped.name} ({swapped.code}); swap them?"
        )
    near = nearest_township(session=session, tenant_id=scope.tenant_id, lon=lon, lat=lat)
    if near is None:
        return f"{scope.tenant_name} has no township boundaries yet; import divisions first"
    ref, metres = near
    return (
        f"it is outside every township of {scope.tenant_name}; the nearest is {ref.name} "
        f"({ref.code}), {metres / 1000:.1f} km away — wrong coordinates or wrong CRS?"
    )


def place(session: Session, scope: Scope, location: Location, declared: str | None) -> Placement:
    """Convert the point, find its township and check it against the declared division."""
    lon, lat = to_wgs84(location)
    township = locate_township(
        session=session, tenant_id=scope.tenant_id, lon=lon, lat=lat, prefer=declared
    )
    if township is None:
        raise InvalidLocation(
            f"location ({lon:.6f}, {lat:.6f}) lies in no township: "
            + _no_township_hint(session, scope, lon, lat),
            {"field": "location", "lon": lon, "lat": lat},
        )
    if declared and declared != township.code:
        named = get_current(session=session, tenant_id=scope.tenant_id, code=declared)
        what = (
            f"{named.name} ({declared})"
            if named
            else f"{declared}, which is not a current township"
        )
        raise DivisionMismatch(
            f"the point lies in {township.name} ({township.code}), not in {what}",
            {
                "field": "division_code",
                "point_division": {"code": township.code, "name": township.name},
                "declared": declared,
            },
        )
    if not scope.covers(township.code):
        raise Forbidden(
            f"{township.name} ({township.code}) is outside your region {scope.region_code}"
        )
    return Placement(lon, lat, township)


def check_name(session: Session, scope: Scope, name: str, township: DivisionRef) -> None:
    county = get_current(session=session, tenant_id=scope.tenant_id, code=township.code[:6])
    county_name = county.name if county else ""
    if not name_matches(name, county_name, township.name, township.kind):
        expected = expected_name(county_name, township.name, township.kind)
        raise NameConvention(
            f"name {name!r} does not follow XX县(市、区)司法局XX司法所; expected {expected!r}",
            {"field": "name", "expected": expected},
        )


def check_one_per_township(
    session: Session, scope: Scope, township: DivisionRef, reason: str | None, exclude: int | None
) -> None:
    """409 when the township already has an active office, unless an exception reason is given."""
    advisory_lock(session, f"office-township-{scope.tenant_id}", int(township.code))
    rows = session.execute(
        select(Office.id, Office.name).where(
            Office.tenant_id == scope.tenant_id,
            Office.division_code == township.code,
            Office.closed_at.is_(None),
            Office.id != (exclude or 0),
        )
    ).all()
    if rows and not reason:
        first = rows[0]
        raise TownshipHasOffice(
            f"{township.name} ({township.code}) already has an office: {first.name} (id {first.id});"
            " one office per township — send exception_reason to register another",
            {
                "existing": [{"id": r.id, "name": r.name} for r in rows],
                "division_code": township.code,
            },
        )


def _point(lon: float, lat: float) -> WKBElement:
    return from_shape(shapely.Point(lon, lat), srid=4326)


def create_office(*, session: Session, scope: Scope, data: OfficeCreate) -> Office:
    scope.require(Action.create_office)
    where = place(session, scope, data.location, data.division_code)
    check_name(session, scope, data.name, where.township)
    check_one_per_township(session, scope, where.township, data.exception_reason, None)
    office = Office(
        tenant_id=scope.tenant_id,
        name=data.name,
        division_id=where.township.id,
        division_code=where.township.code,
        located_division_id=where.township.id,
        located_code=where.township.code,
        geom=_point(where.lon, where.lat),
        external_id=data.external_id,
        **data.model_dump(include=set(DETAIL_FIELDS), exclude_none=True),
    )
    session.add(office)
    session.flush()
    return office


def get_office(*, session: Session, scope: Scope, office_id: int) -> Office:
    """The office if it exists in the tenant and inside the user's region; 404 otherwise."""
    office = session.scalar(
        select(Office).where(Office.tenant_id == scope.tenant_id, Office.id == office_id)
    )
    if office is None or not scope.covers(office.division_code):
        raise OfficeNotFound(f"no office {office_id} in your region")
    return office


def etag(office: Office) -> str:
    return f'"{office.version}"'


def representation_etag(version: int, digest: str) -> str:
    """The ETag of a representation that shows more than the office's record (the OGC API's
    feature, with the compliance score measured from its other records): the record's
    version and a digest of the body. If-Match compares the version (`check_if_match`)."""
    return f'"{version}.{digest}"'


def _version_named(tag: str) -> str:
    """The record's ETag that an If-Match tag names: itself, or the version that leads a
    representation's (`representation_etag`)."""
    version, dot, digest = tag.strip('"').partition(".")
    return f'"{version}"' if dot and version.isdigit() and digest.isalnum() else tag


def check_if_match(office: Office, if_match: str | None, *, required: bool) -> None:
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "If-Match header required: send the ETag from GET /api/v1/offices/{id}"
            )
        return
    tags = [_version_named(t.strip().removeprefix("W/")) for t in if_match.split(",")]
    if tags == ["*"]:
        raise PreconditionRequired("If-Match must carry the office's ETag, not *")
    if etag(office) not in tags:
        raise PreconditionFailed(
            f"the office was changed by someone else (current ETag {etag(office)}); "
            "GET it again and reapply your change",
            {"current_etag": etag(office), "sent": if_match},
        )


def update_office(
    *, session: Session, scope: Scope, office: Office, data: OfficeUpdate, if_match: str | None
) -> Office:
    scope.require(Action.update_office)
    check_if_match(office, if_match, required=True)
    if office.closed_at is not None:
        raise Conflict(f"office {office.id} is closed; it cannot be changed")
    fields = data.model_fields_set
    if scope.role is Role.office_staff and not fields <= STAFF_EDITABLE:
        raise Forbidden(
            "office staff may change only "
            + ", ".join(sorted(STAFF_EDITABLE))
            + "; the county bureau changes the rest"
        )
    counts = fields & {"staff_total", "staff_formal", "staff_civil_servants"}
    if counts and staff_list_counts(
        session=session, tenant_id=office.tenant_id, office_ids=[office.id]
    ):
        raise Conflict(
            "the staff numbers of this office follow its staff list; change the list at "
            f"/api/v1/offices/{office.id}/staff",
            {"field": sorted(counts)[0]},
        )
    township = require_current(
        session=session, tenant_id=scope.tenant_id, code=office.division_code
    )
    if "location" in fields or "division_code" in fields:
        declared = data.division_code if "division_code" in fields else None
        if data.location is not None:
            where = place(session, scope, data.location, declared)
            office.geom = _point(where.lon, where.lat)
            office.located_division_id = where.township.id
            office.located_code = where.township.code
        else:  # a new division for an unmoved point: the division must contain the point
            point = to_shape(office.geom)
            here = Location(lon=point.x, lat=point.y, crs="EPSG:4326")
            where = place(session, scope, here, declared)
        township = where.township
    moved = township.code != office.division_code
    if moved:
        reason = data.exception_reason if "exception_reason" in fields else office.exception_reason
        check_one_per_township(session, scope, township, reason, office.id)
        office.division_id, office.division_code = township.id, township.code
    if "name" in fields or moved:
        check_name(session, scope, data.name or office.name, township)
    for field in fields & (DETAIL_FIELDS | {"name"}):
        setattr(office, field, getattr(data, field))
    _check_staff(office)
    office.updated_at = datetime.now(UTC)
    _flush_versioned(session)
    return office


def _flush_versioned(session: Session) -> None:
    """Write an office whose version column guards against a concurrent change (412)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            "the office was changed by someone else meanwhile; GET it again"
        ) from exc


def _check_staff(office: Office) -> None:
    problem = larger_than_total(office.staff_total, lambda name: getattr(office, name))
    if problem:
        raise Invalid(problem[1], {"field": problem[0]})


def close_office(
    *, session: Session, scope: Scope, office: Office, data: OfficeClose, if_match: str | None
) -> Office:
    """Close (never erase) an office: it keeps its history and leaves the coverage counts."""
    scope.require(Action.close_office)
    check_if_match(office, if_match, required=False)
    if office.closed_at is not None:
        raise Conflict(f"office {office.id} was already closed on {office.closed_at:%Y-%m-%d}")
    now = datetime.now(UTC)
    closed_on = data.closed_on
    office.closed_at = (
        now
        if closed_on is None
        else datetime(closed_on.year, closed_on.month, closed_on.day, tzinfo=UTC)
    )
    office.closed_reason = data.reason
    office.updated_at = datetime.now(UTC)
    _flush_versioned(session)
    return office
