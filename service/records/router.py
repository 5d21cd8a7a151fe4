"""HTTP routes of office records: facilities, staff, evidence files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Path, UploadFile
from fastapi.responses import FileResponse

from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.evidence_upload import store_upload
from service.http.routing import Router
from service.offices.dependencies import MAX_ID, ValidOffice
from service.records import evidence, service
from service.records.schemas import (
    EvidenceOut,
    FacilitiesIn,
    FacilitiesOut,
    StaffIn,
    StaffLeave,
    StaffOut,
    StaffUpdate,
)

router = Router(prefix="/api/v1/offices/{office_id}", tags=["office records"])
StaffId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/facilities", response_model=FacilitiesOut)
def get_facilities(office: ValidOffice, scope: CurrentScope, session: SessionDep) -> Any:
    """Premises, rooms, equipment, vehicles, certificates, registers, systems, work results."""
    return service.get_facilities(session=session, scope=scope, office=office)


@router.put("/facilities", response_model=FacilitiesOut)
def put_facilities(
    data: FacilitiesIn, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Any:
    """Replace the facility record (office staff and the county bureau)."""
    return service.put_facilities(session=session, scope=scope, office=office, data=data)


@router.get("/staff", response_model=list[StaffOut])
def list_staff(
    office: ValidOffice, scope: CurrentScope, session: SessionDep, include_left: bool = False
) -> Any:
    """The office's staff; names, phones and education only for roles that need them."""
    return service.list_staff(
        session=session, scope=scope, office=office, include_left=include_left
    )


@router.post("/staff", response_model=StaffOut, status_code=201)
def add_staff(data: StaffIn, office: ValidOffice, scope: CurrentScope, session: SessionDep) -> Any:
    return service.add_staff(session=session, scope=scope, office=office, data=data)


@router.get("/staff/{staff_id}", response_model=StaffOut)
def get_staff(
    staff_id: StaffId, office: ValidOffice, scope: CurrentScope, session: SessionDep
) -> Any:
    return service.get_staff(session=session, scope=scope, office=office, staff_id=staff_id)


@router.patch("/staff/{staff_id}", response_model=StaffOut)
def update_staff(
    staff_id: StaffId,
    data: StaffUpdate,
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
) -> Any:
    return service.update_staff(
        session=session, scope=scope, office=office, staff_id=staff_id, data=data
    )


@router.post("/staff/{staff_id}/leave", response_model=StaffOut)
def staff_leaves(
    staff_id: StaffId,
    data: StaffLeave,
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
) -> Any:
    """Record that a member of staff left (the record is kept)."""
    return service.staff_leaves(
        session=session, scope=scope, office=office, staff_id=staff_id, data=data
    )


@router.get("/evidence", response_model=list[EvidenceOut])
def list_evidence(office: ValidOffice, scope: CurrentScope, session: SessionDep) -> Any:
    rows = evidence.list_evidence(session=session, scope=scope, office=office)
    return [evidence.evidence_out(r) for r in rows]


@router.post("/evidence", response_model=EvidenceOut, status_code=201)
def add_evidence(
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="a photo (JPEG, PNG) or a PDF")],
    description: Annotated[str | None, Form(max_length=500)] = None,
) -> Any:
    """Upload an evidence file (checked by content; size limited by max_evidence_mb)."""
    row = store_upload(
        session=session,
        scope=scope,
        office=office,
        settings=settings,
        file=file,
        description=description,
    )
    return evidence.evidence_out(row)


# Stored content is whatever an office uploaded: a PDF may carry HTML or script. It is only
# ever downloaded (attachment), and if a browser renders it all the same, in a sandbox with no
# scripts, no origin and nothing to load (nosniff comes with every response).
CONTENT_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


@router.get("/evidence/{evidence_id}/content", response_class=FileResponse)
def evidence_content(
    evidence_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    office: ValidOffice,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """The file's bytes, as an attachment named with an extension matching its content."""
    content = evidence.evidence_content(
        session=session,
        scope=scope,
        office=office,
        evidence_id=evidence_id,
        var_dir=settings.var_dir,
    )
    return FileResponse(
        content.path,
        media_type=content.content_type,
        filename=content.filename,
        content_disposition_type="attachment",
        headers={"Content-Security-Policy": CONTENT_CSP},
    )
