"""The staff pages: `/offices/{id}/staff` lists the staff and adds a person; `…/staff/{sid}`
changes one (making someone 所长 included) and records that they left. Each form is read into
the API's own schema (`StaffIn`, `StaffUpdate`, `StaffLeave`) and stored by the same service
call as the staff API; the one-director rule stays the service's — the page only offers, when
a new 所长 is named, to give the present one another position in the same save."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import DomainError
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.offices.dependencies import MAX_ID, ValidOffice
from service.offices.models import Office
from service.offices.queries import office_out
from service.pages.form_errors import field_errors, refused_fields, summary
from service.pages.forms import csrf_token, form_scope
from service.pages.record_labels import EDUCATION_CHOICES, POSITION_CHOICES, STAFF_LABELS_ZH
from service.pages.record_pages import (
    STAFF_ENTITIES,
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
from service.records.models import Position
from service.records.schemas import StaffIn, StaffLeave, StaffUpdate

router = APIRouter(include_in_schema=False)
StaffId = Annotated[int, Path(ge=1, le=MAX_ID)]
BOOLEANS = {"true": True, "false": False}
TRI = ("law_major", "party_member")  # yes / no / not recorded
REQUIRED_YES_NO = ("formal", "civil_servant")
FIELDS = (
    "name",
    "position",
    "phone",
    "education",
    "law_major",
    "formal",
    "civil_servant",
    "party_member",
    "heads_legal_service",
    "training_year",
    "training_days",
)
REFUSED = "未能保存,请按提示修改后再提交"
REFUSALS_ZH = {  # the whole form, by the domain error's code
    "conflict": "该人员已离岗或司法所已撤销,记录不能再更改",
    "forbidden": "您的角色不能填报工作人员记录",
    "invalid": "填写有误",
}
FIELD_REFUSALS_ZH = {  # one field, by the field the domain error names
    "position": "本所已有所长:请在下方选择原所长改任的职务,或先登记原所长离岗",
    "formal": "须选择",
    "civil_servant": "须选择",
    "left_on": "离岗日期不能早于到岗日期,也不能晚于今天",
}
FORMER_DIRECTOR = {"deputy_director": "改任副所长", "staff": "改任工作人员"}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _member_form(member: dict[str, Any]) -> dict[str, str]:
    return {name: _shown(member.get(name)) for name in FIELDS}


def _body(form: PostedForm, *, joined: bool) -> dict[str, Any]:
    """The API's body from the page's fields: an empty field is not recorded (null)."""
    body: dict[str, Any] = {name: form.one(name) or None for name in FIELDS}
    for name in (*TRI, *REQUIRED_YES_NO, "heads_legal_service"):
        value = form.one(name)
        body[name] = BOOLEANS.get(value, value or None)
    if body["heads_legal_service"] is None:
        body["heads_legal_service"] = False
    if joined:
        body["joined_on"] = form.one("joined_on") or None
    return body


def _current_director(staff: list[dict[str, Any]], exclude: int | None) -> dict[str, Any] | None:
    return next(
        (s for s in staff if s["position"] == Position.director and s["id"] != exclude), None
    )


def _hand_over(
    session: Session, scope: Scope, office: Office, form: PostedForm, exclude: int | None
) -> None:
    """Give the present director the position chosen, when the form names a new one."""
    if form.one("position") != Position.director or form.one("former_director") not in (
        FORMER_DIRECTOR
    ):
        return
    staff = records.list_staff(session=session, scope=scope, office=office)
    director = _current_director(staff, exclude)
    if director is not None:
        records.update_staff(
            session=session,
            scope=scope,
            office=office,
            staff_id=director["id"],
            data=StaffUpdate(position=Position(form.one("former_director"))),
        )


def _refused(exc: DomainError) -> tuple[str, int, dict[str, str]]:
    fields = [f for f in refused_fields(exc) if f in FIELD_REFUSALS_ZH]
    if fields:
        return REFUSED, exc.status, {fields[0]: FIELD_REFUSALS_ZH[fields[0]]}
    return REFUSALS_ZH.get(exc.code, "未能保存"), exc.status, {}


def _page(
    template: str,
    *,
    session: Session,
    scope: Scope,
    office: Office,
    settings: Any,
    status: int = 200,
    errors: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    staff = records.list_staff(session=session, scope=scope, office=office, include_left=True)
    errors = errors or {}
    context.setdefault("refusal", None)
    context.setdefault("notice", None)
    response = render(
        template,
        scope,
        session,
        office=office_out(session=session, scope=scope, office_id=office.id),
        section="staff",
        current=[s for s in staff if s["left_on"] is None],
        left=[s for s in staff if s["left_on"] is not None],
        director=_current_director(staff, context.get("member", {}).get("id")),
        errors=errors,
        problems=summary(errors, STAFF_LABELS_ZH),
        readonly=edit_refusal(scope, office),
        labels=STAFF_LABELS_ZH,
        positions=list(POSITION_CHOICES.items()),
        position_labels=POSITION_CHOICES,
        educations=[("", "未填报"), *EDUCATION_CHOICES.items()],
        education_labels=EDUCATION_CHOICES,
        tri=[("", "未填报"), ("true", "是"), ("false", "否")],
        yes_no=[("", "请选择"), ("true", "是"), ("false", "否")],
        no_yes=[("false", "否"), ("true", "是")],
        former_choices=list(FORMER_DIRECTOR.items()),
        csrf=csrf_token(settings, scope),
        **context,
    )
    response.status_code = status
    return response


@router.get("/offices/{office_id}/staff", response_class=HTMLResponse)
def staff_page(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The office's staff, present and former, and a form to add a person."""
    notice = saved_notice(session=session, scope=scope, office=office, event_id=saved_id(saved))
    return _page(
        "staff.html",
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form={"position": "staff", "heads_legal_service": "false"},
        notice=notice,
    )


@router.post("/offices/{office_id}/staff")
def add_staff(
    office_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: Annotated[PostedForm, Depends(posted_form)],
) -> Response:
    """Add a person (the API's `POST …/staff`), then the list with the addition on top."""
    office = posted_office(session, scope, office_id)
    errors: dict[str, str] = {}
    refusal, status = REFUSED, 422
    try:
        with session.begin_nested():  # (a refusal leaves nothing stored)
            data = StaffIn.model_validate(_body(form, joined=True))
            _hand_over(session, scope, office, form, None)
            added = records.add_staff(session=session, scope=scope, office=office, data=data)
    except ValidationError as exc:
        errors = field_errors(exc)
    except DomainError as exc:
        refusal, status, errors = _refused(exc)
    else:
        event = last_event_id(
            session, tenant_id=scope.tenant_id, entities=STAFF_ENTITIES, entity_id=added["id"]
        )
        return RedirectResponse(f"/offices/{office.id}/staff?saved={event}", status_code=303)
    return _page(
        "staff.html",
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form=form.singles(),
        errors=errors,
        refusal=refusal,
        status=status,
    )


@router.get("/offices/{office_id}/staff/{staff_id}", response_class=HTMLResponse)
def member_page(
    staff_id: StaffId,
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """One person: a form to change them and one to record that they left."""
    member = records.get_staff(session=session, scope=scope, office=office, staff_id=staff_id)
    return _page(
        "staff_member.html",
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        member=member,
        form=_member_form(member),
        leave={},
    )


def _member_post(
    *,
    office_id: int,
    staff_id: int,
    session: Session,
    settings: Any,
    scope: Scope,
    form: PostedForm,
    leaving: bool,
) -> Response:
    office = posted_office(session, scope, office_id)
    if not 1 <= staff_id <= MAX_ID:
        staff_id = 0
    member = records.get_staff(session=session, scope=scope, office=office, staff_id=staff_id)
    errors: dict[str, str] = {}
    refusal, status = REFUSED, 422
    before = last_event_id(
        session, tenant_id=scope.tenant_id, entities=STAFF_ENTITIES, entity_id=staff_id
    )
    try:
        with session.begin_nested():  # (a refusal leaves nothing stored)
            if leaving:
                leave = StaffLeave.model_validate(
                    {"left_on": form.one("left_on") or None, "reason": form.one("reason") or None}
                )
                records.staff_leaves(
                    session=session, scope=scope, office=office, staff_id=staff_id, data=leave
                )
            else:
                data = StaffUpdate.model_validate(_body(form, joined=False))
                _hand_over(session, scope, office, form, staff_id)
                records.update_staff(
                    session=session, scope=scope, office=office, staff_id=staff_id, data=data
                )
    except ValidationError as exc:
        errors = field_errors(exc)
    except DomainError as exc:
        refusal, status, errors = _refused(exc)
    else:
        after = last_event_id(
            session, tenant_id=scope.tenant_id, entities=STAFF_ENTITIES, entity_id=staff_id
        )
        saved = f"?saved={after}" if after > before else ""
        return RedirectResponse(f"/offices/{office.id}/staff{saved}", status_code=303)
    return _page(
        "staff_member.html",
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        member=member,
        form=_member_form(member) if leaving else form.singles(),
        leave=form.singles() if leaving else {},
        errors=errors,
        refusal=refusal,
        status=status,
    )


@router.post("/offices/{office_id}/staff/{staff_id}")
def update_staff(
    office_id: int,
    staff_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: Annotated[PostedForm, Depends(posted_form)],
) -> Response:
    """Change a person (the API's `PATCH …/staff/{sid}`), then the list."""
    return _member_post(
        office_id=office_id,
        staff_id=staff_id,
        session=session,
        settings=settings,
        scope=scope,
        form=form,
        leaving=False,
    )


@router.post("/offices/{office_id}/staff/{staff_id}/leave")
def staff_leaves(
    office_id: int,
    staff_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    form: Annotated[PostedForm, Depends(posted_form)],
) -> Response:
    """Record that a person left (the API's `POST …/staff/{sid}/leave`), then the list."""
    return _member_post(
        office_id=office_id,
        staff_id=staff_id,
        session=session,
        settings=settings,
        scope=scope,
        form=form,
        leaving=True,
    )
