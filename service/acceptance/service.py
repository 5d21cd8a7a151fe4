"""Taking workflow steps and reading the history: each step checked for role, region, state
and what it needs, applied to the office and appended to acceptance_events in one
transaction."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.acceptance.models import AcceptanceEvent
from service.acceptance.schemas import StepIn
from service.acceptance.workflow import (
    PROCEDURES,
    Procedure,
    Rule,
    Step,
    allowed_steps,
    steps_from,
)
from service.accounts.scope import Scope
from service.core.context import request_id_var
from service.core.errors import Conflict, Forbidden, Invalid
from service.offices.models import Office
from service.offices.states import ACCEPTANCE_LABELS_ZH, TITLED, AcceptanceState
from service.records.evidence import check_evidence_ids
from service.standards import compliance
from service.standards import service as standards


class IllegalTransition(Conflict):
    code = "illegal_transition"


class StandardNotMet(Conflict):
    code = "standard_not_met"


def _check_step_input(rule_step: Step, rule: Rule, data: StepIn, office: Office) -> None:
    if rule.needs_reasons and not data.reasons:
        raise Invalid(f"reasons: {rule_step.value} needs at least one reason", {"field": "reasons"})
    if rule.needs_inspection:
        if data.inspection_date is None:
            raise Invalid(
                f"inspection_date: {rule_step.value} needs the day of the inspection",
                {"field": "inspection_date"},
            )
        if not data.inspectors:
            raise Invalid(
                f"inspectors: {rule_step.value} needs the names of the inspectors",
                {"field": "inspectors"},
            )
    if data.inspection_date is not None:
        if data.inspection_date > date.today():
            raise Invalid("inspection_date cannot be in the future", {"field": "inspection_date"})
        if data.inspection_date < office.opened_on:
            raise Invalid(
                f"inspection_date is before the office opened ({office.opened_on})",
                {"field": "inspection_date"},
            )
        if office.state_changed_on and data.inspection_date < office.state_changed_on:
            raise Invalid(
                f"inspection_date is before the office's last step ({office.state_changed_on})",
                {"field": "inspection_date"},
            )


def take_step(
    *, session: Session, scope: Scope, office: Office, step: Step, data: StepIn
) -> dict[str, Any]:
    """Apply `step` to `office` (already checked to be in the user's region), by the
    procedure of the standard in force on the step's day."""
    effective_on = data.inspection_date or date.today()
    standard = standards.resolve(
        session=session, tenant_id=scope.tenant_id, ref=None, as_of=effective_on
    )
    procedure = Procedure(standard.procedure)
    rule = PROCEDURES[procedure].get(step)
    if rule is None:
        raise IllegalTransition(
            f"{step.value} is not a step of the procedure of {standard.title}"
            f" (version {standard.version}: {procedure.value} rates offices)",
            {"procedure": procedure.value, "steps": [s.value for s in PROCEDURES[procedure]]},
        )
    # one step at a time per office: a second client waits here, then sees the new state
    session.execute(
        select(Office.id)
        .where(Office.tenant_id == scope.tenant_id, Office.id == office.id)
        .with_for_update()
    )
    session.refresh(office)
    state = AcceptanceState(office.acceptance_state)
    if office.closed_at is not None:
        raise IllegalTransition(f"office {office.id} is closed; its acceptance state is final")
    if scope.role not in rule.roles:
        raise Forbidden(
            f"role {scope.role.value} may not {step.value}; "
            f"it is for {', '.join(sorted(r.value for r in rule.roles))}",
            {"step": step.value, "roles": sorted(r.value for r in rule.roles)},
        )
    if state not in rule.sources:
        mine = [s.value for s in allowed_steps(state, scope.role, procedure)]
        raise IllegalTransition(
            f"cannot {step.value} an office that is {state.value} "
            f"({ACCEPTANCE_LABELS_ZH[state]}); allowed now: {', '.join(mine) or 'none for your role'}",
            {
                "state": state.value,
                "allowed_steps": mine,
                "allowed_steps_any_role": [s.value for s in steps_from(state, procedure)],
            },
        )
    _check_step_input(step, rule, data, office)
    check_evidence_ids(session=session, scope=scope, office=office, ids=data.evidence_ids)
    result = compliance.checklist_of(
        session=session,
        tenant_id=scope.tenant_id,
        office=office,
        standard=standard,
        as_of=effective_on,
    )
    still_open = list(result.mandatory_open)  # (stored in the event, or the refusal's details)
    if rule.needs_standard_met and not result.mandatory_met:
        raise StandardNotMet(
            f"cannot {step.value}: {len(still_open)} mandatory criteria of "
            f"{standard.title} (version {standard.version}) are not met or not recorded",
            {
                "standard_version": standard.version,
                "mandatory_open": still_open,
                "compliance": f"/api/v1/offices/{office.id}/compliance",
            },
        )
    target = rule.target or state
    event = AcceptanceEvent(
        tenant_id=scope.tenant_id,
        office_id=office.id,
        action=step.value,
        from_state=state.value,
        to_state=target.value,
        effective_on=effective_on,
        user_id=scope.user_id,
        username=scope.username,
        role=scope.role.value,
        standard_id=standard.id,
        score=result.score,
        failed_mandatory=still_open,
        comment=data.comment,
        reasons=data.reasons or None,
        inspection_date=data.inspection_date,
        inspectors=data.inspectors or None,
        evidence_ids=data.evidence_ids or None,
        request_id=request_id_var.get() or None,
    )
    session.add(event)
    office.acceptance_state = target.value
    office.state_changed_on = effective_on
    if step in (Step.self_check, Step.apply, Step.accept, Step.reinspect_pass):
        office.standard_id = standard.id  # the version the office was judged under
    if step == Step.accept:
        office.accepted_on = effective_on
        office.reinspected_on = None
    if step == Step.reinspect_pass:
        office.reinspected_on = effective_on
    session.flush()
    return {
        "office_id": office.id,
        "state": office.acceptance_state,
        "state_label": ACCEPTANCE_LABELS_ZH[AcceptanceState(office.acceptance_state)],
        "version": office.version,
        "event": history(session=session, scope=scope, office=office, event_id=event.id)[0],
        "allowed_steps": [s.value for s in allowed_steps(target, scope.role, procedure)],
    }


_HISTORY = """
SELECT e.id, e.office_id, e.action AS step, e.from_state, e.to_state, e.effective_on,
       e.recorded_at, e.username, e.role, e.score, e.failed_mandatory, e.comment, e.reasons,
       e.inspection_date, e.inspectors, e.evidence_ids,
       s.id AS standard_id, s.version AS standard_version, s.code AS standard_code,
       s.title AS standard_title, s.procedure
  FROM acceptance_events e
  LEFT JOIN standards s ON s.tenant_id = e.tenant_id AND s.id = e.standard_id
 WHERE e.tenant_id = :t AND e.office_id = :o AND (CAST(:e AS bigint) IS NULL OR e.id = :e)
 ORDER BY e.effective_on, e.id
"""


def history(
    *, session: Session, scope: Scope, office: Office, event_id: int | None = None
) -> list[dict[str, Any]]:
    """Every step the office went through, oldest first (append-only: never rewritten)."""
    rows = session.execute(
        text(_HISTORY), {"t": scope.tenant_id, "o": office.id, "e": event_id}
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        sid = item.pop("standard_id")
        std = {
            "id": sid,
            "version": item.pop("standard_version"),
            "code": item.pop("standard_code"),
            "title": item.pop("standard_title"),
        }
        item["standard"] = std if sid is not None else None
        rules = PROCEDURES[Procedure(item.pop("procedure") or Procedure.city)]
        rule = rules.get(Step(item["step"])) if item["step"] in Step.__members__ else None
        item["step_label"] = rule.label if rule else item["step"]
        item["score"] = float(item["score"]) if item["score"] is not None else None
        out.append(item)
    return out


def reinspection_due(office: Office, months: int) -> date | None:
    """When a titled office must next be re-inspected (动态管理, 定期复验)."""
    if office.acceptance_state not in TITLED:
        return None
    last = office.reinspected_on or office.accepted_on
    return None if last is None else add_months(last, months)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's end (as PostgreSQL's interval does)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
