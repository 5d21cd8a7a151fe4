"""An uploaded file stored as an office's evidence — the one path of the API's upload and the
evidence page's: copied to a private temporary file under the settings' size limit (413
past it), then checked and stored by `add_evidence`."""

from __future__ import annotations

from fastapi import UploadFile
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.settings import Settings
from service.http.uploads import spooled_upload
from service.offices.models import Office
from service.records import evidence
from service.records.models import EvidenceFile


def store_upload(
    *,
    session: Session,
    scope: Scope,
    office: Office,
    settings: Settings,
    file: UploadFile,
    description: str | None,
) -> EvidenceFile:
    """The uploaded file as the office's new evidence row."""
    with spooled_upload(file, max_bytes=settings.max_evidence_mb * 1024 * 1024) as path:
        return evidence.add_evidence(
            session=session,
            scope=scope,
            office=office,
            var_dir=settings.var_dir,
            upload=path,
            filename=file.filename,
            description=description,
        )
