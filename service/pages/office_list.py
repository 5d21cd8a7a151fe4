"""The list of offices as a page (GET /offices): filter, sort, page, count, export what is
shown, and take one workflow step on several offices at once (POST /offices/bulk-steps).

Every filter is a query parameter, so the URL says exactly what the page shows; the list is
the one query of the API and its exports (service/offices/queries.py `list_offices`). A bulk
step is the service's `take_step`, office by office, each in its own savepoint: a refusal
undoes that office's attempt only, and each step taken is recorded as any other.

Answer to a bulk step: the list again (same filters, carried in the form's hidden fields)
with the outcome at the top — 200 when at least one office was taken through the step, 409
when none was, 422 when the form itself is refused (no office ticked, more than
BULK_LIMIT, a field the step needs missing), with nothing done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query
from fastapi.responses import HTMLResponse
from pydantic import Field, field_validator, model_validator
from sqlalchemy.orm import Session

from service.acceptance import service as workflow
from service.acceptance.workflow import PROCEDURES, Procedure, Rule, Step
from service.accounts.scope import Scope
from service.core.errors import DomainError, Invalid, OfficeNotFound
from service.divisions.kinds import (
    TOWNSHIP_KIND_LABELS_ZH,
)
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.routing import Router
from service.offices import service as offices
from service.offices.dependencies import MAX_ID
from service.offices.exports import HEADERS, state_label
from service.offices.queries import list_offices, office_filter
from service.offices.schemas import DUE_SOON_DAYS, OfficeListParams, OfficeSort
from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState
from service.pages.forms import FIELDS_ZH, csrf_token, form_scope, step_input, why_refused
from service.pages.regions import RegionNav, region_nav
from service.pages.templating import render
from service.standards import service as standards
from service.standards.service import StandardNotFound

router = Router(include_in_schema=False)
PAGE_SIZES = (20, 50, 100)
BULK_LIMIT = 200
SORT_LABELS = {
    OfficeSort.code: "区划代码",
    OfficeSort.name: "名称",
    OfficeSort.county: "县(市、区)",
    OfficeSort.state: "验收状态",
    OfficeSort.score: "达标率",
    OfficeSort.due: "应复验日期",
    OfficeSort.updated: "最后更新",
}
COMPLIANCE_LABELS = {"met": "必备项全部达标", "not_met": "必备项未全部达标"}
REINSPECTION_LABELS = {"overdue": "复验已逾期", "due_soon": f"{DUE_SOON_DAYS}天内应复验"}


class ListPage(OfficeListParams):
    """The list's filters and order, and which page of how many rows."""

    page: int = Field(1, ge=1, le=1_000_000)
    size: int = PAGE_SIZES[0]

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        """A filter form sends its empty fields as "" (no kind, no score...): not set."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    @field_validator("size")
    @classmethod
    def _one_of_the_sizes(cls, value: int) -> int:
        if value not in PAGE_SIZES:
            raise ValueError(f"page size is one of {PAGE_SIZES}")
        return value

    def filters_query(self) -> list[tuple[str, str]]:
        """The filters and order only (the export asks for every page)."""
        return OfficeListParams.model_validate(self.model_dump(exclude={"page", "size"})).query()

    def url(self, **changes: Any) -> str:
        """The list with these parameters changed (the first page unless `page` is given)."""
        moved = self.model_validate({**self.model_dump(), "page": 1, **changes})
        return "/offices?" + urlencode(moved.query())


@dataclass
class BulkOutcome:
    """What a bulk step did: the offices taken through it, and those refused with why."""

    step_label: str
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None  # the form refused as a whole: nothing was done


@router.get("/offices", response_class=HTMLResponse)
def office_list(
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    params: Annotated[ListPage, Query()],
) -> HTMLResponse:
    """The offices of the user's region, filtered, sorted and paged as the URL says."""
    return _page(session=session, scope=scope, csrf=csrf_token(settings, scope), params=params)


@router.post("/offices/bulk-steps", response_class=HTMLResponse)
def bulk_steps(
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    params: Annotated[ListPage, Form()],
    step: Annotated[Step, Form()],
    office: Annotated[list[Annotated[str, Field(max_length=20)]], Form()] = [],  # noqa: B006
    comment: Annotated[str | None, Form(max_length=2000)] = None,
    reasons: Annotated[str | None, Form(max_length=5000)] = None,
    inspection_date: Annotated[str | None, Form(max_length=10)] = None,
    inspectors: Annotated[str | None, Form(max_length=1000)] = None,
) -> HTMLResponse:
    """Take `step` on each ticked office, one by one; then the list with the outcome."""
    rule = _steps_of(session, scope).get(step)
    outcome = BulkOutcome(rule.label if rule else step.value)
    ids = list(dict.fromkeys(office))
    try:
        data = step_input(
            comment=comment, reasons=reasons, inspection_date=inspection_date, inspectors=inspectors
        )
    except Invalid:
        outcome.error = FIELDS_ZH["form"]
    else:
        outcome.error = _form_refusal(ids, rule, data)
    if outcome.error is None:
        todo: dict[int, dict[str, str]] = {}
        for raw in ids:
            _take(session, scope, step, data, raw, outcome, todo)
    status = 422 if outcome.error else 200 if outcome.done else 409
    response = _page(
        session=session,
        scope=scope,
        csrf=csrf_token(settings, scope),
        params=params,
        outcome=outcome,
        typed={
            "step": step.value,
            "comment": comment or "",
            "reasons": reasons or "",
            "inspection_date": inspection_date or "",
            "inspectors": inspectors or "",
        }
        if outcome.error or outcome.refused
        else None,
    )
    response.status_code = status
    return response


def _form_refusal(ids: list[str], rule: Rule | None, data: Any) -> str | None:
    """Why the form as a whole is refused (nothing done), or None."""
    if not ids:
        return "请先勾选要办理的司法所"
    if len(ids) > BULK_LIMIT:
        return f"一次最多办理 {BULK_LIMIT} 个司法所,本次勾选了 {len(ids)} 个"
    if rule is None:
        return "您的角色不能办理此环节"
    if rule.needs_inspection and data.inspection_date is None:
        return FIELDS_ZH["inspection_date"]
    if rule.needs_inspection and not data.inspectors:
        return FIELDS_ZH["inspectors"]
    if rule.needs_reasons and not data.reasons:
        return FIELDS_ZH["reasons"]
    return None


def _take(
    session: Session,
    scope: Scope,
    step: Step,
    data: Any,
    raw: str,
    outcome: BulkOutcome,
    todo: dict[int, dict[str, str]],
) -> None:
    """One office through the step in its own savepoint; a refusal is noted, with why."""
    name = f"编号 {raw}"  # an office outside the region is never named
    try:
        with session.begin_nested():
            office_id = int(raw) if raw.isdigit() else 0
            if not 1 <= office_id <= MAX_ID:
                raise OfficeNotFound(f"no office {raw!r}")
            office = offices.get_office(session=session, scope=scope, office_id=office_id)
            name = office.name
            workflow.take_step(session=session, scope=scope, office=office, step=step, data=data)
    except DomainError as exc:
        outcome.refused.append((name, why_refused(exc, _todo(session, scope, exc, todo))))
    else:
        outcome.done.append(name)


def _todo(
    session: Session, scope: Scope, exc: DomainError, cache: dict[int, dict[str, str]]
) -> dict[str, str]:
    """What is to be done about each criterion of the standard version a refusal names."""
    details = exc.details if isinstance(exc.details, dict) else {}
    version = details.get("standard_version")
    if not isinstance(version, int):
        return {}
    if version not in cache:
        standard = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=str(version))
        cache[version] = {
            c.key: c.missing or c.text
            for c in standards.criteria_of(session=session, standard=standard)
        }
    return cache[version]


def _steps_of(session: Session, scope: Scope) -> dict[Step, Rule]:
    """The steps the user's role takes in the procedure of the standard in force."""
    try:
        standard = standards.resolve(session=session, tenant_id=scope.tenant_id, ref=None)
    except StandardNotFound:
        return {}
    rules = PROCEDURES[Procedure(standard.procedure)]
    return {step: rule for step, rule in rules.items() if scope.role in rule.roles}


def _regions(nav: RegionNav) -> list[tuple[str, str]]:
    """The region filter's choices, (code, indented name): the regions of the trail (from
    the user's own down to the one shown) and those below the one shown — the picker's
    places, so no second query (a national user's every city and county took 40 ms)."""
    options = [(p.code, "\u3000" * i + p.name) for i, p in enumerate(nav.trail)]
    depth = len(nav.trail)
    return options + [(c.code, "\u3000" * depth + c.name) for c in nav.children]


def _page(
    *,
    session: Session,
    scope: Scope,
    csrf: str,
    params: ListPage,
    outcome: BulkOutcome | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    filters = office_filter(params, scope)
    total, items = list_offices(
        session=session,
        scope=scope,
        filters=filters,
        limit=params.size,
        offset=(params.page - 1) * params.size,
        sort=params.sort,
        descending=params.order == "desc",
        with_compliance=True,
    )
    pages = max(1, math.ceil(total / params.size))
    steps = _steps_of(session, scope)
    nav = region_nav(session, scope, filters.region, "/offices", params.filters_query())
    return render(
        "offices.html",
        scope,
        session,
        nav=nav,
        params=params,
        total=total,
        pages=pages,
        items=items,
        state_label=state_label,
        headers=HEADERS,
        regions=_regions(nav),
        states=[(s.value, ACCEPTANCE_LABELS_ZH[s]) for s in AcceptanceState],
        kinds=list(TOWNSHIP_KIND_LABELS_ZH.items()),
        compliance_labels=COMPLIANCE_LABELS,
        reinspection_labels=REINSPECTION_LABELS,
        sort_labels={s.value: label for s, label in SORT_LABELS.items()},
        page_sizes=PAGE_SIZES,
        export=lambda fmt: (
            "/api/v1/offices?" + urlencode([*params.filters_query(), ("format", fmt)])
        ),
        hidden=params.query(),
        steps=[(s.value, rule) for s, rule in steps.items()],
        bulk_limit=BULK_LIMIT,
        csrf=csrf,
        outcome=outcome,
        typed=typed or {},
    )
