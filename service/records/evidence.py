"""Evidence files (photos, PDFs) of an office: uploads checked before anything is written
(kind by content, file name, description: `evidence_input`), bytes stored once per hash
(`blobs`), rows that are never updated or deleted, and content served under a clean name.

A refused upload leaves nothing behind: everything that can be refused is checked before the
bytes are written, and if the database refuses the row later (or anything else fails before
the request's commit), the blob is released once the transaction has rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.db import after_rollback
from service.core.errors import NotFound, UnsupportedMediaType
from service.offices.models import Office
from service.records.blobs import blob_path, digest, lock_blob, release_blob, write_blob
from service.records.evidence_input import (
    check_filename,
    check_text,
    clean_filename,
    kind_of,
    sniff,
)
from service.records.models import EvidenceFile
from service.records.service import require_editor


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"


def add_evidence(
    *,
    session: Session,
    scope: Scope,
    office: Office,
    var_dir: Path,
    upload: Path,
    filename: str | None,
    description: str | None,
) -> EvidenceFile:
    require_editor(scope, office)
    check_filename(filename)
    check_text(description, field="description")
    sha, size = digest(upload)
    if size == 0:
        raise UnsupportedMediaType("file: the file is empty", {"field": "file"})
    kind = sniff(upload)
    lock_blob(session, sha)  # held until this request's transaction ends
    after_rollback(session, partial(release_blob, session=session, var_dir=var_dir, sha256=sha))
    write_blob(var_dir, sha, upload)
    row = EvidenceFile(
        tenant_id=scope.tenant_id,
        office_id=office.id,
        sha256=sha,
        filename=clean_filename(filename, kind),
        content_type=kind.content_type,
        size_bytes=size,
        description=description,
        uploaded_by=scope.username,
    )
    session.add(row)
    session.flush()
    return row


def list_evidence(*, session: Session, scope: Scope, office: Office) -> list[EvidenceFile]:
    scope.require(Action.read)
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.tenant_id == scope.tenant_id, EvidenceFile.office_id == office.id)
            .order_by(EvidenceFile.id)
        )
    )


def get_evidence(
    *, session: Session, scope: Scope, office: Office, evidence_id: int
) -> EvidenceFile:
    scope.require(Action.read)
    row = session.get(EvidenceFile, (scope.tenant_id, evidence_id))
    if row is None or row.office_id != office.id:
        raise EvidenceNotFound(f"no evidence file {evidence_id} for office {office.id}")
    return row


@dataclass(frozen=True)
class EvidenceContent:
    path: Path
    content_type: str
    filename: str


def evidence_content(
    *, session: Session, scope: Scope, office: Office, evidence_id: int, var_dir: Path
) -> EvidenceContent:
    """The stored bytes of one of the office's files, with the name to serve them under."""
    row = get_evidence(session=session, scope=scope, office=office, evidence_id=evidence_id)
    path = blob_path(var_dir, row.sha256)
    if not path.exists():
        raise EvidenceNotFound(
            f"the stored bytes of evidence file {evidence_id} are missing; restore var/evidence"
        )
    return EvidenceContent(path, row.content_type, served_name(row))


def served_name(row: EvidenceFile) -> str:
    """The row's name cleaned again: rows stored before names were cleaned are served safely
    too (for the others it is the stored name)."""
    return clean_filename(row.filename, kind_of(row.content_type))


def check_evidence_ids(*, session: Session, scope: Scope, office: Office, ids: list[int]) -> None:
    """Evidence a workflow step cites must be files of this office."""
    if not ids:
        return
    found = set(
        session.scalars(
            select(EvidenceFile.id).where(
                EvidenceFile.tenant_id == scope.tenant_id,
                EvidenceFile.office_id == office.id,
                EvidenceFile.id.in_(ids),
            )
        )
    )
    missing = sorted(set(ids) - found)
    if missing:
        raise EvidenceNotFound(
            f"evidence_ids: no evidence files {missing} for office {office.id}",
            {"field": "evidence_ids", "missing": missing},
        )


def evidence_out(row: EvidenceFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "office_id": row.office_id,
        "filename": served_name(row),
        "content_type": row.content_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "description": row.description,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": row.uploaded_at,
        "href": f"/api/v1/offices/{row.office_id}/evidence/{row.id}/content",
    }
