"""Table exports for people: CSV (UTF-8 with BOM, so Excel opens it), XLSX (openpyxl) and
GeoJSON, with Chinese column headers and, where boundaries are generated, a notice.

Every export goes through `render`, so this is where stored strings are kept from becoming
spreadsheet formulas (OWASP, CSV injection): a string that starts with = + - @ tab or CR —
or their full-width forms — is a plain string cell with the quote-prefix style in XLSX
(shown exactly as typed; editing it cannot turn it into a formula) and starts with an
apostrophe in CSV. Numbers stay numbers. Sheet titles made from stored strings are made
valid here too.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

Format = Literal["json", "csv", "xlsx", "geojson"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


# LibreOffice 7.4 reads none of the full-width forms as a formula (checked: its CSV import
# keeps "＝1+2" as text), but Excel and WPS convert full-width input to half-width in CJK
# locales, and neutralising them costs nothing visible in XLSX.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
SHEET_TITLE_MAX = 31


def formula_like(value: Any) -> bool:
    """A string a spreadsheet would read as a formula (a number is never one)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def sheet_title(text: str, taken: set[str]) -> str:
    """A valid sheet title from any text: no : \\ / ? * [ ], at most 31 characters, no
    apostrophe at either end, not empty, unlike `taken` (compared without case, as Excel
    does); adds it to `taken`."""
    base = SHEET_TITLE_FORBIDDEN.sub("_", text)[:SHEET_TITLE_MAX].strip("'") or "数据"
    title, n = base, 1
    while title.casefold() in {t.casefold() for t in taken}:
        n += 1
        suffix = f"({n})"
        title = base[: SHEET_TITLE_MAX - len(suffix)].rstrip("'") + suffix
    taken.add(title)
    return title


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


def cell_of(row: Any, key: str) -> Any:
    """A row's value by column key: a report row's attribute (coverage/rows.py), or the item
    of a dict (reports not yet given a row type)."""
    return row.get(key) if isinstance(row, dict) else getattr(row, key)


def fields_of(row: Any) -> dict[str, Any]:
    """A row as a dict (nested row types too)."""
    return row if isinstance(row, dict) else asdict(row)


def _values(row: Any, columns: Sequence[Column]) -> list[Any]:
    out = []
    for c in columns:
        value = cell_of(row, c.key)
        out.append(_cell(c.render(value) if c.render else value))
    return out


def csv_bytes(rows: Sequence[Any], columns: Sequence[Column], note: str | None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if note:
        writer.writerow([f"# {note}"])
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow(
            ["" if v is None else "'" + v if formula_like(v) else v for v in _values(row, columns)]
        )
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def xlsx_bytes(
    rows: Sequence[Any], columns: Sequence[Column], note: str | None, title: str
) -> bytes:
    from openpyxl import Workbook  # (loaded for a spreadsheet only: it costs 0.25 s)

    wb = Workbook(write_only=True)
    taken: set[str] = set()
    ws = wb.create_sheet(sheet_title(title, taken))
    ws.append([c.header for c in columns])
    for row in rows:
        ws.append([_xlsx_cell(ws, v) for v in _values(row, columns)])
    if note:
        about = wb.create_sheet(sheet_title("说明", taken))
        about.append([_xlsx_cell(about, note)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(ws: Worksheet, value: Any) -> Any:
    if not formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"  # openpyxl makes any string starting with "=" a formula
    cell.quotePrefix = True
    return cell


def feature_collection(
    rows: Sequence[Any], geometry: Callable[[Any], Any], note: str | None
) -> dict[str, Any]:
    features = []
    for row in rows:
        geom = geometry(row)
        props = {
            k: _cell(v) if not isinstance(v, list | tuple | dict) else v
            for k, v in fields_of(row).items()
        }
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
    rows: Sequence[Any],
    columns: Sequence[Column],
    *,
    title: str,
    note: str | None = None,
    geometry: Callable[[Any], Any] | None = None,
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
