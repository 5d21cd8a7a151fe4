"""The dashboard of a user's region and the office page, rendered on the server in Chinese
from the same services as the API (nothing computed twice, nothing outside the region).
`office_context` is what the office page shows; the work-record form (work_form.py) shows
it again with what was typed and why it was refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import text

from service.acceptance import reports as acceptance
from service.acceptance import service as workflow_service
from service.acceptance.workflow import PROCEDURES, Procedure, Step, allowed_steps
from service.accounts.models import ROLE_LABELS_ZH, Role
from service.accounts.permissions import Action
from service.accounts.security import decode_token
from service.coverage import service as coverage
from service.coverage.query import CoverageFilter
from service.db import SessionDep
from service.deps import TOKEN_COOKIE, CurrentScope, Scope, SettingsDep
from service.divisions.kinds import LEVEL_WIDTH
from service.offices.dependencies import MAX_ID, ValidOffice
from service.offices.models import ACCEPTANCE_LABELS_ZH, AcceptanceState, Office
from service.offices.queries import office_out
from service.pages.chart import progress_chart
from service.pages.forms import csrf_token
from service.pages.record_labels import record_href
from service.pages.record_pages import saved_id, saved_notice
from service.pages.regions import RegionParam, link, region_nav
from service.records import evidence, work
from service.records.evidence import served_name
from service.records.models import WORK_COUNTS
from service.records.schemas import WORK_LABELS_ZH, WorkRecordIn
from service.records.service import may_edit
from service.settings import Settings
from service.standards import compliance, measures
from service.standards import service as standards
from service.standards.compliance import division_names

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
STATE_LABELS = {s.value: ACCEPTANCE_LABELS_ZH[s] for s in AcceptanceState}
STATUS_LABEL = acceptance.PROGRESS_STATUS_ZH
LEVEL_LABELS = {2: "省(区、市)", 4: "市", 6: "县(市、区)", 9: "乡镇(街道)"}
LEVEL_NAMES = {width: level for level, width in LEVEL_WIDTH.items()}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render(name: str, scope: Scope, session: Any, **context: Any) -> HTMLResponse:
    names = division_names(session, scope.tenant_id, [scope.region_code])
    context.setdefault("nav", None)
    html = TEMPLATES.get_template(name).render(
        scope=scope,
        role_label=ROLE_LABELS_ZH[scope.role],
        region_name=names.get(scope.region_code, scope.tenant_name),
        pct=pct,
        **context,
    )
    return HTMLResponse(html)


@router.get("/")
def home(request: Request, settings: SettingsDep) -> Response:
    """The dashboard for a logged-in browser; the login page otherwise (API clients: /docs)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if token and decode_token(token, key=settings.signing_key()):
        return RedirectResponse("/dashboard")
    return RedirectResponse("/login?next=/dashboard")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    psort: Annotated[SortKey, Query()] = "code",
    csort: Annotated[SortKey, Query()] = "code",
) -> Response:
    """A region at a glance (default: the user's): offices by state (per sub-region), progress
    against the target with its chart, coverage per sub-region, gaps and conflicts, links to
    the lists, maps and exports. Every sub-region opens its own dashboard; a township shows its
    offices. A city bureau's first screen answers "which of my offices are in which state"."""
    if region is None and len(scope.region_prefix) == 9:
        # office staff: their office is the page to work on
        office_id = session.scalar(
            text(
                "SELECT id FROM offices WHERE tenant_id = :t AND division_code = :c"
                " AND closed_at IS NULL ORDER BY id LIMIT 1"
            ),
            {"t": scope.tenant_id, "c": scope.region_prefix},
        )
        if office_id is not None:
            return RedirectResponse(f"/offices/{office_id}", status_code=303)
    region = scope.region(region)
    params = {k: v for k, v in request.query_params.items() if k in ("psort", "csort")}
    nav = region_nav(session, scope, region, "/dashboard", params)
    if len(region) == 9:
        offices = session.execute(
            text(
                "SELECT id, name, acceptance_state FROM offices WHERE tenant_id = :t"
                " AND division_code = :c AND closed_at IS NULL ORDER BY id"
            ),
            {"t": scope.tenant_id, "c": region},
        ).all()
        return render(
            "township.html",
            scope,
            session,
            nav=nav,
            nav_path="/dashboard",
            township=nav.trail[-1],
            offices=offices,
            state_labels=STATE_LABELS,
        )
    width = acceptance.child_width(region, None)
    overview = acceptance.acceptance_overview(
        session=session,
        scope=scope,
        region=region,
        state=None,
        level=None,
        limit=0,
        offset=0,
        due_limit=10,
    )
    in_force = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=None)
    return render(
        "dashboard.html",
        scope,
        session,
        nav=nav,
        nav_path="/dashboard",
        region=region,
        region_title=nav.trail[-1].name,
        overview=overview,
        # the progress and the coverage load beside the page, each as its own request (a
        # nation's three reports in one request took a second); each is a page of its own too
        sections={
            "progress": link("/dashboard/progress", {"psort": psort}, region),
            "coverage": link("/dashboard/coverage", {"csort": csort}, region),
        },
        state_labels=STATE_LABELS,
        level_label=LEVEL_LABELS[width],
        todo=waiting_for(scope, Procedure(in_force.procedure), overview["counts"]),
        may_record=scope.can(Action.update_office),
        may_reinspect=any(
            Step.reinspect_pass in allowed_steps(s, scope.role, Procedure(in_force.procedure))
            for s in AcceptanceState
        ),
        child_link=lambda code, **extra: link("/dashboard", extra, code),
        list_link=lambda code, **extra: link("/offices", extra, code),
    )


def _section(
    request: Request,
    scope: Scope,
    session: Any,
    region: str,
    name: str,
    title: str,
    params: dict[str, str],
    **context: Any,
) -> HTMLResponse:
    """A dashboard section: the fragment htmx puts into the dashboard, or — opened by
    itself (no script, a link, a bookmark) — a page of its own with the region picker."""
    width = acceptance.child_width(region, None)
    context.update(
        region=region,
        level_label=LEVEL_LABELS[width],
        status_label=STATUS_LABEL,
        psort=params.get("psort", "code"),
        csort=params.get("csort", "code"),
        child_link=lambda code, **extra: link("/dashboard", extra, code),
    )
    if request.headers.get("HX-Request") == "true":
        return HTMLResponse(TEMPLATES.get_template(f"_{name}.html").render(pct=pct, **context))
    nav = region_nav(session, scope, region, f"/dashboard/{name}", params)
    return render(
        "dashboard_section.html",
        scope,
        session,
        nav=nav,
        nav_path=f"/dashboard/{name}",
        section=f"_{name}.html",
        title=f"{nav.trail[-1].name} {title}",
        **context,
    )


@router.get("/dashboard/progress", response_class=HTMLResponse)
def dashboard_progress(
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    psort: Annotated[SortKey, Query()] = "code",
) -> HTMLResponse:
    """The dashboard's progress against the target: the share titled, its curve over the
    target dates, and per sub-region (sortable)."""
    region = scope.region(region)
    progress = acceptance.progress(
        session=session, scope=scope, region=region, as_of=None, level=None
    )
    # the schedule this region is judged by (its own, or the one of a region containing it)
    targets = standards.curve_for(
        standards.targets_of(session=session, tenant_id=scope.tenant_id), region
    )
    today = date.today()
    past = acceptance.shares_at(
        session=session,
        scope=scope,
        region=region,
        days=[t.due_on for t in targets if t.due_on < today],
    )
    achieved: list[tuple[date, float | None]] = sorted(past.items())  # None: no office then
    achieved.append((today, progress["total"]["share"]))
    return _section(
        request,
        scope,
        session,
        region,
        "progress",
        "规范化进度与目标",
        {"psort": psort},
        progress=progress,
        progress_rows=sorted_rows(progress["regions"], psort, PROGRESS_SORTS),
        chart=progress_chart([(t.due_on, float(t.share)) for t in targets], achieved),
    )


@router.get("/dashboard/coverage", response_class=HTMLResponse)
def dashboard_coverage(
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    csort: Annotated[SortKey, Query()] = "code",
) -> HTMLResponse:
    """The dashboard's coverage: per sub-region (sortable), the first townships without an
    office and those with more than one."""
    region = scope.region(region)
    width = acceptance.child_width(region, None)
    f = CoverageFilter(
        tenant_id=scope.tenant_id, region=region, required_kinds=scope.required_kinds
    )
    summary = coverage.summary(session, f, level=LEVEL_NAMES[width])
    return _section(
        request,
        scope,
        session,
        region,
        "coverage",
        "覆盖情况",
        {"csort": csort},
        coverage=sorted_rows(summary.rows, csort, COVERAGE_SORTS),
        gaps=coverage.gaps(session, f, limit=DASHBOARD_ROWS),
        conflicts=coverage.conflicts(session, f, limit=DASHBOARD_ROWS),
        note=summary.note,
    )


def waiting_for(scope: Scope, procedure: Procedure, counts: dict[str, int]) -> list[dict[str, Any]]:
    """The offices waiting for this user: those in a state from which the procedure in force
    lets the user's role take a step (a city bureau: the applications to decide; a county
    bureau: the self-checked to apply for …), with the steps' names."""
    rules = PROCEDURES[procedure]
    out = []
    for state in AcceptanceState:
        steps = allowed_steps(state, scope.role, procedure)
        if steps and counts.get(state.value):
            out.append(
                {
                    "state": state.value,
                    "label": STATE_LABELS[state.value],
                    "count": counts[state.value],
                    "steps": "、".join(rules[s].label for s in steps),
                }
            )
    return out


DASHBOARD_ROWS = 30
SortKey = Literal["code", "name", "share", "behind", "gaps", "rate"]
# the sub-region tables' sort keys: (the row's value, largest first?)
PROGRESS_SORTS: dict[str, tuple[str, bool]] = {
    "share": ("share", False),  # furthest behind first
    "behind": ("short_of_target", True),
}
COVERAGE_SORTS: dict[str, tuple[str, bool]] = {
    "gaps": ("gaps", True),
    "rate": ("coverage_rate", False),
}


def sorted_rows(
    rows: list[dict[str, Any]], key: str, sorts: dict[str, tuple[str, bool]]
) -> list[dict[str, Any]]:
    """Sub-region rows by code (default), by name, or by one of the table's measures (a
    region without a value last)."""
    if key == "name":
        return sorted(rows, key=lambda r: (r.get("name") or r["code"], r["code"]))
    if key not in sorts:
        return sorted(rows, key=lambda r: r["code"])
    field, descending = sorts[key]
    present = [r for r in rows if r.get(field) is not None]
    absent = [r for r in rows if r.get(field) is None]
    present.sort(key=lambda r: r["code"])
    present.sort(key=lambda r: r[field], reverse=descending)
    return present + sorted(absent, key=lambda r: r["code"])


def _measured(item: dict[str, Any]) -> str:
    value = item["measured"]
    if value is None:
        return "未填报"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return f"{len(value)} 项"
    return f"{value} {item['unit']}".strip()


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
    months = int(
        session.execute(
            text("SELECT reinspection_months FROM tenants WHERE id = :t"), {"t": scope.tenant_id}
        ).scalar_one()
    )
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
                if rule.needs_standard_met and not report["mandatory_met"]
                else None,
            }
        )
    may_record = may_edit(scope, office)
    return {
        "office": detail,
        "state_label": STATE_LABELS[state.value],
        "compliance": report,
        "history": history,
        "due": due,
        "overdue": bool(due and due < date.today()),
        "actions": actions,
        "measured": _measured,
        "state_labels": STATE_LABELS,
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
