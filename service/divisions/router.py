"""HTTP routes for divisions: import a boundary file, list a region, read a code's history."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import File, Form, UploadFile
from fastapi.responses import JSONResponse

from service.accounts.permissions import Action
from service.core.dates import PlausibleDate
from service.core.errors import DivisionNotFound
from service.divisions import service
from service.divisions.dependencies import DivisionCode, RegionPrefix
from service.divisions.importer import import_divisions
from service.divisions.kinds import DivisionKind, DivisionLevel
from service.divisions.schemas import (
    DivisionDetailOut,
    DivisionPage,
    DivisionVersionOut,
    ImportReportOut,
    boundary_note,
)
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.params import AsOfQuery, Offset, PageLimit
from service.http.routing import Router
from service.http.uploads import spooled_upload
from service.tenants.service import get_tenant

router = Router(prefix="/api/v1/divisions", tags=["divisions"])


@router.post("/import", response_model=ImportReportOut)
def import_file(
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoJSON, zipped Shapefile or GeoPackage")],
    crs: Annotated[str | None, Form(max_length=200)] = None,
    valid_from: Annotated[PlausibleDate | None, Form()] = None,
    dry_run: Annotated[bool, Form()] = False,
    correction: Annotated[
        bool,
        Form(description="replace the current versions in place (a wrong boundary, name or kind)"),
    ] = False,
    reason: Annotated[
        str | None, Form(max_length=500, description="why; required for a correction")
    ] = None,
    repair: Annotated[
        bool,
        Form(
            description="repair invalid polygons (make_valid) instead of refusing them; the"
            " report lists each repaired feature and the area the repair changed"
        ),
    ] = False,
) -> ImportReportOut:
    """Import division boundaries; all or nothing, with a report of every bad feature.

    With `correction`, changed features replace their code's current version in place instead
    of opening a new one (audited with `reason`); new codes are refused. With `repair`,
    invalid polygons are made valid and reported (`repaired`) instead of refused."""
    scope.require(Action.import_divisions)
    tenant = get_tenant(session=session, code=scope.tenant_code)
    with spooled_upload(file, max_bytes=settings.max_upload_mb * 1024 * 1024) as path:
        report = import_divisions(
            session=session,
            tenant=tenant,
            path=path,
            crs=crs or None,
            valid_from=valid_from,
            source=f"upload:{(file.filename or 'file')[:100]} by {scope.username}",
            dry_run=dry_run,
            correction=correction,
            reason=reason,
            repair=repair,
        )
    return ImportReportOut(**report.__dict__)


@router.get("", response_model=DivisionPage)
def list_divisions(
    scope: CurrentScope,
    session: SessionDep,
    prefix: RegionPrefix,
    level: DivisionLevel | None = None,
    kind: DivisionKind | None = None,
    as_of: AsOfQuery = None,
    limit: PageLimit = 100,
    offset: Offset = 0,
    format: Literal["json", "geojson"] = "json",
) -> Any:
    """Divisions of a region, valid today or at `as_of`; GeoJSON includes the polygons."""
    total, rows = service.list_divisions(
        session=session,
        tenant_id=scope.tenant_id,
        prefix=prefix,
        level=level.value if level else None,
        kind=kind.value if kind else None,
        as_of=as_of,
        limit=limit,
        offset=offset,
        with_geometry=format == "geojson",
    )
    note = boundary_note([r["source"] for r in rows])
    if format == "geojson":
        features = [
            {
                "type": "Feature",
                "id": r["code"],
                "geometry": json.loads(r.pop("geometry")),
                "properties": DivisionVersionOut(**r).model_dump(mode="json"),
            }
            for r in rows
        ]
        return JSONResponse(
            {
                "type": "FeatureCollection",
                "features": features,
                "numberMatched": total,
                "numberReturned": len(features),
                "note": note,
            },
            media_type="application/geo+json",
        )
    return DivisionPage(
        items=[DivisionVersionOut(**r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        note=note,
    )


@router.get("/{code}", response_model=DivisionDetailOut)
def get_division(code: DivisionCode, scope: CurrentScope, session: SessionDep) -> DivisionDetailOut:
    """A division's current version and its whole history."""
    versions = service.division_history(session=session, tenant_id=scope.tenant_id, code=code)
    if not versions:
        raise DivisionNotFound(f"no division with code {code}")
    out = [DivisionVersionOut(**v) for v in versions]
    current = next((v for v in out if v.valid_to is None), None)
    return DivisionDetailOut(current=current, versions=out)
