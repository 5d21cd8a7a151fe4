"""Reading offices for the API: one office or a filtered page, with division and county names.

Join conditions use plain column equality (`c.code = d.parent_code`), never a function of a
column such as left(code, 6): under row-level security only leakproof operations may drive
an index, and a non-leakproof one turns the join into a scan of every division.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.acceptance.reports import REINSPECTION_DUE
from service.accounts.scope import Scope
from service.core.db import plan_for_values
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
from service.offices.states import TITLED, AcceptanceState
from service.standards import service as standards
from service.standards.facts import evaluation_params, status_params, statuses_sql, tallies_sql
from service.standards.service import StandardNotFound
from service.tenants.policy import reinspection_months

_COLUMNS = """o.id, o.name, o.division_code, o.located_code, o.address, o.phone,
       o.staff_total, o.staff_formal, o.staff_civil_servants, o.area_m2,
       o.acceptance_state, o.exception_reason, o.external_id, o.opened_on, o.version,
       o.created_at, o.updated_at, o.closed_at, o.closed_reason,
       ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat,
       d.name AS division_name, d.kind AS division_kind, c.name AS county_name"""
_FROM = """
  FROM offices o
  JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
  LEFT JOIN divisions c ON c.tenant_id = o.tenant_id AND c.code = d.parent_code
                       AND c.valid_to IS NULL
"""
_SELECT = "SELECT " + _COLUMNS + _FROM


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
    row = session.execute(
        text(_SELECT + " WHERE o.tenant_id = :t AND o.id = :id"),
        {"t": scope.tenant_id, "id": office_id},
    ).one()
    return _out(row)


# what each sort orders by, over the columns of `listed` (see _IDS); the sort key comes from
# a closed vocabulary (OfficeSort), never from request text
_ORDER: dict[OfficeSort, str] = {
    OfficeSort.code: "l.division_code",
    OfficeSort.name: "l.name",
    OfficeSort.county: "l.county_name",
    OfficeSort.state: "array_position(CAST(:state_order AS text[]), l.acceptance_state)",
    OfficeSort.score: "l.score",
    OfficeSort.due: "l.due_on",
    OfficeSort.updated: "l.updated_at",
}
# each condition, and the parameter that switches it on
_WHERE: list[tuple[str, str]] = [
    ("o.closed_at IS NULL", "open_only"),
    ("o.acceptance_state = ANY(CAST(:states AS text[]))", "states"),
    ("d.kind = :kind", "kind"),
    ("strpos(o.name, :q) > 0", "q"),
    (f"{REINSPECTION_DUE} < :today", "overdue"),
    (f"{REINSPECTION_DUE} BETWEEN :today AND :soon", "due_soon"),
]
_NO_SCORES = """scored AS (
  SELECT NULL::bigint AS id, NULL::numeric AS score, NULL::boolean AS mandatory_met WHERE false
)"""


def _scored(criteria: list[Any]) -> str:
    """CTEs up to `scored` (id, score, mandatory_met) of the offices `facts` selects."""
    if not criteria:
        return _NO_SCORES
    return (
        statuses_sql(criteria)
        + """,
tallied AS (SELECT s.id, """
        + tallies_sql(criteria)
        + """ FROM statuses s),
scored AS (
  SELECT id, round(100.0 * passed / NULLIF(applicable, 0), 1) AS score, mandatory_met
    FROM tallied
)"""
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
    (facts.statuses_sql): over every office of the region when a filter or the order needs
    it, else, with `with_compliance`, over the page's offices only."""
    plan_for_values(session)  # a region prefix: one county or the whole tenant
    today = date.today()
    params: dict[str, Any] = {
        "t": scope.tenant_id,
        "region": filters.region,
        "titled": list(TITLED),
        "months": reinspection_months(session, scope.tenant_id),
        "today": today,
        "soon": today + timedelta(days=DUE_SOON_DAYS),
        "open_only": not filters.include_closed,
        "states": list(filters.states) or None,
        "kind": filters.kind,
        "q": filters.q,
        "overdue": filters.reinspection == "overdue",
        "due_soon": filters.reinspection == "due_soon",
        "state_order": [s.value for s in AcceptanceState],
        "limit": limit,
        "offset": offset,
    }
    measure_all = filters.needs_compliance or sort is OfficeSort.score
    evaluation = _evaluation(session, scope) if measure_all or with_compliance else None
    if evaluation is not None:
        params.update(evaluation[1])
    where = " AND ".join(
        ["o.tenant_id = :t", "starts_with(o.division_code, :region)"]
        + [cond for cond, flag in _WHERE if params[flag]]
    )
    measured = []
    if filters.compliance == "met":
        measured.append("sc.mandatory_met")
    elif filters.compliance == "not_met":
        measured.append("NOT sc.mandatory_met")
    if filters.min_score is not None:
        measured.append("sc.score >= :min_score")
        params["min_score"] = filters.min_score
    order = f"{_ORDER[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, l.id"
    # the division rows only where a filter or the order reads them
    with_divisions = filters.kind is not None or sort is OfficeSort.county
    page_sql = (
        "WITH "
        + (_scored(evaluation[0]) if measure_all and evaluation else _NO_SCORES)
        + """,
listed AS MATERIALIZED (
  SELECT o.id, o.name, o.division_code, o.acceptance_state, o.updated_at, """
        + ("c.name" if with_divisions else "NULL::text")
        + " AS county_name,\n         "
        + REINSPECTION_DUE
        + " AS due_on"
        + (_FROM if with_divisions else "\n  FROM offices o\n")
        + "   WHERE "
        + where
        + """
),
matching AS MATERIALIZED (
  SELECT l.*, sc.score, sc.mandatory_met FROM listed l LEFT JOIN scored sc ON sc.id = l.id"""
        + (" WHERE " + " AND ".join(measured) if measured else "")
        + """
)
SELECT (SELECT count(*) FROM matching) AS total,
       (SELECT json_agg(json_build_array(p.id, p.score, p.mandatory_met) ORDER BY p.n)
          FROM (SELECT l.id, l.score, l.mandatory_met, row_number() OVER (ORDER BY """
        + order
        + """) AS n
                  FROM matching l ORDER BY """
        + order
        + """ LIMIT :limit OFFSET :offset) p) AS page"""
    )
    total, page = session.execute(text(page_sql), params).one()
    if not page:
        return int(total), []
    ids = [office_id for office_id, _, _ in page]
    # measured above when the filters or the order needed it, else the page's offices now
    measure_page = evaluation is not None and not measure_all
    rows_sql = (
        "WITH "
        + (_scored(evaluation[0]) if measure_page and evaluation else _NO_SCORES)
        + "\nSELECT "
        + _COLUMNS
        + ",\n       "
        + REINSPECTION_DUE
        + " AS due_on, sc.score, sc.mandatory_met"
        + _FROM
        + """  LEFT JOIN scored sc ON sc.id = o.id
 WHERE o.tenant_id = :t AND o.id = ANY(CAST(:offices AS bigint[]))"""
    )
    rows = session.execute(text(rows_sql), {**params, "offices": ids}).all()
    by_id = {r.id: r for r in rows}
    if measure_page or not measure_all:
        return int(total), [_listed(by_id[i]) for i in ids if i in by_id]
    return int(total), [
        _listed(by_id[i], score=score, met=met) for i, score, met in page if i in by_id
    ]


def _evaluation(session: Session, scope: Scope) -> tuple[list[Any], dict[str, Any]] | None:
    """The criteria of the standard in force and the parameters that measure offices
    against it; None when the tenant has published no standard."""
    try:
        standard = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=None)
    except StandardNotFound:
        return None
    criteria = standards.criteria_of(session=session, standard=standard)
    return criteria, {
        **evaluation_params(standard, date.today()),
        **status_params(criteria),
        "offices": None,
    }


def _listed(row: Any, **measured: Any) -> ListedOffice:
    """A row of the page; `score` and `met` when they were measured with the whole region."""
    score, met = measured.get("score", row.score), measured.get("met", row.mandatory_met)
    return ListedOffice(
        office=_out(row),
        score=float(score) if score is not None else None,
        mandatory_met=met,
        reinspection_due_on=row.due_on,
    )
