"""Compliance: an office, or every office of a region, measured against a standard.

One SQL statement per question, composed in Core over facts.statuses: per office the checklist with the measured
value, the threshold and what is missing (缺什么补什么); per region which criteria fail
most and how each city or county stands.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypedDict

from sqlalchemy import (
    Integer,
    Numeric,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.db import fetch_dicts, plan_for_values
from service.divisions.models import Division
from service.offices.models import Office
from service.standards import service as standards
from service.standards.facts import (
    CriteriaShape,
    evaluation_params,
    shape_of,
    status_params,
    statuses,
    tallies,
)
from service.standards.measures import Op, item_labels, measure_label
from service.standards.models import Standard, StandardCriterion
from service.standards.rows import (
    ChecklistItem,
    CriterionTally,
    Measured,
    OfficeCompliance,
    RegionCompliance,
    RegionComplianceReport,
    StandardSummary,
    Status,
)

STATUS_ZH: dict[Status, str] = {"pass": "达标", "fail": "未达标", "unknown": "缺少数据"}
OP_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}


@lru_cache(maxsize=32)
def _checklist(shape: CriteriaShape) -> Select[Any]:
    """Each criterion's status and measured value for the offices :offices."""
    return select(statuses(shape, with_values=True))


@dataclass(frozen=True, slots=True)
class _Judged:
    """A criterion that applies to the office, its status and the office's measured value."""

    criterion: StandardCriterion
    status: Status
    value: Any


def _office_rows(
    session: Session, tenant_id: int, office: Office, standard: Standard, day: date
) -> list[_Judged]:
    """Each criterion of `standard` with the office's status and measured value, in order."""
    criteria = standards.criteria_of(session=session, standard=standard)
    if not criteria:
        return []
    stmt = _checklist(shape_of(criteria))
    params = {
        "t": tenant_id,
        "region": office.division_code,
        "offices": [office.id],
        **evaluation_params(standard, day),
        **status_params(criteria),
    }
    row = session.execute(stmt, params).mappings().first()
    out = []
    for i, c in enumerate(criteria):
        status = None if row is None else row[f"s{i}"]
        if status is None:  # not applicable to the office's kind of division
            continue
        out.append(_Judged(c, _STATUS[status], row[f"v{i}"]))  # type: ignore[index]
    return out


_STATUS: dict[int, Status] = {1: "pass", 0: "fail", -1: "unknown"}


def _number(value: Decimal | int | None) -> float | int | None:
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _threshold(c: StandardCriterion) -> str:
    """The requirement in words, e.g. "≥ 120 平方米" or "所长办公室、档案资料室"."""
    op = c.op
    if op in OP_ZH:
        unit = measure_label(c.measure)[1]
        return f"{OP_ZH[op]} {_number(c.threshold)} {unit}".strip()
    if op == Op.is_true:
        return "是"
    if op == Op.is_false:
        return "否"
    labels = item_labels(c.measure.split(".")[0])
    names = "、".join(labels.get(v, v) for v in c.item_values or [])
    return names if op == Op.has_all else f"至少其一:{names}"


def _measured(row: _Judged) -> Measured:
    op = row.criterion.op
    if op in (Op.is_true, Op.is_false):
        return row.value
    if op in (Op.has_all, Op.has_any):
        items = row.value
        return sorted(items) if isinstance(items, (list, dict)) else None
    return _number(row.value)


def _missing_items(row: _Judged) -> tuple[str, ...]:
    c = row.criterion
    if c.op != Op.has_all or row.status != "fail":
        return ()
    present = set(row.value or [])
    labels = item_labels(c.measure.split(".")[0])
    return tuple(labels.get(v, v) for v in c.item_values or [] if v not in present)


class _Words(TypedDict):
    key: str
    category: str
    text: str
    mandatory: bool


def _words(c: StandardCriterion) -> _Words:
    """A criterion as every compliance row names it (the checklist's and the region's)."""
    return {"key": c.key, "category": c.category, "text": c.text, "mandatory": c.mandatory}


def _item(row: _Judged) -> ChecklistItem:
    """The checklist's line of a criterion: the requirement and the measured value in words,
    and what to do when it is not met (what is missing, or the data to record)."""
    c = row.criterion
    label, unit = measure_label(c.measure)
    gaps = _missing_items(row)
    todo = None
    if row.status != "pass":
        todo = c.missing if row.status == "fail" else f"补录数据:{label}"
        if gaps:
            todo = f"{c.missing}(缺:{'、'.join(gaps)})"
    return ChecklistItem(
        **_words(c),
        source=c.source,
        measure=c.measure,
        measure_label=label,
        unit=unit,
        status=row.status,
        status_label=STATUS_ZH[row.status],
        measured=_measured(row),
        required=_threshold(c),
        missing_items=gaps,
        todo=todo,
    )


def office_compliance(
    *, session: Session, scope: Scope, office: Office, standard_ref: str | None, as_of: date | None
) -> OfficeCompliance:
    """The checklist of one office against a standard (default: the one in force)."""
    scope.require(Action.read)
    standard = standards.resolve(
        session=session, tenant_id=scope.tenant_id, ref=standard_ref, as_of=as_of
    )
    return checklist_of(
        session=session,
        tenant_id=scope.tenant_id,
        office=office,
        standard=standard,
        as_of=as_of or date.today(),
    )


def checklist_of(
    *, session: Session, tenant_id: int, office: Office, standard: Standard, as_of: date
) -> OfficeCompliance:
    """One office's checklist against `standard` at a date, counted: the share of criteria
    met and the mandatory ones still open (what a workflow step checks and records)."""
    items = tuple(_item(row) for row in _office_rows(session, tenant_id, office, standard, as_of))
    count = Counter(i.status for i in items)
    mandatory_open = tuple(i.key for i in items if i.mandatory and i.status != "pass")
    return OfficeCompliance(
        office_id=office.id,
        office_name=office.name,
        as_of=as_of,
        standard=standard_summary(standard),
        passed=count["pass"],
        failed=count["fail"],
        unknown=count["unknown"],
        score=round(100 * count["pass"] / len(items), 1) if items else None,
        mandatory_met=not mandatory_open,
        mandatory_open=mandatory_open,
        items=items,
        missing=tuple(
            ("【必备】" if i.mandatory else "【建议】") + i.todo
            for i in items
            if i.todo is not None
        ),
    )


def standard_summary(standard: Standard) -> StandardSummary:
    return StandardSummary(
        id=standard.id,
        version=standard.version,
        code=standard.code,
        title=standard.title,
        document=standard.document,
        effective_from=standard.effective_from,
    )


CHILD_LEN = bindparam("child_len", type_=Integer)


def _region_statement(criteria: list[StandardCriterion]) -> Select[Any]:
    """Per city or county (the code's first :child_len digits): offices judged, offices that
    meet every mandatory criterion, their average score, and per criterion i how many offices
    pass (p{i}), fail (f{i}) and lack data (u{i}) — one pass over the offices."""
    return _region(shape_of(criteria))


@lru_cache(maxsize=32)
def _region(shape: CriteriaShape) -> Select[Any]:
    s = statuses(shape)
    tallied = select(s, *tallies(shape, s)).cte("tallied")
    t = tallied.c
    per_criterion = [
        func.count().filter(t[f"s{i}"] == status).label(f"{key}{i}")
        for i in range(len(shape))
        for key, status in (("p", 1), ("f", 0), ("u", -1))
    ]
    sub = func.left(t.division_code, CHILD_LEN).label("sub")
    share = literal_column("100.0", Numeric) * t.passed / t.applicable
    return (
        select(
            sub,
            func.count().label("offices"),
            func.count().filter(t.mandatory_met).label("compliant"),
            func.round(func.avg(share), 1).label("avg_score"),
            *per_criterion,
        )
        .where(t.applicable > 0)
        .group_by(sub)
    )


def region_compliance(
    *,
    session: Session,
    scope: Scope,
    region: str,
    standard_ref: str | None,
    as_of: date | None,
    child_len: int,
) -> RegionComplianceReport:
    """Which criteria fail most, and per city/county how many offices meet the standard."""
    scope.require(Action.read)
    standard = standards.resolve(
        session=session, tenant_id=scope.tenant_id, ref=standard_ref, as_of=as_of
    )
    day = as_of or date.today()
    criteria = standards.criteria_of(session=session, standard=standard)
    subs: list[dict[str, Any]] = []
    if criteria:
        plan_for_values(session)
        subs = fetch_dicts(
            session,
            _region_statement(criteria),
            {
                "t": scope.tenant_id,
                "region": region,
                "offices": None,
                **evaluation_params(standard, day),
                **status_params(criteria),
                "child_len": child_len,
            },
        )
    names = division_names(session, scope.tenant_id, [r["sub"] for r in subs])
    by_criterion: list[CriterionTally] = []
    for i, c in enumerate(criteria):
        passed, failed, unknown = (sum(r[f"{k}{i}"] for r in subs) for k in "pfu")
        if passed + failed + unknown:  # applies to some office
            by_criterion.append(
                CriterionTally(
                    **_words(c),
                    passed=passed,
                    failed=failed,
                    unknown=unknown,
                )
            )
    position = {c.key: c.position for c in criteria}
    by_criterion.sort(key=lambda c: (-c.failed, -c.unknown, position[c.key]))
    regions: list[RegionCompliance] = []
    for r in sorted(subs, key=lambda r: r["sub"]):
        # the criterion most offices of the sub-region fail (ties: the first key)
        worst = min(
            ((-r[f"f{i}"], c.key, c) for i, c in enumerate(criteria) if r[f"f{i}"] > 0),
            default=None,
            key=lambda t: (t[0], t[1]),
        )
        regions.append(
            RegionCompliance(
                code=r["sub"],
                name=names.get(r["sub"]),
                offices=r["offices"],
                compliant=r["compliant"],
                compliance_rate=round(r["compliant"] / r["offices"], 4) if r["offices"] else None,
                avg_score=_number(r["avg_score"]),
                most_failed=worst[2].key if worst else None,
                most_failed_text=worst[2].text if worst else None,
                most_failed_count=-worst[0] if worst else None,
            )
        )
    offices = sum(r.offices for r in regions)
    compliant = sum(r.compliant for r in regions)
    return RegionComplianceReport(
        region=region,
        as_of=day,
        standard=standard_summary(standard),
        offices=offices,
        compliant=compliant,
        compliance_rate=round(compliant / offices, 4) if offices else None,
        criteria=tuple(by_criterion),
        regions=tuple(regions),
    )


def division_names(session: Session, tenant_id: int, codes: list[str]) -> dict[str, str]:
    """Current names of the given division codes (one query)."""
    if not codes:
        return {}
    d = Division.__table__
    rows = session.execute(
        select(d.c.code, d.c.name).where(
            d.c.tenant_id == tenant_id,
            d.c.valid_to.is_(None),
            d.c.code == any_(bindparam("codes", codes, type_=ARRAY(String))),
        )
    )
    return {r.code: r.name for r in rows}
