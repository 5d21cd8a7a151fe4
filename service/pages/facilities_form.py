"""The facilities page (`/offices/{id}/facilities`): every field of `FacilitiesIn`, grouped and
labelled in Chinese, read into that schema and stored by the same `put_facilities` call as
`PUT /api/v1/offices/{id}/facilities`.

"Not recorded" stays distinct from "no": a yes/no is a choice of 未填报/是/否; a set of items
is not recorded until an item or 以上均无 is ticked; a count left empty in every box leaves
the group not recorded; a practice left at 未填报 is unknown. The checklist reads them so."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from service.http.routing import Router
from service.pages.form_errors import field_errors
from service.pages.record_labels import FACILITY_GROUPS, FACILITY_LABELS_ZH, PARTY_CHOICES
from service.pages.record_pages import (
    REFUSED,
    PostedForm,
    PostedRecord,
    RecordPage,
    RecordRequest,
    Refusal,
    SavedNotice,
    ViewedRecord,
    form_value,
    try_save,
)
from service.records import service as records
from service.records.schemas import FacilitiesIn
from service.standards import measures

router = Router(include_in_schema=False)
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
REFUSALS_ZH = {
    "conflict": "该司法所已撤销,记录不能再更改",
    "forbidden": "您的角色不能填报设施装备记录",
}
NONE_AND_ITEMS = "勾选了具体项目,又勾选了“以上均无”"


def _stored_form(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored record as the form shows it."""
    form: dict[str, Any] = {name: form_value(stored.get(name)) for name in (*YES_NO, *NUMBERS)}
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
        form[f"practices.{key}"] = form_value(practices.get(key))
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


def _shows(record: RecordRequest) -> dict[str, Any]:
    """What the facilities page shows besides the shared parts: whether anything is
    recorded yet, and the groups, items and choices of the form."""
    stored = records.get_facilities(
        session=record.session, scope=record.scope, office=record.office
    )
    return {
        "recorded": stored["recorded"],
        "groups": FACILITY_GROUPS,
        "yes_no": YES_NO,
        "numbers": NUMBERS,
        "sets": measures.SET_ITEMS,
        "counts": measures.COUNT_ITEMS,
        "checks": measures.CHECK_ITEMS,
        "party_choices": [("", "未填报"), *PARTY_CHOICES.items()],
        "party_labels": PARTY_CHOICES,
        "tri": [("", "未填报"), ("true", "是"), ("false", "否")],
    }


_page = RecordPage("facilities.html", "facilities", FACILITY_LABELS_ZH, _shows)


def _stored(record: RecordRequest) -> dict[str, Any]:
    return _stored_form(
        records.get_facilities(session=record.session, scope=record.scope, office=record.office)
    )


@router.get("/offices/{office_id}/facilities", response_class=HTMLResponse)
def facilities_page(record: ViewedRecord, notice: SavedNotice) -> HTMLResponse:
    """The facility record as a form (or read only, saying why)."""
    return _page(record, form=_stored(record), notice=notice)


@router.post("/offices/{office_id}/facilities")
def save_facilities(record: PostedRecord) -> Response:
    """Replace the facility record, then the office page with the save and its checklist; or
    this page again with what was typed and, next to each field, why not."""
    office, form = record.office, record.form
    before = record.last_event(ENTITY, office.id)
    body, contradictions = _body(form)

    def save() -> None:
        data = FacilitiesIn.model_validate(body)
        if not contradictions:
            records.put_facilities(
                session=record.session, scope=record.scope, office=office, data=data
            )

    outcome = try_save(
        record.session,
        save,
        refused=lambda exc: Refusal(REFUSALS_ZH.get(exc.code, "未能保存"), exc.status),
        invalid=lambda exc: {**field_errors(exc), **contradictions},
    )
    if contradictions and not isinstance(outcome, Refusal):
        # (the schema took the body; what the page itself found refuses it)
        outcome = Refusal(REFUSED, 422, contradictions)
    if isinstance(outcome, Refusal):
        return _page(record, form=_typed_form(form), refusal=outcome)
    return _page.after_save(record, ENTITY, before, _stored)
