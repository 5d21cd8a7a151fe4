"""The staff pages: `/offices/{id}/staff` lists the staff and adds a person; `…/staff/{sid}`
changes one (making someone 所长 included) and records that they left. Each form is read into
the API's own schema (`StaffIn`, `StaffUpdate`, `StaffLeave`) and stored by the same service
call as the staff API; the one-director rule stays the service's — the page only offers, when
a new 所长 is named, to give the present one another position in the same save."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.errors import DomainError
from service.http.routing import Router
from service.offices.dependencies import MAX_ID
from service.pages.form_errors import refused_fields
from service.pages.record_labels import EDUCATION_CHOICES, POSITION_CHOICES, STAFF_LABELS_ZH
from service.pages.record_pages import (
    REFUSED,
    STAFF_ENTITIES,
    PostedForm,
    PostedRecord,
    PostedRecordRequest,
    RecordRequest,
    Refusal,
    SavedNotice,
    ViewedRecord,
    form_value,
    record_page,
    try_save,
)
from service.records import service as records
from service.records.models import Position
from service.records.schemas import StaffIn, StaffLeave, StaffUpdate

router = Router(include_in_schema=False)
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


def _member_form(member: dict[str, Any]) -> dict[str, str]:
    return {name: form_value(member.get(name)) for name in FIELDS}


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


def _hand_over(record: PostedRecordRequest, exclude: int | None) -> None:
    """Give the present director the position chosen, when the form names a new one."""
    form = record.form
    if form.one("position") != Position.director or form.one("former_director") not in (
        FORMER_DIRECTOR
    ):
        return
    session, scope, office = record.session, record.scope, record.office
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


def _refused(exc: DomainError) -> Refusal:
    fields = [f for f in refused_fields(exc) if f in FIELD_REFUSALS_ZH]
    if fields:
        return Refusal(REFUSED, exc.status, {fields[0]: FIELD_REFUSALS_ZH[fields[0]]})
    return Refusal(REFUSALS_ZH.get(exc.code, "未能保存"), exc.status)


def _page(
    template: str, record: RecordRequest, *, refusal: Refusal | None = None, **context: Any
) -> HTMLResponse:
    session, scope, office = record.session, record.scope, record.office
    staff = records.list_staff(session=session, scope=scope, office=office, include_left=True)
    return record_page(
        template,
        record,
        section="staff",
        labels=STAFF_LABELS_ZH,
        refusal=refusal,
        current=[s for s in staff if s["left_on"] is None],
        left=[s for s in staff if s["left_on"] is not None],
        director=_current_director(staff, context.get("member", {}).get("id")),
        positions=list(POSITION_CHOICES.items()),
        position_labels=POSITION_CHOICES,
        educations=[("", "未填报"), *EDUCATION_CHOICES.items()],
        education_labels=EDUCATION_CHOICES,
        tri=[("", "未填报"), ("true", "是"), ("false", "否")],
        yes_no=[("", "请选择"), ("true", "是"), ("false", "否")],
        no_yes=[("false", "否"), ("true", "是")],
        former_choices=list(FORMER_DIRECTOR.items()),
        **context,
    )


@router.get("/offices/{office_id}/staff", response_class=HTMLResponse)
def staff_page(record: ViewedRecord, notice: SavedNotice) -> HTMLResponse:
    """The office's staff, present and former, and a form to add a person."""
    form = {"position": "staff", "heads_legal_service": "false"}
    return _page("staff.html", record, form=form, notice=notice)


@router.post("/offices/{office_id}/staff")
def add_staff(record: PostedRecord) -> Response:
    """Add a person (the API's `POST …/staff`), then the list with the addition on top."""
    session, scope, office, form = record.session, record.scope, record.office, record.form

    def save() -> dict[str, Any]:
        data = StaffIn.model_validate(_body(form, joined=True))
        _hand_over(record, None)
        return records.add_staff(session=session, scope=scope, office=office, data=data)

    added = try_save(session, save, refused=_refused)
    if isinstance(added, Refusal):
        return _page("staff.html", record, form=form.singles(), refusal=added)
    event = record.last_event(STAFF_ENTITIES, added["id"])
    return RedirectResponse(f"/offices/{office.id}/staff?saved={event}", status_code=303)


@router.get("/offices/{office_id}/staff/{staff_id}", response_class=HTMLResponse)
def member_page(staff_id: StaffId, record: ViewedRecord) -> HTMLResponse:
    """One person: a form to change them and one to record that they left."""
    member = records.get_staff(
        session=record.session, scope=record.scope, office=record.office, staff_id=staff_id
    )
    return _page("staff_member.html", record, member=member, form=_member_form(member), leave={})


def _member_post(record: PostedRecordRequest, staff_id: int, *, leaving: bool) -> Response:
    session, scope, office, form = record.session, record.scope, record.office, record.form
    if not 1 <= staff_id <= MAX_ID:
        staff_id = 0
    member = records.get_staff(session=session, scope=scope, office=office, staff_id=staff_id)
    before = record.last_event(STAFF_ENTITIES, staff_id)

    def save() -> None:
        if leaving:
            leave = StaffLeave.model_validate(
                {"left_on": form.one("left_on") or None, "reason": form.one("reason") or None}
            )
            records.staff_leaves(
                session=session, scope=scope, office=office, staff_id=staff_id, data=leave
            )
        else:
            data = StaffUpdate.model_validate(_body(form, joined=False))
            _hand_over(record, staff_id)
            records.update_staff(
                session=session, scope=scope, office=office, staff_id=staff_id, data=data
            )

    outcome = try_save(session, save, refused=_refused)
    if isinstance(outcome, Refusal):
        return _page(
            "staff_member.html",
            record,
            member=member,
            form=_member_form(member) if leaving else form.singles(),
            leave=form.singles() if leaving else {},
            refusal=outcome,
        )
    after = record.last_event(STAFF_ENTITIES, staff_id)
    saved = f"?saved={after}" if after > before else ""
    return RedirectResponse(f"/offices/{office.id}/staff{saved}", status_code=303)


@router.post("/offices/{office_id}/staff/{staff_id}")
def update_staff(staff_id: int, record: PostedRecord) -> Response:
    """Change a person (the API's `PATCH …/staff/{sid}`), then the list."""
    return _member_post(record, staff_id, leaving=False)


@router.post("/offices/{office_id}/staff/{staff_id}/leave")
def staff_leaves(staff_id: int, record: PostedRecord) -> Response:
    """Record that a person left (the API's `POST …/staff/{sid}/leave`), then the list."""
    return _member_post(record, staff_id, leaving=True)
