"""Files to save: report rows (the bytes from `service/core/exports.py`) and printed maps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from service.core.exports import MEDIA, Column, Format, render


def download(
    fmt: Format,
    rows: Sequence[Any],
    columns: Sequence[Column],
    *,
    filename: str,
    note: str | None = None,
    geometry: Callable[[Any], Any] | None = None,
) -> Response:
    """The rows as a file to save (Content-Disposition names it, in Chinese if need be)."""
    body = render(fmt, rows, columns, title=filename, note=note, geometry=geometry)
    return attachment(body, MEDIA[fmt], filename, fmt)


def attachment(body: bytes, media_type: str, filename: str, ext: str) -> Response:
    """A file to save, named `filename.ext` (in Chinese if need be: RFC 6266's filename*,
    with a plain ASCII name for clients that read only `filename`)."""
    name = quote(f"{filename}.{ext}", safe="")
    disposition = f"attachment; filename=\"export.{ext}\"; filename*=UTF-8''{name}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})
