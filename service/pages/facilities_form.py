"""The facilities page (`/offices/{id}/facilities`): every field of `FacilitiesIn`, grouped and
labelled in Chinese, read into that schema and stored by the same `put_facilities` call as
`PUT /api/v1/offices/{id}/facilities`.

"Not recorded" stays distinct from "no": a yes/no is a choice of 未填报/是/否; a set of items
is not recorded until an item or 以上均无 is ticked; a count left empty in every box leaves
the group not recorded; a practice left at 未填报 is unknown. The checklist reads them so."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import DomainError
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.offices.dependencies import ValidOffice
from service.offices.models import Office
from service.offices.queries import office_out
from service.pages.form_errors import field_errors, summary
from service.pages.forms import csrf_token, form_scope
from service.pages.record_labels import FACILITY_GROUPS, FACILITY_LABELS_ZH, PARTY_CHOICES
from service.pages.record_pages import (
    Notice,
    PostedForm,
    edit_refusal,
    last_event_id,
    posted_form,
    posted_office,
    saved_id,
    saved_notice,
)
from service.pages.templating import render
from service.records import service as records
from service.records.schemas import FacilitiesIn
from service.standards import measures

router = APIRouter(include_in_schema=False)
BOOLEANS = {"true": True, "false": False}
YES_NO = ("own_premises", "separated_from_legal_service", "party_branch")
NUMBERS = {  # name → (min, max, step)
    "staff_establishment": (0, 1000, "1"),
    "results_year": (2000, 2100, "1"),
    "mediation_success_rate": (0, 100, "0.01"),
    "key_assistance_rate": (0, 100, "0.01"),
    "key_placement_rate": (0, 100, "0.01"),
    "reoffending_rate": (0, 100, "0.01"),
}
ENTITY = ["office_facilities"]
REFUSED = "未能保存,请按提示修改后再提交"
REFUSALS_ZH = {
    "conflict": "该司法所已撤销,记录不能再更改",
    "forbidden": "您的角色不能填报设施装备记录",
}
NONE_AND_ITEMS = "勾选了具体项目,又勾选了“以上均无”"


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _stored_form(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored record as the form shows it."""
    form: dict[str, Any] = {name: _shown(stored.get(name)) for name in (*YES_NO, *NUMBERS)}
    form["party_organisation"] = stored.get("party_organisation") or ""
    for name in measures.SET_ITEMS:
        items = stored.get(name)
        form[name] = list(items or [])
        form[f"{name}_none"] = "1" if items == [] else ""
    for name, items in measures.COUNT_ITEMS.items():
        counts = stored.get(name)
        for key in items:  # (a recorded map holds what exists: the others are 0)
            form[f"{name}.{key}"] = "" if counts is None else str(counts.get(key, 0))
    practices = stored.get("practices") or {}
    for key in measures.PRACTICES:
        form[f"practices.{key}"] = _shown(practices.get(key))
    return form


def _typed_form(form: PostedForm) -> dict[str, Any]:
    typed: dict[str, Any] = form.singles()
    for name in measures.SET_ITEMS:
        typed[name] = form.all(name)
    return typed


def _body(form: PostedForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The PUT body the page's fields say, and the contradictions the page itself finds
    (an item ticked with 以上均无) — which the schema cannot see, as both mean a list."""
    body: dict[str, Any] = {}
    for name in YES_NO:
        value = form.one(name)
        body[name] = BOOLEANS.get(value, value or None)
    body["party_organisation"] = form.one("party_organisation") or None
    if body["party_organisation"] is not None:
        del body["party_branch"]  # (it follows the organisation chosen)
    contradictions: dict[str, str] = {}
    for name in measures.SET_ITEMS:
        ticked, none = form.all(name), form.one(f"{name}_none") == "1"
        if ticked and none:
            contradictions[name] = NONE_AND_ITEMS
        body[name] = ticked if ticked else ([] if none else None)
    for name, items in measures.COUNT_ITEMS.items():
        counts = {key: form.one(f"{name}.{key}") for key in items}
        typed = {key: value for key, value in counts.items() if value != ""}
        body[name] = typed or None
    practices = {key: form.one(f"practices.{key}") for key in measures.PRACTICES}
    checked = {key: BOOLEANS.get(value, value) for key, value in practices.items() if value}
    body["practices"] = checked or None
    for name in NUMBERS:
        body[name] = form.one(name) or None
    return body, contradictions


def _page(
    *,
    session: Session,
    scope: Scope,
    office: Office,
    settings: Any,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    notice: Notice | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    stored = records.get_facilities(session=session, scope=scope, office=office)
    response = render(
        "facilities.html",
        scope,
        session,
        office=office_out(session=session, scope=scope, office_id=office.id),
        section="facilities",
        form=form,
        errors=errors,
        problems=summary(errors, FACILITY_LABELS_ZH),
        refusal=refusal,
        notice=notice,
        readonly=edit_refusal(scope, office),
        recorded=stored["recorded"],
        groups=FACILITY_GROUPS,
        labels=FACILITY_LABELS_ZH,
        yes_no=YES_NO,
        numbers=NUMBERS,
        sets=measures.SET_ITEMS,
        counts=measures.COUNT_ITEMS,
        checks=measures.CHECK_ITEMS,
        party_choices=[("", "未填报"), *PARTY_CHOICES.items()],
        party_labels=PARTY_CHOICES,
        tri=[("", "未填报"), ("true", "是"), ("false", "否")],
        csrf=csrf_token(settings, scope),
    )
    response.status_code = status
    return response


@router.get("/offices/{office_id}/facilities", response_class=HTMLResponse)
def facilities_page(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The facility record as a form (or read only, saying why)."""
    stored = records.get_facilities(session=session, scope=scope, office=office)
    return _page(
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form=_stored_form(stored),
        notice=saved_notice(session=session, scope=scope, office=office, event_id=saved_id(saved)),
    )


@router.post("/offices/{office_id}/facilities")
def save_facilities(
    office_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: Annotated[PostedForm, Depends(posted_form)],
) -> Response:
    """Replace the facility record, then the office page with the save and its checklist; or
    this page again with what was typed and, next to each field, why not."""
    office = posted_office(session, scope, office_id)
    errors: dict[str, str] = {}
    refusal, status = REFUSED, 422
    before = last_event_id(session, tenant_id=scope.tenant_id, entities=ENTITY, entity_id=office.id)
    try:
        # (a savepoint: a refusal undoes the attempt and keeps the request's transaction, with
        # its tenant and region binding, for showing the page again)
        with session.begin_nested():
            body, errors = _body(form)
            data = FacilitiesIn.model_validate(body)
            if not errors:
                records.put_facilities(session=session, scope=scope, office=office, data=data)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    except DomainError as exc:
        refusal, status = REFUSALS_ZH.get(exc.code, "未能保存"), exc.status
    else:
        if not errors:
            after = last_event_id(
                session, tenant_id=scope.tenant_id, entities=ENTITY, entity_id=office.id
            )
            if after > before:
                return RedirectResponse(f"/offices/{office.id}?saved={after}", status_code=303)
            stored = records.get_facilities(session=session, scope=scope, office=office)
            return _page(
                session=session,
                scope=scope,
                office=office,
                settings=settings,
                form=_stored_form(stored),
                notice=Notice(what="未作更改:填写的内容与已保存的相同"),
            )
    return _page(
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form=_typed_form(form),
        errors=errors,
        refusal=refusal,
        status=status,
    )
