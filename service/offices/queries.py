"""Reading offices for the API: one office or a filtered page, with division and county names
(the statements: service/offices/statements.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.db import plan_for_values
from service.offices.models import Office
from service.offices.schemas import (
    DUE_SOON_DAYS,
    ComplianceFilter,
    DivisionOut,
    OfficeListParams,
    OfficeOut,
    OfficeSort,
    PointOut,
    ReinspectionFilter,
)
from service.offices.statements import ONE_OFFICE, ListShape, page_of, rows_of
from service.offices.states import TITLED, AcceptanceState
from service.standards.facts import CriteriaShape
from service.standards.scores import in_force
from service.tenants.policy import reinspection_months


@dataclass(frozen=True)
class OfficeFilter:
    """List filters: a region (code prefix, checked by `Scope.region`), township kind,
    acceptance states (any of), name text, compliance with the standard in force (every
    mandatory criterion met or not; a least score) and re-inspection (overdue, or due within
    DUE_SOON_DAYS)."""

    region: str
    kind: str | None = None
    states: tuple[str, ...] = ()
    q: str | None = None
    include_closed: bool = False
    compliance: ComplianceFilter | None = None
    min_score: float | None = None
    reinspection: ReinspectionFilter | None = None

    @property
    def needs_compliance(self) -> bool:
        """Only a compliance filter needs every office of the region measured."""
        return self.compliance is not None or self.min_score is not None


@dataclass(frozen=True)
class ListedOffice:
    """An office as the list shows it: the office, its score and whether every mandatory
    criterion of the standard in force is met (None: not measured, or no standard), and
    when it is next due for re-inspection."""

    office: OfficeOut
    score: float | None
    mandatory_met: bool | None
    reinspection_due_on: date | None

    @property
    def overdue(self) -> bool:
        return self.reinspection_due_on is not None and self.reinspection_due_on < date.today()


def office_filter(params: OfficeListParams, scope: Scope) -> OfficeFilter:
    """The filters of a list request, its region checked to lie inside the user's."""
    return OfficeFilter(
        region=scope.region(params.region),
        kind=params.kind.value if params.kind else None,
        states=tuple(dict.fromkeys(s.value for s in params.state)),
        q=params.q or None,
        include_closed=params.include_closed,
        compliance=params.compliance,
        min_score=params.min_score,
        reinspection=params.reinspection,
    )


def _out(row: Any) -> OfficeOut:
    return OfficeOut(
        id=row.id,
        name=row.name,
        division=DivisionOut(
            code=row.division_code,
            name=row.division_name,
            kind=row.division_kind,
            county_code=row.division_code[:6],
            county_name=row.county_name,
        ),
        located_code=row.located_code,
        location=PointOut(lon=round(row.lon, 7), lat=round(row.lat, 7)),
        address=row.address,
        phone=row.phone,
        staff_total=row.staff_total,
        staff_formal=row.staff_formal,
        staff_civil_servants=row.staff_civil_servants,
        area_m2=float(row.area_m2) if row.area_m2 is not None else None,
        acceptance_state=row.acceptance_state,
        exception_reason=row.exception_reason,
        external_id=row.external_id,
        opened_on=row.opened_on,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        closed_reason=row.closed_reason,
    )


def office_out(*, session: Session, scope: Scope, office_id: int) -> OfficeOut:
    row = session.execute(ONE_OFFICE, {"t": scope.tenant_id, "id": office_id}).one()
    return _out(row)


def _list_shape(
    filters: OfficeFilter,
    sort: OfficeSort,
    descending: bool,
    criteria: CriteriaShape | None,
) -> ListShape:
    """What of the request changes the statements (see ListShape)."""
    return ListShape(
        include_closed=filters.include_closed,
        states=bool(filters.states),
        kind=filters.kind is not None,
        q=bool(filters.q),
        reinspection=filters.reinspection,
        compliance=filters.compliance,
        min_score=filters.min_score is not None,
        sort=sort,
        descending=descending,
        criteria=criteria,
    )


def list_offices(
    *,
    session: Session,
    scope: Scope,
    filters: OfficeFilter,
    limit: int,
    offset: int,
    sort: OfficeSort = OfficeSort.code,
    descending: bool = False,
    with_compliance: bool = False,
) -> tuple[int, list[ListedOffice]]:
    """A page of the offices matching `filters` in the order asked for (ties by id, so pages
    never overlap), and how many match in all. The page, the API and its exports all read
    offices through here.

    Compliance is measured against the standard in force, as the region report measures it
    (facts.statuses): over every office of the region when a filter or the order needs it,
    else, with `with_compliance`, over the page's offices only."""
    plan_for_values(session)  # a region prefix: one county or the whole tenant
    today = date.today()
    params: dict[str, Any] = {
        "t": scope.tenant_id,
        "region": filters.region,
        "titled": list(TITLED),
        "months": reinspection_months(session, scope.tenant_id),
        "today": today,
        "soon": today + timedelta(days=DUE_SOON_DAYS),
        "states": list(filters.states),
        "kind": filters.kind,
        "q": filters.q,
        "min_score": filters.min_score,
        "state_order": [s.value for s in AcceptanceState],
        "limit": limit,
        "offset": offset,
    }
    measure_all = filters.needs_compliance or sort is OfficeSort.score
    evaluation = None
    if measure_all or with_compliance:
        evaluation = in_force(session=session, tenant_id=scope.tenant_id, day=today)
    criteria = None
    if evaluation is not None:
        criteria = evaluation.shape
        params.update(evaluation.params, offices=None)
    shape = _list_shape(filters, sort, descending, criteria if measure_all else None)
    total, page = session.execute(page_of(shape), params).one()
    if not page:
        return int(total), []
    ids = [office_id for office_id, _, _ in page]
    # measured above when the filters or the order needed it, else the page's offices now
    measure_page = evaluation is not None and not measure_all
    rows_stmt = rows_of(criteria if measure_page else None)
    rows = session.execute(rows_stmt, {**params, "offices": ids}).all()
    by_id = {r.id: r for r in rows}
    if measure_page or not measure_all:
        return int(total), [_listed(by_id[i]) for i in ids if i in by_id]
    return int(total), [
        _listed(by_id[i], score=score, met=met) for i, score, met in page if i in by_id
    ]


def _listed(row: Any, **measured: Any) -> ListedOffice:
    """A row of the page; `score` and `met` when they were measured with the whole region."""
    score, met = measured.get("score", row.score), measured.get("met", row.mandatory_met)
    return ListedOffice(
        office=_out(row),
        score=float(score) if score is not None else None,
        mandatory_met=met,
        reinspection_due_on=row.due_on,
    )


def offices_in_township(*, session: Session, tenant_id: int, code: str) -> list[Any]:
    """The active offices registered in a township (id, name, acceptance_state), by id."""
    o = Office.__table__
    return list(
        session.execute(
            select(o.c.id, o.c.name, o.c.acceptance_state)
            .where(o.c.tenant_id == tenant_id, o.c.division_code == code, o.c.closed_at.is_(None))
            .order_by(o.c.id)
        ).all()
    )
