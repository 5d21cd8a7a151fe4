"""HTTP routes of yearly work records (第四篇): an office's records by year, and a region's
records of a year as JSON, CSV or XLSX."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response

from service.http.deps import CurrentScope, SessionDep
from service.http.downloads import download
from service.http.kept_exports import KEPT_EXPORTS, ExportRoute
from service.http.params import RegionParam
from service.http.routing import Router
from service.offices.dependencies import ValidOffice
from service.records import exports, work
from service.records.schemas import RegionWorkRecords, WorkRecordIn, WorkRecordOut

router = Router(route_class=ExportRoute, prefix="/api/v1", tags=["office records"])
Year = Annotated[int, Path(ge=2000, le=2100, description="the year the record is of")]
RECORD = "/offices/{office_id}/work-records"


@router.get(RECORD, response_model=list[WorkRecordOut])
def list_work_records(office: ValidOffice, scope: CurrentScope, session: SessionDep) -> Any:
    """The office's yearly work records, newest first, with the rates computed from them."""
    return work.list_work_records(session=session, scope=scope, office=office)


@router.get(RECORD + "/{year}", response_model=WorkRecordOut)
def get_work_record(
    year: Year, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Any:
    return work.get_work_record(session=session, scope=scope, office=office, year=year)


@router.put(RECORD + "/{year}", response_model=WorkRecordOut)
def put_work_record(
    year: Year, data: WorkRecordIn, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Any:
    """Replace the year's record (office staff and the county bureau); a year not yet begun,
    a part above its whole or a summary that is not this office's file is refused (422)."""
    return work.put_work_record(session=session, scope=scope, office=office, year=year, data=data)


@router.delete(RECORD + "/{year}", status_code=204)
def delete_work_record(
    year: Year, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Response:
    work.delete_work_record(session=session, scope=scope, office=office, year=year)
    return Response(status_code=204)


@router.get("/work-records", response_model=RegionWorkRecords, dependencies=[KEPT_EXPORTS])
def region_work_records(
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="default: the last completed year")
    ] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Any:
    """The offices of a region (inside yours) with a work record of the year: every count,
    the computed rates, titles, the county's assessment. CSV/XLSX: the same, one row each."""
    bounded = scope.region(region)
    year = date.today().year - 1 if year is None else year
    rows = work.region_work_records(session=session, scope=scope, region=bounded, year=year)
    if format == "json":
        return RegionWorkRecords(region=bounded, year=year, items=rows)
    return download(
        format,
        [exports.export_row(r) for r in rows],
        exports.WORK_RECORDS,
        filename=f"年度工作记录_{bounded or '全部'}_{year}",
    )
