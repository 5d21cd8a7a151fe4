"""Recording a year's work record from the office page: the form is posted with the login
cookie and the CSRF token of forms.py, read into the API's own schema and stored by the same
service call as `PUT …/work-records/{year}`. A refusal shows the page again with what was
typed and, next to each field, why (in Chinese); a stored record goes back to the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from service.accounts.scope import Scope
from service.core.errors import DomainError, Invalid
from service.http.deps import SessionDep, SettingsDep
from service.http.routing import Router
from service.offices import service as offices
from service.offices.dependencies import MAX_ID
from service.pages.form_errors import field_errors, refused_fields
from service.pages.forms import form_scope
from service.pages.office_page import WORK_FORM_FIELDS, office_context
from service.pages.templating import render
from service.records import work
from service.records.schemas import WORK_LABELS_ZH, WorkRecordIn

router = Router(include_in_schema=False)
BOOLEANS = {"true": True, "false": False}
FIELD_NAMES = [name for name, _, _ in WORK_FORM_FIELDS]
# (the title vocabulary is this form's one choice: said so, not "不是可选项")
OVERRIDES_ZH = {"enum": "不是可选的称号"}
REFUSALS_ZH = {  # the service's refusals: by field, or by code for the record as a whole
    "year": "只能填报本年度及以前年度的记录(2000年以后)",
    "summary_evidence_id": "所选材料不是本司法所的证明材料",
    "conflict": "司法所已撤销,工作记录不能再更改",
    "forbidden": "您的角色不能填报工作记录",
}


async def posted_form(request: Request) -> dict[str, Any]:
    """The posted fields (titles may repeat); the form itself is parsed once by Starlette."""
    form = await request.form()
    out: dict[str, Any] = {k: str(v).strip() for k, v in form.items() if k != "titles"}
    out["titles"] = [str(t) for t in form.getlist("titles")]
    return out


def _record(form: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the API's body: an empty field is not recorded (null)."""
    body: dict[str, Any] = {
        name: form.get(name) or None for name in (*FIELD_NAMES, "summary_evidence_id")
    }
    for name in ("county_assessment_passed", "reports_on_time"):
        value = form.get(name) or ""
        body[name] = BOOLEANS.get(value, value or None)
    body["titles"] = form["titles"] or None
    return body


def _year(raw: str | None) -> int:
    if not raw or not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Invalid("year: 2000 … 2100", [{"field": "year", "problem": "out of range"}])
    return int(raw)


@router.post("/offices/{office_id}/work-records")
def record_work_form(
    office_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: Annotated[dict[str, Any], Depends(posted_form)],
) -> Response:
    """Store the year's record, then back to the page; or the page again, saying why not."""
    if not 1 <= office_id <= MAX_ID:
        raise Invalid("office_id out of range", {"field": "office_id"})
    office = offices.get_office(session=session, scope=scope, office_id=office_id)
    errors: dict[str, str] = {}
    refusal, status = "未能保存,请按提示修改后再提交", 422
    try:
        # (a savepoint: a refusal undoes the attempt and keeps the request's transaction, with
        # its tenant and region binding, for showing the page again)
        with session.begin_nested():
            year = _year(form.get("year"))
            data = WorkRecordIn.model_validate(_record(form))
            work.put_work_record(session=session, scope=scope, office=office, year=year, data=data)
    except ValidationError as exc:
        errors = field_errors(exc, labels=WORK_LABELS_ZH, overrides=OVERRIDES_ZH)
    except DomainError as exc:
        fields = refused_fields(exc)
        errors = {field: REFUSALS_ZH.get(field, "填写有误") for field in fields}
        if not fields:
            refusal, status = REFUSALS_ZH.get(exc.code, "未能保存"), exc.status
    else:
        return RedirectResponse(f"/offices/{office_id}?recorded={year}", status_code=303)
    context = office_context(office=office, scope=scope, session=session, settings=settings)
    context.update(work_form=form, work_errors=errors, work_error=refusal)
    response = render("office.html", scope, session, **context)
    response.status_code = status
    return response
