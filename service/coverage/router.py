"""HTTP routes of the coverage engine: gaps, conflicts, misplaced offices, boundary quality,
summaries — JSON pages, or whole lists as CSV, XLSX or GeoJSON; and the tenant's policy."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Query

from service.coverage import service
from service.coverage.causes import DiagnosisFilter
from service.coverage.dependencies import Filter
from service.coverage.query import CoverageFilter
from service.coverage.schemas import (
    BoundaryOut,
    ConflictPage,
    GapPage,
    MisplacedPage,
    PolicyIn,
    SummaryOut,
    TenantPolicy,
)
from service.http.deps import CurrentScope, SessionDep
from service.http.downloads import download
from service.http.kept_exports import KEPT_EXPORTS, ExportRoute
from service.http.params import Offset
from service.http.routing import Router
from service.tenants.policy import policy_of, set_required_kinds

router = Router(route_class=ExportRoute, prefix="/api/v1", tags=["coverage"])

Fmt = Literal["json", "csv", "xlsx", "geojson"]
Limit = Annotated[int, Query(ge=1, le=5000, description="page size (JSON only)")]


def _file(fmt: Fmt, table: service.Table) -> Any:
    return download(
        fmt,
        table.rows,
        table.columns,
        filename=table.title,
        note=table.note,
        geometry=table.geometry,
    )


def _meta(f: CoverageFilter, table: service.Table) -> dict[str, Any]:
    return {
        "region": f.region,
        "as_of": f.as_of,
        "required_kinds": list(f.required_kinds),
        "note": table.note,
    }


def _page(f: CoverageFilter, table: service.Table, limit: int, offset: int) -> dict[str, Any]:
    return {
        **_meta(f, table),
        "items": table.rows,
        "total": table.total,
        "limit": limit,
        "offset": offset,
    }


def _answer(
    format: Fmt, f: CoverageFilter, limit: int, offset: int, report: Callable[..., service.Table]
) -> Any:
    """A page of a list report as JSON, or the whole report as a file."""
    whole = format != "json"
    table = report(limit=None if whole else limit, offset=0 if whole else offset)
    return _file(format, table) if whole else _page(f, table, limit, offset)


@router.get("/coverage/gaps", response_model=GapPage, dependencies=[KEPT_EXPORTS])
def coverage_gaps(
    f: Filter,
    session: SessionDep,
    required: bool = True,
    format: Fmt = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Townships with no active office (required kinds; `required=false`: the optional ones)."""
    report = partial(service.gaps, session, f, required=required, with_geometry=format == "geojson")
    return _answer(format, f, limit, offset, report)


@router.get("/coverage/conflicts", response_model=ConflictPage, dependencies=[KEPT_EXPORTS])
def coverage_conflicts(
    f: Filter, session: SessionDep, format: Fmt = "json", limit: Limit = 100, offset: Offset = 0
) -> Any:
    """Townships with two or more active offices, with the offices and exception reasons."""
    report = partial(service.conflicts, session, f, with_geometry=format == "geojson")
    return _answer(format, f, limit, offset, report)


@router.get("/coverage/misplaced", response_model=MisplacedPage, dependencies=[KEPT_EXPORTS])
def coverage_misplaced(
    f: Filter,
    session: SessionDep,
    diagnosis: DiagnosisFilter | None = None,
    format: Fmt = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Offices whose point is not in their registered township: where it is, how far, and
    a likely cause (GCJ-02/BD-09 left unconverted, lon/lat swapped, outside the province)
    with its confidence and evidence — or `unknown` when a correction fits but the evidence
    is too weak to name it."""
    return _answer(
        format, f, limit, offset, partial(service.misplaced, session, f, diagnosis=diagnosis)
    )


@router.get("/coverage/boundaries", response_model=BoundaryOut, dependencies=[KEPT_EXPORTS])
def coverage_boundaries(
    f: Filter,
    session: SessionDep,
    tolerance_m2: Annotated[
        float, Query(ge=0, le=1e9, description="ignore smaller areas")
    ] = 10000.0,
    format: Fmt = "json",
) -> Any:
    """Boundary quality: overlapping townships, parts of counties covered by no township,
    townships reaching outside their county (areas in m², equal-area projection)."""
    table = service.boundaries(
        session, f, tolerance_m2=tolerance_m2, with_geometry=format == "geojson"
    )
    if format != "json":
        return _file(format, table)
    return BoundaryOut(**table.extra, note=table.note)


@router.get("/coverage/summary", response_model=SummaryOut, dependencies=[KEPT_EXPORTS])
def coverage_summary(
    f: Filter,
    session: SessionDep,
    level: Literal["province", "city", "county", "township"] = "county",
    format: Fmt = "json",
) -> Any:
    """Per city or county of the region: required townships, covered, gaps, conflicts,
    misplaced offices, coverage rate — and the region as a whole."""
    table = service.summary(session, f, level=level, with_geometry=format == "geojson")
    if format in ("csv", "xlsx"):
        table.rows = [*table.rows, table.extra["total"]]
    if format != "json":
        return _file(format, table)
    # a plain dict: FastAPI validates and serializes it once, in Rust, by the response model
    return {**_meta(f, table), "level": level, "total": table.extra["total"], "items": table.rows}


@router.get("/tenant", response_model=TenantPolicy)
def tenant_policy(scope: CurrentScope, session: SessionDep) -> TenantPolicy:
    """The tenant and its policy: which township kinds must have an office."""
    policy = policy_of(session, scope.tenant_id)
    return TenantPolicy(
        code=policy.code, name=policy.name, required_kinds=list(policy.required_kinds)
    )


@router.patch("/tenant", response_model=TenantPolicy)
def set_tenant_policy(data: PolicyIn, scope: CurrentScope, session: SessionDep) -> TenantPolicy:
    """Set which township kinds must have an office (province admins)."""
    set_required_kinds(session=session, scope=scope, kinds=data.required_kinds)
    return tenant_policy(scope, session)
