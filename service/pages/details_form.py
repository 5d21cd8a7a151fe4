"""The office-details page (`/offices/{id}/details`): name, address, phone, area, opening date,
staff numbers and the point, with a small map of the township — read into the API's own
`OfficeUpdate` and stored by the same `update_office` call as `PATCH /api/v1/offices/{id}`,
with the version the page was drawn from as its If-Match.

Only what was changed on the page is sent, so an office's own staff (who may change contact
and premises, not name or place) can save the page, and a save that changes nothing writes
nothing. The map needs JavaScript; the form does not."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.core.errors import DomainError
from service.divisions.service import list_divisions
from service.http.routing import Router
from service.offices import service as offices
from service.offices.models import Office
from service.offices.queries import office_out
from service.offices.schemas import OfficeUpdate
from service.pages.form_errors import field_errors, refused_fields
from service.pages.record_labels import CRS_CHOICES, OFFICE_LABELS_ZH
from service.pages.record_pages import (
    REFUSED,
    PostedForm,
    PostedRecord,
    RecordPage,
    RecordRequest,
    Refusal,
    SavedNotice,
    ViewedRecord,
    edit_refusal,
    form_value,
    try_save,
)
from service.records.service import staff_list_counts

router = Router(include_in_schema=False)
TEXTS = ("name", "address", "phone", "area_m2", "opened_on", "exception_reason")
STAFF_NUMBERS = ("staff_total", "staff_formal", "staff_civil_servants")
WGS84 = "EPSG:4326"
# refusals of the whole form, by the domain error's code: (why, the page's status)
REFUSALS_ZH = {
    "precondition_failed": (
        "保存前此司法所已被他人修改。下方保留了您填写的内容;请到司法所页面核对最新情况,"
        "确认后再次提交,将以您填写的为准。",
        409,
    ),
    "conflict": ("该司法所已撤销,基本情况不能再更改。", 409),
    "division_not_found": ("该司法所登记的乡镇(街道)已不是现行区划,请联系县(市、区)司法局。", 422),
}
# refusals of one field, by the domain error's code
FIELD_REFUSALS_ZH = {
    "invalid_location": "该点不在本省任何乡镇(街道)内,或不是国内的有效坐标:请核对经纬度和坐标系",
    "division_mismatch": "该点不在所登记的乡镇(街道)内",
    "township_has_office": "该点所在的乡镇(街道)已有司法所;一个乡镇(街道)只设一个司法所",
    "forbidden": "该点在您的辖区以外",
    "conflict": "本所已有工作人员名单,人数按名单自动计算:请在“工作人员”页增减人员",
    "invalid": "不能大于在岗人数",
}


def _stored(record: RecordRequest) -> dict[str, str]:
    out = office_out(session=record.session, scope=record.scope, office_id=record.office.id)
    form = {name: form_value(getattr(out, name)) for name in (*TEXTS, *STAFF_NUMBERS)}
    form.update(
        lon=f"{out.location.lon:.7f}",
        lat=f"{out.location.lat:.7f}",
        crs=WGS84,
        version=str(out.version),
    )
    return form


def _editable(scope: Scope, office: Office, session: Session) -> set[str]:
    """The fields this user may change on the page (none: read only)."""
    if edit_refusal(scope, office):
        return set()
    fields = {"address", "phone", "area_m2", "opened_on"}
    if not staff_list_counts(session=session, tenant_id=office.tenant_id, office_ids=[office.id]):
        fields |= set(STAFF_NUMBERS)  # (an office with a staff list: its list says them)
    if scope.role is not Role.office_staff:
        fields |= {"name", "exception_reason", "location"}
    return fields


def _update(form: PostedForm, stored: dict[str, str]) -> dict[str, Any]:
    """The PATCH body: the fields the page offered whose typed value differs from the stored
    one (an emptied field clears it), and the point if moved or typed in another CRS."""
    body: dict[str, Any] = {}
    for name in (*TEXTS, *STAFF_NUMBERS):
        if name in form and form.one(name) != stored[name]:
            body[name] = form.one(name) or None
    if "lon" in form or "lat" in form:
        lon, lat, crs = form.one("lon"), form.one("lat"), form.one("crs") or WGS84
        if (lon, lat, crs) != (stored["lon"], stored["lat"], WGS84):
            body["location"] = {"lon": lon or None, "lat": lat or None, "crs": crs}
    return body


def _township_geometry(session: Session, scope: Scope, code: str) -> Any:
    _, rows = list_divisions(
        session=session,
        tenant_id=scope.tenant_id,
        prefix=code,
        level="township",
        kind=None,
        as_of=None,
        limit=1,
        offset=0,
        with_geometry=True,
    )
    return json.loads(rows[0]["geometry"]) if rows and rows[0]["geometry"] else None


def _shows(record: RecordRequest) -> dict[str, Any]:
    """What the details page shows besides the shared parts: the office as read, the
    fields this user may change, and the map of the township."""
    session, scope, office = record.session, record.scope, record.office
    detail = office_out(session=session, scope=scope, office_id=office.id)
    editable = _editable(scope, office, session)
    return {
        "office": detail,
        "editable": editable,
        "staff_from_list": bool(
            staff_list_counts(session=session, tenant_id=office.tenant_id, office_ids=[office.id])
        ),
        "crs_choices": CRS_CHOICES,
        "map_data": {
            "lon": detail.location.lon,
            "lat": detail.location.lat,
            "editable": "location" in editable,
            "township": _township_geometry(session, scope, detail.division.code),
        },
    }


_page = RecordPage("details.html", "details", OFFICE_LABELS_ZH, _shows)


@router.get("/offices/{office_id}/details", response_class=HTMLResponse)
def details_page(record: ViewedRecord, notice: SavedNotice) -> HTMLResponse:
    """The office's details as a form (or read only, saying why), with the notice of a save."""
    return _page(record, form=_stored(record), notice=notice)


def _point_errors(exc: ValidationError) -> dict[str, str]:
    # (the point's parts are inputs of their own on the page)
    return {k.removeprefix("location."): v for k, v in field_errors(exc).items()}


@router.post("/offices/{office_id}/details")
def save_details(record: PostedRecord) -> Response:
    """Store the changed details, then the office page with the save's notice at the top; or
    this page again with what was typed and, next to each field, why not."""
    office, form = record.office, record.form
    stored = _stored(record)
    before = record.last_event(["offices"], office.id)

    def save() -> None:
        offices.update_office(
            session=record.session,
            scope=record.scope,
            office=office,
            data=OfficeUpdate.model_validate(_update(form, stored)),
            if_match=f'"{form.one("version")}"',
        )

    outcome = try_save(
        record.session,
        save,
        refused=lambda exc: _refused(exc, record.scope),
        invalid=_point_errors,
    )
    if isinstance(outcome, Refusal):
        record.session.refresh(office)
        typed = {**stored, **form.singles(), "version": str(office.version)}
        return _page(record, form=typed, refusal=outcome)
    return _page.after_save(record, ["offices"], before, _stored)


def _refused(exc: DomainError, scope: Scope) -> Refusal:
    """Why at the top, the page's status and why by field, of a domain error."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if exc.code == "forbidden":
        if not scope.can(Action.update_office):
            return Refusal("您的角色不能修改司法所基本情况", 403)
        if scope.role is Role.office_staff:
            return Refusal("司法所工作人员不能修改名称和位置,请联系县(市、区)司法局", 403)
        return Refusal(REFUSED, 403, {"location": FIELD_REFUSALS_ZH["forbidden"]})
    if exc.code == "name_convention":
        expected = details.get("expected", "")
        why_name = f"名称应为“{expected}”(XX县(市、区)司法局XX司法所)"
        return Refusal(REFUSED, exc.status, {"name": why_name})
    if exc.code in ("invalid_location", "division_mismatch", "township_has_office"):
        why = FIELD_REFUSALS_ZH[exc.code]
        if "swap" in exc.message:  # (the service found the point with lon and lat swapped)
            why += "(经度和纬度可能填反了)"
        return Refusal(REFUSED, exc.status, {"location": why})
    fields = refused_fields(exc)
    if fields and exc.code in ("conflict", "invalid"):
        return Refusal(REFUSED, exc.status, {fields[0]: FIELD_REFUSALS_ZH[exc.code]})
    why, status = REFUSALS_ZH.get(exc.code, ("未能保存", exc.status))
    return Refusal(why, status)
