"""Table exports for people: CSV (UTF-8 with BOM, so Excel opens it), XLSX (openpyxl) and
GeoJSON, with Chinese column headers and, where boundaries are generated, a notice."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook

Format = Literal["json", "csv", "xlsx", "geojson"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Chinese, for people
    render: Callable[[Any], Any] | None = None


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _values(row: dict[str, Any], columns: Sequence[Column]) -> list[Any]:
    out = []
    for c in columns:
        value = row.get(c.key)
        out.append(_cell(c.render(value) if c.render else value))
    return out


def csv_bytes(rows: list[dict[str, Any]], columns: Sequence[Column], note: str | None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if note:
        writer.writerow([f"# {note}"])
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else v for v in _values(row, columns)])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def xlsx_bytes(
    rows: list[dict[str, Any]], columns: Sequence[Column], note: str | None, title: str
) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31] or "数据")
    ws.append([c.header for c in columns])
    for row in rows:
        ws.append(_values(row, columns))
    if note:
        about = wb.create_sheet("说明")
        about.append([note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def feature_collection(
    rows: list[dict[str, Any]], geometry: Callable[[dict[str, Any]], Any], note: str | None
) -> dict[str, Any]:
    features = []
    for row in rows:
        geom = geometry(row)
        props = {k: _cell(v) if not isinstance(v, list | dict) else v for k, v in row.items()}
        props.pop("geometry", None)
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geom) if isinstance(geom, str) else geom,
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features, "note": note}


def render(
    fmt: Format,
    rows: list[dict[str, Any]],
    columns: Sequence[Column],
    *,
    title: str,
    note: str | None = None,
    geometry: Callable[[dict[str, Any]], Any] | None = None,
) -> bytes:
    """The rows as the bytes of a CSV, XLSX or GeoJSON file."""
    if fmt == "csv":
        return csv_bytes(rows, columns, note)
    if fmt == "xlsx":
        return xlsx_bytes(rows, columns, note, title)
    if fmt == "geojson":
        if geometry is None:
            raise ValueError("this table has no geometry")
        return json.dumps(feature_collection(rows, geometry, note), ensure_ascii=False).encode()
    raise ValueError(f"not a file format: {fmt}")


def download(
    fmt: Format,
    rows: list[dict[str, Any]],
    columns: Sequence[Column],
    *,
    filename: str,
    note: str | None = None,
    geometry: Callable[[dict[str, Any]], Any] | None = None,
) -> Response:
    """The rows as a file to save (Content-Disposition names it, in Chinese if need be)."""
    body = render(fmt, rows, columns, title=filename, note=note, geometry=geometry)
    name = f"{filename}.{fmt}"
    disposition = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
