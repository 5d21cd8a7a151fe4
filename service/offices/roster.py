"""Reading a legacy office roster (XLSX or CSV, the way bureaus keep their lists).

Unlike the API, a roster is stored as it is: rule violations (a point outside its
township, a second office in a township, a name off the convention) are flagged, not
refused. Malformed rows — a number that is not one, an unknown township code, no name —
are reported by row and column and not stored. A file that cannot be read at all is
refused whole. See `roster_store.py` for storing and flagging.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from service.offices.schemas import POINT_CRS_ALIASES

MAX_ROWS = 20_000

# field → (template header, accepted headers); headers compare without spaces and brackets
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "external_id": ("编号", ("编号", "external_id", "所编号")),
    "name": ("司法所名称", ("司法所名称", "名称", "name")),
    "division_code": (
        "乡镇(街道)代码",
        ("乡镇(街道)代码", "乡镇代码", "区划代码", "division_code"),
    ),
    "township_name": ("乡镇(街道)名称", ("乡镇(街道)名称", "乡镇名称", "township_name")),
    "lon": ("经度", ("经度", "lon", "longitude")),
    "lat": ("纬度", ("纬度", "lat", "latitude")),
    "crs": ("坐标系", ("坐标系", "crs")),
    "address": ("地址", ("地址", "address")),
    "phone": ("电话", ("电话", "联系电话", "phone")),
    "staff_total": ("在岗人数", ("在岗人数", "人数", "staff_total")),
    "staff_formal": ("在编人数", ("在编人数", "staff_formal")),
    "staff_civil_servants": ("公务员人数", ("公务员人数", "staff_civil_servants")),
    "area_m2": ("办公用房面积(平方米)", ("办公用房面积(平方米)", "面积", "办公面积", "area_m2")),
    "opened_on": ("成立日期", ("成立日期", "opened_on")),
}
REQUIRED = ("name", "division_code", "lon", "lat")
EXAMPLE = {
    "external_id": "XZ-001",
    "name": "新郑市司法局新村司法所",
    "division_code": "410184101",
    "township_name": "新村镇",
    "lon": 113.7,
    "lat": 34.43,
    "crs": "WGS84",
    "address": "新郑市新村镇政府院内",
    "phone": "0371-62691234",
    "staff_total": 4,
    "staff_formal": 3,
    "staff_civil_servants": 1,
    "area_m2": 135,
    "opened_on": "2005-06-01",
}


class UnreadableRoster(ValueError):
    """The file is not a spreadsheet we can read (or has no recognisable header)."""


@dataclass
class RosterRow:
    row: int  # the spreadsheet's own row number, as people see it
    values: dict[str, Any]


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _key(header: object) -> str:
    text = unicodedata.normalize("NFKC", str(header or "")).strip().lower()
    return re.sub(r"[\s()（）]", "", text)


_LOOKUP = {_key(alias): name for name, (_, aliases) in COLUMNS.items() for alias in aliases}


def _read_table(path: Path) -> list[list[Any]]:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                if "xl/workbook.xml" not in zf.namelist():
                    raise UnreadableRoster("a zip archive, but not an XLSX workbook")
                if sum(i.file_size for i in zf.infolist()) > 200 * 1024 * 1024:
                    raise UnreadableRoster("the workbook inflates beyond 200 MB; refused")
            book = load_workbook(path, read_only=True, data_only=True)
        except UnreadableRoster:
            raise
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise UnreadableRoster(f"the XLSX file cannot be read: {type(exc).__name__}") from exc
        sheet = book.worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 50)]
        book.close()
        return table
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableRoster("old .xls files are not supported; save as .xlsx or CSV")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise UnreadableRoster("not a CSV text file (binary content)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise UnreadableRoster("the CSV is neither UTF-8 nor GB18030")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _header(table: list[list[Any]]) -> tuple[int, dict[int, str]]:
    for index, row in enumerate(table[:20]):
        mapping = {i: _LOOKUP[_key(c)] for i, c in enumerate(row) if _key(c) in _LOOKUP}
        if "name" in mapping.values() and "division_code" in mapping.values():
            return index, mapping
    raise UnreadableRoster(
        "no header row with 司法所名称 and 乡镇(街道)代码 in the first 20 rows; "
        "download the template from /api/v1/offices/import/template"
    )


def _number(value: Any, *, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        number = float(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if integer:
        if number != int(number):
            raise ValueError("not a whole number")
        return int(number)
    return number


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if match is None:
        raise ValueError("not a date like 2001-05-01, 2001/5/1 or 2001年5月1日")
    return date(int(match[1]), int(match[2]), int(match[3]))


def _clean(
    cells: dict[str, Any], row_no: int, problems: list[dict[str, Any]]
) -> dict[str, Any] | None:
    def bad(column: str, problem: str) -> None:
        problems.append({"row": row_no, "column": COLUMNS[column][0], "problem": problem})

    out: dict[str, Any] = {}
    for name in COLUMNS:
        value = cells.get(name)
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value).strip()
        if value in (None, ""):
            if name in REQUIRED:
                bad(name, "missing")
            out[name] = None
            continue
        try:
            if name in ("lon", "lat", "area_m2"):
                out[name] = _number(value, integer=False)
            elif name in ("staff_total", "staff_formal", "staff_civil_servants"):
                out[name] = _number(value, integer=True)
                if out[name] < 0 or out[name] > 1000:
                    raise ValueError("must be between 0 and 1000")
            elif name == "opened_on":
                out[name] = _date(value)
            elif name == "division_code":
                code = (
                    str(int(value))
                    if isinstance(value, float) and value == int(value)
                    else str(value)
                )
                if not re.fullmatch(r"[1-9][0-9]{8}", code):
                    raise ValueError("must be a 9-digit township code")
                out[name] = code
            elif name == "crs":
                crs = POINT_CRS_ALIASES.get(str(value).strip().upper())
                if crs is None:
                    raise ValueError("must be WGS84, CGCS2000, GCJ02 or BD09")
                out[name] = crs
            else:
                text = str(value)
                if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text):
                    raise ValueError("contains control characters")
                if len(text) > (100 if name == "name" else 200):
                    raise ValueError("is too long")
                out[name] = text
        except (ValueError, TypeError, OverflowError) as exc:
            bad(name, f"{value!r}: {exc}")
    if out.get("area_m2") is not None and not 0 <= out["area_m2"] <= 100_000:
        bad("area_m2", "must be between 0 and 100000")
    total = out.get("staff_total")
    for name in ("staff_formal", "staff_civil_servants"):
        value = out.get(name)
        if total is not None and value is not None and value > total:
            bad(name, f"{value} exceeds 在岗人数 {total}")
    if any(p["row"] == row_no for p in problems):
        return None
    out["crs"] = out.get("crs") or "EPSG:4326"
    return out


def parse_roster(path: Path) -> ParsedRoster:
    """Rows of the file, checked for form (not yet against the registry)."""
    table = _read_table(path)
    start, mapping = _header(table)
    parsed = ParsedRoster()
    missing = [COLUMNS[c][0] for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise UnreadableRoster(f"the header lacks {', '.join(missing)}")
    body = table[start + 1 :]
    if len(body) > MAX_ROWS:
        raise UnreadableRoster(f"more than {MAX_ROWS} rows; split the file")
    for offset, row in enumerate(body):
        row_no = start + offset + 2  # 1-based, after the header
        cells = {mapping[i]: v for i, v in enumerate(row) if i in mapping}
        if all(v in (None, "") for v in cells.values()):
            continue
        values = _clean(cells, row_no, parsed.malformed)
        if values is not None:
            parsed.rows.append(RosterRow(row_no, values))
    return parsed
