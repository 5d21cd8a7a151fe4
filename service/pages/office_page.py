"""The office page: 缺什么补什么, records, steps, history — and the step form that posts to
it (refused, the page again with why and what was typed). `office_context` is what the page
shows; the work-record form (work_form.py) shows it again with what was typed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.acceptance import service as workflow
from service.acceptance import service as workflow_service
from service.acceptance.workflow import PROCEDURES, Procedure, Step, allowed_steps
from service.accounts.roles import ROLE_LABELS_ZH, Role
from service.accounts.scope import Scope
from service.core.errors import DomainError, Invalid
from service.core.settings import Settings
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.routing import Router
from service.offices import service as offices
from service.offices.dependencies import MAX_ID, ValidOffice
from service.offices.models import Office
from service.offices.queries import office_out
from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState
from service.pages.forms import (
    csrf_token,
    form_scope,
    step_input,
    why_refused,
)
from service.pages.record_labels import record_href
from service.pages.record_pages import saved_id, saved_notice
from service.pages.templating import render
from service.records import evidence, work
from service.records.evidence import served_name
from service.records.models import WORK_COUNTS
from service.records.schemas import WORK_LABELS_ZH, WorkRecordIn
from service.records.service import may_edit
from service.standards import compliance, measures
from service.standards import service as standards
from service.standards.rows import ChecklistItem, OfficeCompliance
from service.tenants.policy import reinspection_months

router = Router(include_in_schema=False)


def _measured(item: ChecklistItem) -> str:
    value = item.measured
    if value is None:
        return "未填报"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return f"{len(value)} 项"
    return f"{value} {item.unit}".strip()


@router.get("/offices/{office_id}", response_class=HTMLResponse)
def office_page(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    event: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    recorded: Annotated[str | None, Query(max_length=40)] = None,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """An office: details, the checklist against the standard in force with what is
    missing, the acceptance history, its yearly work records, and what this user may do.

    `event` names a step just taken: the notice is that step as the history records it
    (label, day, who) — a link cannot make the page announce a step that did not happen.
    `saved` names the audit event of a record saved on an edit page, read back the same way."""
    context = office_context(office=office, scope=scope, session=session, settings=settings)
    context["done"] = next((e for e in context["history"] if e["id"] == event), None)
    context["saved"] = saved_notice(
        session=session, scope=scope, office=office, event_id=saved_id(saved)
    )
    return render(
        "office.html",
        scope,
        session,
        **context,
        recorded=int(recorded) if recorded and recorded.isdigit() and len(recorded) == 4 else None,
    )


def office_context(
    *, office: Office, scope: Scope, session: Any, settings: Settings
) -> dict[str, Any]:
    """What the office page shows (the work-record form empty: `work_form` fills it)."""
    detail = office_out(session=session, scope=scope, office_id=office.id)
    report = compliance.office_compliance(
        session=session, scope=scope, office=office, standard_ref=None, as_of=None
    )
    history = workflow_service.history(session=session, scope=scope, office=office)
    months = reinspection_months(session, scope.tenant_id)
    due = workflow_service.reinspection_due(office, months)
    state = AcceptanceState(office.acceptance_state)
    actions = []
    in_force = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=None)
    rules = PROCEDURES[Procedure(in_force.procedure)]
    for step in (
        allowed_steps(state, scope.role, Procedure(in_force.procedure))
        if office.closed_at is None
        else []
    ):
        rule = rules[step]
        needs = [
            text
            for flag, text in (
                (rule.needs_inspection, "检查日期和检查人员"),
                (rule.needs_reasons, "理由"),
                (rule.needs_standard_met, "必备项全部达标"),
            )
            if flag
        ]
        actions.append(
            {
                "step": step.value,
                "label": rule.label,
                "needs": "、".join(needs),
                "inspection": rule.needs_inspection,
                "reasons": rule.needs_reasons,
                "standard": rule.needs_standard_met,
                # offered, but not to be taken yet: why (the step would be refused)
                "blocked": "必备项未全部达标,请先对照“缺什么补什么”补齐"
                if rule.needs_standard_met and not report.mandatory_met
                else None,
            }
        )
    may_record = may_edit(scope, office)
    return {
        "office": detail,
        "state_label": ACCEPTANCE_LABELS_ZH[state],
        "compliance": report,
        "history": history,
        "due": due,
        "overdue": bool(due and due < date.today()),
        "actions": actions,
        "measured": _measured,
        "state_labels": ACCEPTANCE_LABELS_ZH,
        "role_labels": {r.value: ROLE_LABELS_ZH[r] for r in Role},
        "note": None,
        "csrf": csrf_token(settings, scope),
        "step_labels": {step.value: rule.label for step, rule in rules.items()},
        "work_records": work.list_work_records(session=session, scope=scope, office=office),
        "may_record": may_record,
        "work_fields": WORK_FORM_FIELDS,
        "titles": measures.TITLES,
        "evidence_files": (
            [
                (e.id, served_name(e))
                for e in evidence.list_evidence(session=session, scope=scope, office=office)
            ]
            if may_record
            else []
        ),
        "labels": WORK_LABELS_ZH,
        "n": lambda v: "—" if v is None else v,
        "rate": lambda v: "—" if v is None else f"{v:g}%",
        "yes_no": lambda v: "—" if v is None else ("是" if v else "否"),
        "work_form": {"year": str(date.today().year - 1)},
        "work_errors": {},
        "work_error": None,
        "done": None,
        "saved": None,
        "record_href": lambda measure: record_href(office.id, measure),
        "step_error": None,  # (step, why in Chinese, what was typed) of a refused step
        "this_year": date.today().year,
    }


# the counts and days of the work-record form, in the schema's order, with their labels
WORK_FORM_FIELDS = [
    (name, WORK_LABELS_ZH[name], 366 if name == "mediator_min_training_days" else 1_000_000)
    for name in WorkRecordIn.model_fields
    if name in WORK_COUNTS or name == "mediator_min_training_days"
]


@router.post("/offices/{office_id}/steps/{step}")
def take_step_form(
    office_id: int,
    step: Step,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    comment: Annotated[str | None, Form(max_length=2000)] = None,
    reasons: Annotated[str | None, Form(max_length=5000)] = None,
    inspection_date: Annotated[str | None, Form(max_length=10)] = None,
    inspectors: Annotated[str | None, Form(max_length=1000)] = None,
) -> Response:
    """Take a workflow step from the page, then back to the page with the step as recorded;
    refused, the page again at the step's form: why (in Chinese) and what was typed."""
    if not 1 <= office_id <= MAX_ID:
        raise Invalid("office_id out of range", {"field": "office_id"})
    office = offices.get_office(session=session, scope=scope, office_id=office_id)
    typed = {
        "comment": comment or "",
        "reasons": reasons or "",
        "inspection_date": inspection_date or "",
        "inspectors": inspectors or "",
    }
    try:
        # (a savepoint: a refusal undoes the attempt and keeps the request's transaction, with
        # its tenant and region binding, for showing the page again)
        with session.begin_nested():
            data = step_input(
                comment=comment,
                reasons=reasons,
                inspection_date=inspection_date,
                inspectors=inspectors,
            )
            result = workflow.take_step(
                session=session, scope=scope, office=office, step=step, data=data
            )
    except DomainError as exc:
        session.refresh(office)
        context = office_context(office=office, scope=scope, session=session, settings=settings)
        report: OfficeCompliance = context["compliance"]
        todo = {i.key: i.todo or i.text for i in report.items}
        context["step_error"] = {"step": step.value, "why": why_refused(exc, todo), "typed": typed}
        response = render("office.html", scope, session, **context)
        response.status_code = exc.status
        return response
    event = result["event"]["id"]
    return RedirectResponse(f"/offices/{office_id}?event={event}", status_code=303)
