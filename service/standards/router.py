"""HTTP routes of standards (versions as data), the target curve, and compliance."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query

from service.acceptance import exports
from service.acceptance.reports import child_width
from service.accounts.permissions import Action
from service.audit import service as audit
from service.http.deps import CurrentScope, ReportFormat, ReportParams, SessionDep
from service.http.downloads import download
from service.http.kept_exports import KEPT_EXPORTS, ExportRoute
from service.http.params import AsOfQuery
from service.http.routing import Router
from service.offices.dependencies import ValidOffice
from service.standards import compliance, rows, service
from service.standards.definition import seed
from service.standards.measures import measure_label
from service.standards.schemas import PublishIn, StandardDetail, StandardOut, TargetsIn

router = Router(route_class=ExportRoute, prefix="/api/v1", tags=["standards"])
StandardRef = Annotated[
    str | None,
    Query(
        pattern=r"^([0-9]{1,6}|[a-z0-9][a-z0-9-]{2,39})$",
        description="a version number or a standard code (default: the one in force)",
    ),
]


@router.get("/standards", response_model=list[StandardOut])
def list_standards(scope: CurrentScope, session: SessionDep) -> Any:
    """The tenant's published standard versions."""
    return service.list_standards(session=session, scope=scope)


@router.get("/standards/{ref}", response_model=StandardDetail)
def get_standard(
    ref: Annotated[str, Path(pattern=r"^([0-9]{1,6}|[a-z0-9][a-z0-9-]{2,39})$")],
    scope: CurrentScope,
    session: SessionDep,
) -> Any:
    """One version with its criteria ("current" for the one in force today)."""
    scope.require(Action.read)
    standard = service.resolve(
        session=session, tenant_id=scope.tenant_id, ref=None if ref == "current" else ref
    )
    listed = {s["id"]: s for s in service.list_standards(session=session, scope=scope)}
    items = []
    for c in service.criteria_of(session=session, standard=standard):
        label, unit = measure_label(c.measure)
        items.append(
            {
                **service.as_written(c),
                "measure_label": label,
                "unit": unit,
                "op": c.op,
                "threshold": float(c.threshold) if c.threshold is not None else None,
                "values": c.item_values,
                "missing": c.missing,
            }
        )
    return {**listed[standard.id], "notes": standard.notes, "items": items}


@router.post("/standards", response_model=StandardOut, status_code=201)
def publish_standard(data: PublishIn, scope: CurrentScope, session: SessionDep) -> Any:
    """Publish a new version (province admin). Earlier versions stay as they were, and
    offices keep the version they were judged under."""
    scope.require(Action.publish_standard)
    definition = seed(data.seed) if data.seed else data.definition
    assert definition is not None
    standard = service.publish(
        session=session,
        tenant_id=scope.tenant_id,
        definition=definition,
        effective_from=data.effective_from,
        published_by=scope.username,
        replace_targets=data.replace_targets,
        target_region=scope.region(data.target_region) if data.target_region else "",
    )
    listed = {s["id"]: s for s in service.list_standards(session=session, scope=scope)}
    audit.record(
        session,
        tenant_id=scope.tenant_id,
        action="publish",
        entity_type="standards",
        entity_id=str(standard.version),
        region_code=scope.tenant_code,
        before=None,
        after={
            "code": standard.code,
            "version": standard.version,
            "effective_from": str(standard.effective_from),
            "criteria": listed[standard.id]["criteria"],
        },
    )
    return listed[standard.id]


@router.get("/targets")
def get_targets(scope: CurrentScope, session: SessionDep) -> Any:
    """Every target curve: the tenant's (region "") and those set for one region."""
    return service.target_curves(session=session, scope=scope)


@router.put("/targets")
def put_targets(data: TargetsIn, scope: CurrentScope, session: SessionDep) -> Any:
    """Replace the tenant's target curve, or with `region` that region's own schedule
    (province admin)."""
    return service.set_targets(
        session=session, scope=scope, region=data.region, targets=data.targets
    )


@router.get(
    "/offices/{office_id}/compliance",
    response_model=rows.OfficeCompliance,
    dependencies=[KEPT_EXPORTS],
)
def office_compliance(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    standard: StandardRef = None,
    as_of: AsOfQuery = None,
    format: ReportFormat = "json",
) -> Any:
    """The office against a standard: each criterion pass / fail / unknown with the measured
    value and the requirement, a score, and what is missing (缺什么补什么)."""
    body = compliance.office_compliance(
        session=session, scope=scope, office=office, standard_ref=standard, as_of=as_of
    )
    if format == "json":
        return body
    return download(format, body.items, exports.CHECKLIST, filename=f"自查表_{office.name}")


@router.get("/compliance", response_model=rows.RegionComplianceReport, dependencies=[KEPT_EXPORTS])
def region_compliance(
    scope: CurrentScope,
    session: SessionDep,
    query: ReportParams,
    standard: StandardRef = None,
    table: Literal["regions", "criteria"] = "regions",
) -> Any:
    """A region's offices against a standard: the criteria that fail most, and per city or
    county how many offices meet every mandatory criterion. CSV/XLSX: the per-region table,
    or with table=criteria the per-criterion one."""
    body = compliance.region_compliance(
        session=session,
        scope=scope,
        region=query.region,
        standard_ref=standard,
        as_of=query.as_of,
        child_len=child_width(query.region, query.level),
    )
    if query.format == "json":
        return body
    if table == "criteria":
        return download(
            query.format,
            body.criteria,
            exports.COMPLIANCE_CRITERIA,
            filename="规范化条目达标情况",
        )
    return download(
        query.format, body.regions, exports.COMPLIANCE_REGIONS, filename="规范化达标情况"
    )
