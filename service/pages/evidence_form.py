"""The evidence page (`/offices/{id}/evidence`): the office's files with download links, and
an upload form checked and stored by the same calls as `POST /api/v1/offices/{id}/evidence`
(the size limit of `spooled_upload`, the kind by content and the file name of `add_evidence`).

An upload comes back with `?uploaded=<file id>`: the notice is that file as stored for this
office (name, who, when), never text from the URL."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.errors import DomainError
from service.http.evidence_upload import store_upload
from service.http.routing import Router
from service.pages.form_errors import refused_fields
from service.pages.record_pages import (
    BEIJING,
    Notice,
    PostedRecord,
    RecordPage,
    RecordRequest,
    Refusal,
    ViewedRecord,
    saved_id,
    try_save,
)
from service.records import evidence
from service.records.evidence import EvidenceNotFound

router = Router(include_in_schema=False)
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
    record: ViewedRecord, uploaded: Annotated[str | None, Query(max_length=20)] = None
) -> Notice | None:
    """The notice of the file an upload was sent back with (`?uploaded=`)."""
    file_id = saved_id(uploaded)
    if file_id is None:
        return None
    try:
        row = evidence.get_evidence(
            session=record.session, scope=record.scope, office=record.office, evidence_id=file_id
        )
    except EvidenceNotFound:
        return None
    return Notice(
        what=f"已上传证明材料:{evidence.served_name(row)}",
        at=row.uploaded_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        who=row.uploaded_by,
    )


def _shows(record: RecordRequest) -> dict[str, Any]:
    """What the evidence page shows besides the shared parts: the files and the size limit."""
    rows = evidence.list_evidence(session=record.session, scope=record.scope, office=record.office)
    return {
        "files": [evidence.evidence_out(r) for r in rows],
        "size": _size,
        "local": lambda t: t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        "max_mb": record.settings.max_evidence_mb,
    }


_page = RecordPage("evidence.html", "evidence", LABELS_ZH, _shows)


@router.get("/offices/{office_id}/evidence", response_class=HTMLResponse)
def evidence_page(
    record: ViewedRecord, notice: Annotated[Notice | None, Depends(_uploaded_notice)]
) -> HTMLResponse:
    """The office's evidence files and, for those who may add one, the upload form."""
    return _page(record, form={}, notice=notice)


def _refused(exc: DomainError, max_mb: int) -> Refusal:
    if exc.code == "payload_too_large":
        return Refusal(REFUSED, exc.status, {"file": f"文件超过 {max_mb} MB 的限制"})
    fields = refused_fields(exc)
    if fields:
        return Refusal(
            REFUSED, exc.status, {fields[0]: FIELD_REFUSALS_ZH.get(exc.code, "填写有误")}
        )
    return Refusal(REFUSALS_ZH.get(exc.code, "未能上传"), exc.status)


@router.post("/offices/{office_id}/evidence")
def upload_evidence(
    record: PostedRecord,
    file: Annotated[UploadFile | None, File()] = None,
    description: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Store the file, then the list with it announced; or the form again saying why not."""
    typed = {"description": (description or "").strip()}
    if file is None or not file.filename:
        refusal = Refusal(REFUSED, 422, {"file": "请选择要上传的文件"})
        return _page(record, form=typed, refusal=refusal)
    upload = file  # (narrowed, for the save)

    def save() -> evidence.EvidenceFile:
        # the blob is written only after every check passed
        return store_upload(
            session=record.session,
            scope=record.scope,
            office=record.office,
            settings=record.settings,
            file=upload,
            description=typed["description"] or None,
        )

    outcome = try_save(
        record.session,
        save,
        refused=lambda exc: _refused(exc, record.settings.max_evidence_mb),
    )
    if isinstance(outcome, Refusal):
        return _page(record, form=typed, refusal=outcome)
    return RedirectResponse(
        f"/offices/{record.office.id}/evidence?uploaded={outcome.id}", status_code=303
    )
