"""HTTP routes for offices: thin — parse, check scope, call the service, return a schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import Invalid
from service.core.exports import Column
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.downloads import download
from service.http.kept_exports import KEPT_EXPORTS, ExportRoute
from service.http.params import Offset, PageLimit
from service.http.routing import Router
from service.http.uploads import spooled_upload
from service.offices import roster_store, service
from service.offices.dependencies import ValidOffice
from service.offices.exports import EXPORT_LIMIT, OFFICE_LIST, export_row
from service.offices.models import Office
from service.offices.queries import list_offices, office_filter, office_out
from service.offices.roster import COLUMNS as ROSTER_COLUMNS
from service.offices.roster import EXAMPLE as ROSTER_EXAMPLE
from service.offices.schemas import (
    Links,
    OfficeClose,
    OfficeCreate,
    OfficeListParams,
    OfficeOut,
    OfficePage,
    OfficeUpdate,
    RosterReportOut,
    office_feature,
)

router = Router(route_class=ExportRoute, prefix="/api/v1/offices", tags=["offices"])


def page_links(request: Request, total: int, limit: int, offset: int) -> Links:
    def at(new_offset: int) -> str:
        return str(request.url.include_query_params(offset=new_offset, limit=limit))

    return Links(
        self=str(request.url),
        next=at(offset + limit) if offset + limit < total else None,
        prev=at(max(offset - limit, 0)) if offset > 0 else None,
    )


def _answer(session: Session, scope: Scope, office: Office, response: Response) -> OfficeOut:
    """The office as the API shows it, with its ETag for a later PATCH (If-Match)."""
    response.headers["ETag"] = service.etag(office)
    return office_out(session=session, scope=scope, office_id=office.id)


@router.post("", status_code=201, response_model=OfficeOut)
def create_office(
    data: OfficeCreate, scope: CurrentScope, session: SessionDep, response: Response
) -> OfficeOut:
    """Register an office; its township is derived from the point and checked."""
    office = service.create_office(session=session, scope=scope, data=data)
    response.headers["Location"] = f"/api/v1/offices/{office.id}"
    return _answer(session, scope, office, response)


@router.get("", response_model=OfficePage, dependencies=[KEPT_EXPORTS])
def get_offices(
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    params: Annotated[OfficeListParams, Query()],
    limit: PageLimit = 100,
    offset: Offset = 0,
    format: Literal["json", "geojson", "csv", "xlsx"] = "json",
) -> Any:
    """Offices in a region (city, county or township subtree), filtered, sorted and
    paginated. CSV/XLSX: every page of the same list (up to 5,000 offices) with Chinese
    headers, the compliance score and the re-inspection due date."""
    filters = office_filter(params, scope)
    export = format in ("csv", "xlsx")
    total, listed = list_offices(
        session=session,
        scope=scope,
        filters=filters,
        limit=EXPORT_LIMIT if export else limit,
        offset=0 if export else offset,
        sort=params.sort,
        descending=params.order == "desc",
        with_compliance=export,
    )
    if export:
        return download(
            format,
            [export_row(item) for item in listed],
            OFFICE_LIST,
            filename=f"司法所名单_{filters.region or '全部'}",
            note=f"共 {total} 个司法所,仅导出前 {EXPORT_LIMIT} 个"
            if total > EXPORT_LIMIT
            else None,
        )
    items = [item.office for item in listed]
    links = page_links(request, total, limit, offset)
    if format == "geojson":
        return JSONResponse(
            {
                "type": "FeatureCollection",
                "features": [office_feature(o) for o in items],
                "numberMatched": total,
                "numberReturned": len(items),
                "links": [
                    {"rel": rel, "href": href, "type": "application/geo+json"}
                    for rel, href in links.model_dump().items()
                    if href
                ],
            },
            media_type="application/geo+json",
        )
    return OfficePage(items=items, total=total, limit=limit, offset=offset, links=links)


@router.post("/import", response_model=RosterReportOut)
def import_roster(
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the roster, XLSX or CSV (UTF-8 or GBK)")],
    dry_run: Annotated[bool, Form()] = False,
) -> RosterReportOut:
    """Import a legacy roster: rows are stored as they are, rule violations flagged (a point
    outside its township, two offices in one township, a name off the convention); malformed
    rows are reported by row and column and not stored; an unreadable file is refused."""
    with spooled_upload(file, max_bytes=settings.max_upload_mb * 1024 * 1024) as path:
        report = roster_store.import_roster(
            session=session, scope=scope, path=path, dry_run=dry_run
        )
    return RosterReportOut(**report.__dict__)


@router.get("/import/template", dependencies=[KEPT_EXPORTS])
def roster_template(scope: CurrentScope, format: Literal["xlsx", "csv"] = "xlsx") -> Response:
    """An empty roster with the expected columns and one example row."""
    columns = [Column(key, header) for key, (header, _) in ROSTER_COLUMNS.items()]
    return download(
        format,
        [ROSTER_EXAMPLE],
        columns,
        filename="司法所名册模板",
        note="必填:司法所名称、乡镇(街道)代码、经度、纬度;坐标系可填 WGS84、CGCS2000、GCJ02、BD09(默认WGS84);编号用于再次导入时对应同一司法所",
    )


@router.get("/{office_id}", response_model=OfficeOut)
def get_office(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    """One office, with its ETag for a later PATCH."""
    tag = service.etag(office)
    if if_none_match and tag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return _answer(session, scope, office, response)


@router.patch("/{office_id}", response_model=OfficeOut)
def patch_office(
    office: ValidOffice,
    data: OfficeUpdate,
    scope: CurrentScope,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> OfficeOut:
    """Change an office; requires If-Match with the ETag from GET (412 when stale)."""
    updated = service.update_office(
        session=session, scope=scope, office=office, data=data, if_match=if_match
    )
    return _answer(session, scope, updated, response)


@router.delete("/{office_id}", response_model=OfficeOut)
def delete_office(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    response: Response,
    reason: Annotated[str | None, Query(min_length=2, max_length=500)] = None,
    body: Annotated[OfficeClose | None, Body()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> OfficeOut:
    """Close an office (it is never erased): a reason is required, as ?reason= or in the body."""
    if body is None:
        body = OfficeClose.model_validate({"reason": reason}) if reason else None
    if body is None:
        raise Invalid(
            "a reason is required to close an office", [{"field": "reason", "problem": "missing"}]
        )
    closed = service.close_office(
        session=session, scope=scope, office=office, data=body, if_match=if_match
    )
    return _answer(session, scope, closed, response)
