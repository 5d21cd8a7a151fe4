"""The evidence page (`/offices/{id}/evidence`): the office's files with download links, and
an upload form checked and stored by the same calls as `POST /api/v1/offices/{id}/evidence`
(the size limit of `spooled_upload`, the kind by content and the file name of `add_evidence`).

An upload comes back with `?uploaded=<file id>`: the notice is that file as stored for this
office (name, who, when), never text from the URL."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import DomainError
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.uploads import spooled_upload
from service.offices.dependencies import ValidOffice
from service.offices.models import Office
from service.offices.queries import office_out
from service.pages.form_errors import refused_fields, summary
from service.pages.forms import csrf_token, form_scope
from service.pages.record_pages import BEIJING, Notice, edit_refusal, posted_office, saved_id
from service.pages.templating import render
from service.records import evidence
from service.records.evidence import EvidenceNotFound

router = APIRouter(include_in_schema=False)
LABELS_ZH = {"file": "文件", "description": "说明"}
REFUSED = "未能上传,请按提示修改后再提交"
REFUSALS_ZH = {
    "conflict": "该司法所已撤销,不能再上传证明材料",
    "forbidden": "您的角色不能上传证明材料",
}
FIELD_REFUSALS_ZH = {  # by the domain error's code
    "unsupported_media_type": "只接受 PDF、JPEG、PNG 文件(按文件内容识别),且文件不能为空",
    "forbidden_character": "含有控制字符或改变文字方向的不可见字符",
}


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _uploaded_notice(
    session: Session, scope: Scope, office: Office, raw: str | None
) -> Notice | None:
    file_id = saved_id(raw)
    if file_id is None:
        return None
    try:
        row = evidence.get_evidence(
            session=session, scope=scope, office=office, evidence_id=file_id
        )
    except EvidenceNotFound:
        return None
    return Notice(
        what=f"已上传证明材料:{evidence.served_name(row)}",
        at=row.uploaded_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        who=row.uploaded_by,
    )


def _page(
    *,
    session: Session,
    scope: Scope,
    office: Office,
    settings: Any,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    notice: Notice | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    rows = evidence.list_evidence(session=session, scope=scope, office=office)
    response = render(
        "evidence.html",
        scope,
        session,
        office=office_out(session=session, scope=scope, office_id=office.id),
        section="evidence",
        files=[evidence.evidence_out(r) for r in rows],
        size=_size,
        local=lambda t: t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        form=form,
        errors=errors,
        problems=summary(errors, LABELS_ZH),
        refusal=refusal,
        notice=notice,
        readonly=edit_refusal(scope, office),
        max_mb=settings.max_evidence_mb,
        csrf=csrf_token(settings, scope),
    )
    response.status_code = status
    return response


@router.get("/offices/{office_id}/evidence", response_class=HTMLResponse)
def evidence_page(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    uploaded: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The office's evidence files and, for those who may add one, the upload form."""
    return _page(
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form={},
        notice=_uploaded_notice(session, scope, office, uploaded),
    )


@router.post("/offices/{office_id}/evidence")
def upload_evidence(
    office_id: int,
    session: SessionDep,
    settings: SettingsDep,
    scope: Annotated[Scope, Depends(form_scope)],
    file: Annotated[UploadFile | None, File()] = None,
    description: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Store the file, then the list with it announced; or the form again saying why not."""
    office = posted_office(session, scope, office_id)
    errors: dict[str, str] = {}
    refusal, status = REFUSED, 422
    typed = {"description": (description or "").strip()}
    if file is None or not file.filename:
        errors = {"file": "请选择要上传的文件"}
    else:
        try:
            # (a savepoint: a refusal undoes the attempt and keeps the request's transaction
            # for showing the page again; the blob is written only after every check passed)
            limit = settings.max_evidence_mb * 1024 * 1024
            with session.begin_nested(), spooled_upload(file, max_bytes=limit) as path:
                row = evidence.add_evidence(
                    session=session,
                    scope=scope,
                    office=office,
                    var_dir=settings.var_dir,
                    upload=path,
                    filename=file.filename,
                    description=typed["description"] or None,
                )
        except DomainError as exc:
            status = exc.status
            fields = refused_fields(exc) or (["file"] if exc.code == "payload_too_large" else [])
            if exc.code == "payload_too_large":
                errors = {"file": f"文件超过 {settings.max_evidence_mb} MB 的限制"}
            elif fields:
                errors = {fields[0]: FIELD_REFUSALS_ZH.get(exc.code, "填写有误")}
            else:
                refusal = REFUSALS_ZH.get(exc.code, "未能上传")
        else:
            return RedirectResponse(
                f"/offices/{office.id}/evidence?uploaded={row.id}", status_code=303
            )
    return _page(
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        form=typed,
        errors=errors,
        refusal=refusal,
        status=status,
    )
