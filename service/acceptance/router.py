"""HTTP routes of the acceptance workflow: steps, history, the by-state overview, progress."""

from __future__ import annotations

from typing import Any

from service.acceptance import exports, reports, rows, service
from service.acceptance.schemas import EventOut, StepIn, StepResult
from service.acceptance.workflow import Step
from service.core.exports import Column, fields_of
from service.http.deps import CurrentScope, Level, ReportFormat, ReportParams, SessionDep
from service.http.downloads import download
from service.http.kept_exports import KEPT_EXPORTS, ExportRoute
from service.http.params import AsOfQuery, Offset, PageLimit, RegionParam
from service.http.routing import Router
from service.offices.dependencies import ValidOffice
from service.offices.states import AcceptanceState

router = Router(route_class=ExportRoute, prefix="/api/v1", tags=["acceptance"])


@router.post("/offices/{office_id}/acceptance/{step}", response_model=StepResult)
def take_step(
    step: Step, data: StepIn, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Any:
    """Take a workflow step. 403 when the role may not take it, 409 naming the current state
    and the allowed steps when the office is not in a state it starts from, 409 with the
    open criteria when the standard in force is not met."""
    return service.take_step(session=session, scope=scope, office=office, step=step, data=data)


@router.get("/offices/{office_id}/acceptance", response_model=list[EventOut])
def acceptance_history(office: ValidOffice, scope: CurrentScope, session: SessionDep) -> Any:
    """Every workflow step of the office, oldest first."""
    return service.history(session=session, scope=scope, office=office)


@router.get("/acceptance", response_model=rows.AcceptanceOverview, dependencies=[KEPT_EXPORTS])
def acceptance_overview(
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    state: AcceptanceState | None = None,
    level: Level | None = None,
    limit: PageLimit = 100,
    offset: Offset = 0,
    format: ReportFormat = "json",
) -> Any:
    """Offices by acceptance state with counts per sub-region, and re-inspections overdue or
    due soon — the city bureau's main screen. CSV/XLSX: the list of offices (up to 5,000)."""
    body = reports.acceptance_overview(
        session=session,
        scope=scope,
        region=scope.region(region),
        state=state.value if state else None,
        level=level,
        limit=5000 if format != "json" else limit,
        offset=offset if format == "json" else 0,
    )
    if format == "json":
        return body
    return download(format, body.items, exports.ACCEPTANCE, filename=f"验收状态_{body.region}")


@router.get("/progress", response_model=rows.ProgressReport, dependencies=[KEPT_EXPORTS])
def progress(scope: CurrentScope, session: SessionDep, query: ReportParams) -> Any:
    """Share of required divisions with a titled office, per sub-region, against the target."""
    body = reports.progress(
        session=session, scope=scope, region=query.region, as_of=query.as_of, level=query.level
    )
    return _per_region(query.format, body, exports.PROGRESS, "规范化进度")


@router.get("/spot-checks", response_model=rows.SpotCheckReport, dependencies=[KEPT_EXPORTS])
def spot_checks(scope: CurrentScope, session: SessionDep, query: ReportParams) -> Any:
    """The province's sampling (第二篇 四 "适当比例"): per city or county, offices filed, how
    many the province spot-checked, the share, and the findings."""
    body = reports.spot_checks(
        session=session, scope=scope, region=query.region, as_of=query.as_of, level=query.level
    )
    return _per_region(query.format, body, exports.SPOT_CHECKS, "省厅抽检比例")


@router.get("/civilised-offices", response_model=rows.CivilisedReport, dependencies=[KEPT_EXPORTS])
def civilised_offices(
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    as_of: AsOfQuery = None,
    format: ReportFormat = "json",
) -> Any:
    """第二篇 四: the offices named 文明司法所 (a title in their yearly work record) and whether
    each was accepted within the years the standard gives — or must lose that title."""
    body = reports.civilised_offices(
        session=session, scope=scope, region=scope.region(region), as_of=as_of
    )
    if format == "json":
        return body
    filename = f"文明司法所验收期限_{body.region}_{body.as_of}"
    return download(format, body.items, exports.CIVILISED, filename=filename)


def _per_region(
    format: ReportFormat,
    body: rows.ProgressReport | rows.SpotCheckReport,
    columns: list[Column],
    title: str,
) -> Any:
    """A per-region report as it is, or as a sheet: its regions, then the total row."""
    if format == "json":
        return body
    total = {"code": body.region or "全部", "name": "合计", **fields_of(body.total)}
    filename = f"{title}_{body.region}_{body.as_of}"
    return download(format, [*body.regions, total], columns, filename=filename)
