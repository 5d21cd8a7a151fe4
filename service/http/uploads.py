"""Receiving uploaded files: size-limited copy to a temporary file, type checked by content."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from service.core.errors import PayloadTooLarge

_CHUNK = 1024 * 1024
_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,9}")


@contextmanager
def spooled_upload(upload: UploadFile, *, max_bytes: int) -> Iterator[Path]:
    """The upload saved to a private temporary file (deleted afterwards); 413 past `max_bytes`."""
    workdir = Path(tempfile.mkdtemp(prefix="registry-upload-"))
    # the client's suffix, only when it is a plain one: a NUL in it would fail open() (a 500)
    suffix = Path(upload.filename or "upload").suffix.lower()
    target = workdir / ("upload" + (suffix if _PLAIN_SUFFIX.fullmatch(suffix) else ""))
    try:
        written = 0
        with open(target, "wb") as out:
            while chunk := upload.file.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise PayloadTooLarge(
                        f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB",
                        {"limit_bytes": max_bytes},
                    )
                out.write(chunk)
        yield target
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
