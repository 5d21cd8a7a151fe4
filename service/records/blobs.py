"""Evidence bytes on disk: stored once per SHA-256 at var/evidence/<2 hex>/<sha256> and shared
by every row, of any tenant, that holds the same bytes.

- Written to a temporary name, fsynced and renamed, so a crash never leaves half a file where
  the database says one is.
- A stored row always has its bytes: an upload holds a PostgreSQL advisory lock on the hash
  from before it writes until its transaction ends, and only the clean-up after a failed
  upload removes a blob, under the same lock, once no row of any tenant uses it. Whatever
  the order of a failing and a succeeding upload of the same bytes, the clean-up either runs
  before the other writes (which then writes the blob again) or sees its committed row.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.db import advisory_lock

_CHUNK = 1024 * 1024


def blob_path(var_dir: Path, sha256: str) -> Path:
    return var_dir / "evidence" / sha256[:2] / sha256


def digest(path: Path) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size in bytes."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def lock_blob(session: Session, sha256: str) -> None:
    """Serialise writers and removers of one blob until the session's transaction ends."""
    advisory_lock(session, "evidence-blob", int(sha256[:15], 16))


def write_blob(var_dir: Path, sha256: str, source: Path) -> None:
    """Put `source` in place as the blob `sha256` unless it is there already (caller holds the
    lock). A partial copy is removed if anything fails."""
    target = blob_path(var_dir, sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: no two writers ever share a partial file
    partial = target.parent / f".{sha256}.{secrets.token_hex(8)}.part"
    try:
        with open(source, "rb") as src, open(partial, "xb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


_IN_USE = text("SELECT evidence_blob_in_use(:sha256)")


def release_blob(*, session: Session, var_dir: Path, sha256: str) -> None:
    """After a failed upload (its transaction rolled back): remove the blob unless a row uses it.

    The rows of every tenant count, which row-level security would hide from this session;
    `evidence_blob_in_use` (SECURITY DEFINER) answers yes or no for one hash. The check is its
    own statement after the lock is granted, so under READ COMMITTED it sees every upload that
    committed before. The transaction is rolled back at the end, which releases the lock.
    """
    try:
        lock_blob(session, sha256)
        if not session.scalar(_IN_USE, {"sha256": sha256}):
            blob_path(var_dir, sha256).unlink(missing_ok=True)
    finally:
        session.rollback()
