"""An office's yearly work records (第四篇): the counts it reports for a year, its titles, the
county's assessment and the annual summary — and the work-result rates computed from the
counts in SQL, as the compliance evaluation computes them (standards/facts.py), never typed.

A record is kept per office and year; PUT replaces a year's record whole (what is not sent is
not recorded). Reads go through the request's session, so row-level security bounds them to
the caller's tenant and region as well as the scope checks here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, and_, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.errors import Invalid, NotFound
from service.divisions.models import Division
from service.offices.models import Office
from service.records.evidence import evidence_out, served_name
from service.records.models import EvidenceFile, OfficeWorkRecord
from service.records.schemas import RegionWorkRecordOut, WorkRecordIn, WorkRecordOut
from service.records.service import require_editor
from service.standards import measures
from service.standards.facts import WORK_RATES

R = OfficeWorkRecord
RECORD_FIELDS = tuple(WorkRecordIn.model_fields)


class WorkRecordNotFound(NotFound):
    code = "work_record_not_found"


def work_rate(part: str, whole: str) -> ColumnElement[Decimal]:
    """round(100 × part / whole, 2), NULL where the whole is 0 or not recorded — the same
    expression as the facts SQL's, so the page, the API and the checklist agree to the cent."""
    quotient = (
        literal_column("100.0", Numeric) * getattr(R, part) / func.nullif(getattr(R, whole), 0)
    )
    return func.round(quotient, 2, type_=Numeric(5, 2))


RATE_COLUMNS = [work_rate(part, whole).label(rate) for rate, (part, whole) in WORK_RATES.items()]
_SUMMARY = and_(EvidenceFile.tenant_id == R.tenant_id, EvidenceFile.id == R.summary_evidence_id)


def _records(scope: Scope) -> Select[*tuple[Any, ...]]:
    """The tenant's records with their rates and annual summary file (filter further)."""
    return (
        select(R, EvidenceFile, *RATE_COLUMNS)
        .outerjoin(EvidenceFile, _SUMMARY)
        .where(R.tenant_id == scope.tenant_id)
    )


def _fields(row: Any) -> dict[str, Any]:
    record: OfficeWorkRecord = row.OfficeWorkRecord
    summary: EvidenceFile | None = row.EvidenceFile
    rates = {rate: getattr(row, rate) for rate in WORK_RATES}
    return {
        **{f: getattr(record, f) for f in RECORD_FIELDS},
        "office_id": record.office_id,
        "year": record.year,
        "title_labels": [measures.TITLES.get(t, t) for t in record.titles or []],
        "rates": {k: None if v is None else float(v) for k, v in rates.items()},
        "summary_filename": served_name(summary) if summary else None,
        "summary_href": evidence_out(summary)["href"] if summary else None,
        "updated_at": record.updated_at,
    }


def list_work_records(*, session: Session, scope: Scope, office: Office) -> list[WorkRecordOut]:
    """The office's yearly records, newest first."""
    scope.require(Action.read)
    rows = session.execute(_records(scope).where(R.office_id == office.id).order_by(R.year.desc()))
    return [WorkRecordOut(**_fields(r)) for r in rows]


def get_work_record(*, session: Session, scope: Scope, office: Office, year: int) -> WorkRecordOut:
    scope.require(Action.read)
    row = session.execute(
        _records(scope).where(R.office_id == office.id, R.year == year)
    ).one_or_none()
    if row is None:
        raise WorkRecordNotFound(
            f"office {office.id} has no work record of {year}", {"field": "year", "year": year}
        )
    return WorkRecordOut(**_fields(row))


def _refuse(field: str, problem: str) -> Invalid:
    """A refusal shaped like a request validation error, naming the field."""
    return Invalid(f"{field}: {problem}", [{"field": field, "problem": problem, "type": "invalid"}])


def check_summary(*, session: Session, scope: Scope, office: Office, evidence_id: int) -> None:
    """The annual summary must be one of this office's own evidence files (the refusal says
    the same whether the id is another office's file or none at all)."""
    found = session.scalar(
        select(EvidenceFile.id).where(
            EvidenceFile.tenant_id == scope.tenant_id,
            EvidenceFile.office_id == office.id,
            EvidenceFile.id == evidence_id,
        )
    )
    if found is None:
        raise _refuse(
            "summary_evidence_id", f"office {office.id} has no evidence file {evidence_id}"
        )


def put_work_record(
    *, session: Session, scope: Scope, office: Office, year: int, data: WorkRecordIn
) -> WorkRecordOut:
    """Replace the office's record of `year` (one statement, whatever existed before)."""
    require_editor(scope, office)
    if year > date.today().year:
        raise _refuse("year", f"{year} has not begun; a record is kept for this year or earlier")
    if data.summary_evidence_id is not None:
        check_summary(
            session=session, scope=scope, office=office, evidence_id=data.summary_evidence_id
        )
    values = {f: getattr(data, f) for f in RECORD_FIELDS}
    stmt = insert(R).values(tenant_id=scope.tenant_id, office_id=office.id, year=year, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "office_id", "year"],
            set_={**values, "updated_at": func.now()},
        )
    )
    session.expire_all()
    return get_work_record(session=session, scope=scope, office=office, year=year)


def delete_work_record(*, session: Session, scope: Scope, office: Office, year: int) -> None:
    require_editor(scope, office)
    gone = session.execute(
        delete(R)
        .where(R.tenant_id == scope.tenant_id, R.office_id == office.id, R.year == year)
        .returning(R.year)
    ).first()
    if gone is None:
        raise WorkRecordNotFound(
            f"office {office.id} has no work record of {year}", {"field": "year", "year": year}
        )


def region_work_records(
    *, session: Session, scope: Scope, region: str, year: int
) -> list[RegionWorkRecordOut]:
    """Every office of the region (a code prefix inside the caller's) with a record of `year`,
    by division code: the record, its rates, the office, its township and county."""
    scope.require(Action.read)
    township, county = aliased(Division), aliased(Division)
    stmt = (
        _records(scope)
        .add_columns(
            Office.name.label("office_name"),
            Office.division_code,
            (Office.closed_at.is_not(None)).label("closed"),
            township.name.label("division_name"),
            county.name.label("county_name"),
        )
        .join(Office, and_(Office.tenant_id == R.tenant_id, Office.id == R.office_id))
        .join(
            township,
            and_(township.tenant_id == Office.tenant_id, township.id == Office.division_id),
        )
        .outerjoin(
            county,
            and_(
                county.tenant_id == township.tenant_id,
                county.code == township.parent_code,
                county.valid_to.is_(None),
            ),
        )
        .where(R.year == year, func.starts_with(Office.division_code, region))
        .order_by(Office.division_code, Office.id)
    )
    out = []
    for row in session.execute(stmt):
        m = row._mapping
        extra = {
            k: m[k]
            for k in ("office_name", "division_code", "closed", "division_name", "county_name")
        }
        out.append(RegionWorkRecordOut(**_fields(row), **extra))
    return out
