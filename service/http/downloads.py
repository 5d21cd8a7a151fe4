"""Report rows as a file to save: the bytes from `service/core/exports.py`, the response here."""

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
    name = f"{filename}.{fmt}"
    disposition = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
