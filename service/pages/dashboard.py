"""The dashboard of a user's region, rendered on the server in Chinese from the same
services as the API (nothing computed twice, nothing outside the region): the page, and its
progress and coverage sections, which load beside it (htmx) or open as pages of their own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from service.acceptance import reports as acceptance
from service.acceptance.workflow import PROCEDURES, Procedure, Step, allowed_steps
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.accounts.security import decode_token
from service.core.exports import cell_of
from service.coverage import service as coverage
from service.coverage.query import CoverageFilter
from service.divisions.kinds import LEVEL_WIDTH
from service.http.deps import TOKEN_COOKIE, SettingsDep
from service.http.routing import Router
from service.offices.queries import offices_in_township
from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState
from service.pages.chart import progress_chart
from service.pages.regions import RegionPage, RegionPageRequest, link, region_nav
from service.pages.templating import TEMPLATES, pct, render
from service.standards import service as standards

router = Router(include_in_schema=False)
STATE_LABELS = ACCEPTANCE_LABELS_ZH
STATUS_LABEL = acceptance.PROGRESS_STATUS_ZH
LEVEL_LABELS = {2: "省(区、市)", 4: "市", 6: "县(市、区)", 9: "乡镇(街道)"}
LEVEL_NAMES = {width: level for level, width in LEVEL_WIDTH.items()}

R = TypeVar("R")


@router.get("/")
def home(request: Request, settings: SettingsDep) -> Response:
    """The dashboard for a logged-in browser; the login page otherwise (API clients: /docs)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if token and decode_token(token, key=settings.signing_key()):
        return RedirectResponse("/dashboard")
    return RedirectResponse("/login?next=/dashboard")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    page: RegionPage,
    psort: Annotated[SortKey, Query()] = "code",
    csort: Annotated[SortKey, Query()] = "code",
) -> Response:
    """A region at a glance (default: the user's): offices by state (per sub-region), progress
    against the target with its chart, coverage per sub-region, gaps and conflicts, links to
    the lists, maps and exports. Every sub-region opens its own dashboard; a township shows its
    offices. A city bureau's first screen answers "which of my offices are in which state"."""
    scope, session = page.scope, page.session
    if page.region is None and len(scope.region_prefix) == 9:
        # office staff: their office is the page to work on
        own = offices_in_township(
            session=session, tenant_id=scope.tenant_id, code=scope.region_prefix
        )
        office_id = own[0].id if own else None
        if office_id is not None:
            return RedirectResponse(f"/offices/{office_id}", status_code=303)
    region = scope.region(page.region)
    params = {k: v for k, v in page.request.query_params.items() if k in ("psort", "csort")}
    nav = region_nav(session, scope, region, "/dashboard", params)
    if len(region) == 9:
        offices = offices_in_township(session=session, tenant_id=scope.tenant_id, code=region)
        return render(
            "township.html",
            scope,
            session,
            nav=nav,
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
        todo=waiting_for(scope, Procedure(in_force.procedure), overview.counts),
        may_record=scope.can(Action.update_office),
        may_reinspect=any(
            Step.reinspect_pass in allowed_steps(s, scope.role, Procedure(in_force.procedure))
            for s in AcceptanceState
        ),
        child_link=lambda code, **extra: link("/dashboard", extra, code),
        list_link=lambda code, **extra: link("/offices", extra, code),
    )


@router.get("/dashboard/progress", response_class=HTMLResponse)
def dashboard_progress(page: RegionPage, psort: Annotated[SortKey, Query()] = "code") -> Response:
    """The dashboard's progress against the target: the share titled, its curve over the
    target dates, and per sub-region (sortable)."""
    return _section(
        page,
        "progress",
        "规范化进度与目标",
        {"psort": psort},
        lambda region: _progress(page.scope, page.session, region, psort),
    )


@router.get("/dashboard/coverage", response_class=HTMLResponse)
def dashboard_coverage(page: RegionPage, csort: Annotated[SortKey, Query()] = "code") -> Response:
    """The dashboard's coverage: per sub-region (sortable), the first townships without an
    office and those with more than one."""
    return _section(
        page,
        "coverage",
        "覆盖情况",
        {"csort": csort},
        lambda region: _coverage(page.scope, page.session, region, csort),
    )


def _section(
    page: RegionPageRequest,
    name: str,
    title: str,
    params: dict[str, str],
    content: Callable[[str], dict[str, Any]],
) -> Response:
    """A dashboard section of the region asked for, its `content` read for the checked
    region: the fragment htmx puts into the dashboard, or — opened by itself (no script, a
    link, a bookmark) — a page of its own with the region picker. A township has no regions
    below: its dashboard, which lists its offices, instead."""
    scope, session = page.scope, page.session
    region = scope.region(page.region)
    if len(region) == 9:
        return RedirectResponse(link("/dashboard", {}, region), status_code=303)
    context = content(region)
    width = acceptance.child_width(region, None)
    context.update(
        region=region,
        level_label=LEVEL_LABELS[width],
        status_label=STATUS_LABEL,
        psort=params.get("psort", "code"),
        csort=params.get("csort", "code"),
        child_link=lambda code, **extra: link("/dashboard", extra, code),
    )
    if page.request.headers.get("HX-Request") == "true":
        return HTMLResponse(TEMPLATES.get_template(f"_{name}.html").render(pct=pct, **context))
    nav = region_nav(session, scope, region, f"/dashboard/{name}", params)
    return render(
        "dashboard_section.html",
        scope,
        session,
        nav=nav,
        section=f"_{name}.html",
        title=f"{nav.trail[-1].name} {title}",
        **context,
    )


def _progress(scope: Scope, session: Session, region: str, sort: str) -> dict[str, Any]:
    """The progress section: the region's progress, its sub-regions sorted by `sort`, and
    the chart of the target curve against what was achieved at its past dates and today."""
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
    achieved.append((today, progress.total.share))
    return {
        "progress": progress,
        "progress_rows": sorted_rows(progress.regions, sort, PROGRESS_SORTS),
        "chart": progress_chart([(t.due_on, float(t.share)) for t in targets], achieved),
    }


def _coverage(scope: Scope, session: Session, region: str, sort: str) -> dict[str, Any]:
    """The coverage section: the sub-regions sorted by `sort`, the first gaps and conflicts."""
    width = acceptance.child_width(region, None)
    f = CoverageFilter(
        tenant_id=scope.tenant_id, region=region, required_kinds=scope.required_kinds
    )
    summary = coverage.summary(session, f, level=LEVEL_NAMES[width])
    return {
        "coverage": sorted_rows(summary.rows, sort, COVERAGE_SORTS),
        "gaps": coverage.gaps(session, f, limit=DASHBOARD_ROWS),
        "conflicts": coverage.conflicts(session, f, limit=DASHBOARD_ROWS),
        "note": summary.note,
    }


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


def sorted_rows(rows: Sequence[R], key: str, sorts: dict[str, tuple[str, bool]]) -> list[R]:
    """Sub-region rows (a report's row type) by code (default), by name, or by one of the
    table's measures named by its key (a region without a value last)."""

    def code(r: R) -> str:
        return str(cell_of(r, "code"))

    if key == "name":
        return sorted(rows, key=lambda r: (cell_of(r, "name") or code(r), code(r)))
    if key not in sorts:
        return sorted(rows, key=code)
    field, descending = sorts[key]
    present = [r for r in rows if cell_of(r, field) is not None]
    absent = [r for r in rows if cell_of(r, field) is None]
    present.sort(key=code)
    present.sort(key=lambda r: cell_of(r, field), reverse=descending)
    return present + sorted(absent, key=code)
