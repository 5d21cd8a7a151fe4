"""Reading a legacy office roster (XLSX or CSV, the way bureaus keep their lists).

Unlike the API, a roster is stored as it is: rule violations (a point outside its
township, a second office in a township, a name off the convention) are flagged, not
refused. Malformed rows — a value the API would refuse, an unknown township code, no name —
are reported by row and column and not stored. A file that cannot be read at all is
refused whole. See `roster_store.py` for storing and flagging.

Each row's fields pass the API's own field types (offices/schemas.py: name, address, phone,
staff numbers, area, dates, 编号) and its point the API's own conversion and check
(geo/points.py): one rule, whichever path a value comes by.

A workbook is read by calamine (python-calamine, Rust) after the archive has been inspected
and its XML parts copied out no further than their declared sizes, so that a decompression
bomb is refused by arithmetic instead of inflated; a CSV is read as a stream. Either stops
after MAX_ROWS rows.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, ValidationError
from python_calamine import CalamineError, CalamineWorkbook

from geo.points import point_crs
from geo.readers import UnreadableFile, ZipLimits, inspect_zip
from service.core.dates import PlausibleDate
from service.offices.schemas import Address, AreaM2, ExternalId, Name, Phone, StaffNumbers

MAX_ROWS = 50_000
# A roster of MAX_ROWS rows is ~40 MB of sheet XML; spreadsheets compress about 10:1.
XLSX_LIMITS = ZipLimits(max_entries=300, max_total_bytes=160 * 1024**2, max_ratio=100.0)
_HEADER_ROWS = 20  # a title block above the header, as bureaus make them

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


class RosterFields(StaffNumbers):
    """A row's office fields, by the API's rules (a value the API refuses is malformed here)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

    name: Name
    external_id: ExternalId | None = None
    address: Address | None = None
    phone: Phone | None = None
    area_m2: AreaM2 | None = None
    opened_on: PlausibleDate | None = None


_MODEL_FIELDS = frozenset(RosterFields.model_fields)


@dataclass
class RosterRow:
    row: int  # the spreadsheet's own row number, as people see it
    values: dict[str, Any]  # the file's columns, read and checked
    # what storing it learns (roster_store.py): the office it matches (None: a new one),
    # the name the convention expects, and whether the given name follows it
    office_id: int | None = None
    expected_name: str | None = None
    name_ok: bool = True


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _key(header: object) -> str:
    text = unicodedata.normalize("NFKC", str(header or "")).strip().lower()
    return re.sub(r"[\s()（）]", "", text)


_LOOKUP = {_key(alias): name for name, (_, aliases) in COLUMNS.items() for alias in aliases}


def _workbook_parts(path: Path) -> io.BytesIO:
    """The workbook's XML parts, each read no further than its declared size, as a new
    uncompressed archive: what calamine then parses is exactly what was measured."""
    try:
        infos = inspect_zip(path, XLSX_LIMITS)
    except UnreadableFile as exc:
        raise UnreadableRoster(f"the XLSX file cannot be read: {exc}") from exc
    if not any(i.filename == "xl/workbook.xml" for i in infos):
        raise UnreadableRoster("a zip archive, but not an XLSX workbook")
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as copy:
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    copy.writestr(info.filename, source.read(info))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UnreadableRoster(f"the XLSX file cannot be read: {exc}") from exc
    out.seek(0)
    return out


def _xlsx_rows(path: Path) -> list[list[Any]]:
    parts = _workbook_parts(path)
    try:
        book = CalamineWorkbook.from_filelike(parts)
        sheet = book.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS + _HEADER_ROWS + 1)
    except (CalamineError, ValueError, IndexError) as exc:
        raise UnreadableRoster(f"the XLSX file cannot be read: {type(exc).__name__}") from exc


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if b"\x00" in head[:4096]:
        raise UnreadableRoster("not a CSV text file (binary content)")
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "gb18030"
    sample = head[:4096].decode(encoding, errors="ignore")
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    with open(path, encoding=encoding, newline="") as text:
        try:
            yield from csv.reader(text, dialect)
        except UnicodeDecodeError as exc:
            raise UnreadableRoster(
                f"the CSV is neither UTF-8 nor GB18030 throughout ({exc.reason} at byte {exc.start})"
            ) from exc
        except csv.Error as exc:
            raise UnreadableRoster(f"the CSV cannot be read: {exc}") from exc


def _table(path: Path) -> Iterator[list[Any]]:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        yield from _xlsx_rows(path)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableRoster("old .xls files are not supported; save as .xlsx or CSV")
    else:
        yield from _csv_rows(path)


def _header(row: list[Any]) -> dict[int, str] | None:
    mapping = {i: _LOOKUP[_key(c)] for i, c in enumerate(row) if _key(c) in _LOOKUP}
    if "name" in mapping.values() and "division_code" in mapping.values():
        return mapping
    return None


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


def _code(value: Any) -> str:
    code = str(int(value)) if isinstance(value, float) and value == int(value) else str(value)
    code = unicodedata.normalize("NFKC", code).strip()
    if re.fullmatch(r"[1-9][0-9]{8}000", code):  # a 12-digit statistical code
        code = code[:9]
    if not re.fullmatch(r"[1-9][0-9]{8}", code):
        raise ValueError("must be a 9-digit township code (or its 12-digit statistical code)")
    return code


def _cell(name: str, value: Any) -> Any:
    """One cell as the type its field takes (ValueError when it cannot be one)."""
    if name in ("lon", "lat"):
        return _number(value, integer=False)
    if name in ("staff_total", "staff_formal", "staff_civil_servants"):
        return _number(value, integer=True)
    if name == "area_m2":  # spreadsheets carry binary fractions: 120.5 may be 120.50000001
        return Decimal(str(round(_number(value, integer=False), 1)))
    if name == "opened_on":
        return _date(value)
    if name == "division_code":
        return _code(value)
    if name == "crs":
        return point_crs(str(value))
    if isinstance(value, float) and value == int(value):  # 编号 or phone typed as a number
        return str(int(value))
    return str(value)


def _field_of(error: Any) -> str:
    """The field a validation error is about (model-level staff checks name it first)."""
    if error["loc"]:
        return str(error["loc"][0])
    first = str(error["msg"]).removeprefix("Value error, ").split(" ", 1)[0]
    return first if first in COLUMNS else "staff_total"


def _clean(
    cells: dict[str, Any], row_no: int, problems: list[dict[str, Any]]
) -> dict[str, Any] | None:
    def bad(column: str, problem: str) -> None:
        problems.append({"row": row_no, "column": COLUMNS[column][0], "problem": problem})

    out: dict[str, Any] = {}
    failed = False
    for name in COLUMNS:
        value = cells.get(name)
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value).strip()
        if value is None or value == "":
            if name in REQUIRED:
                bad(name, "missing")
                failed = True
            out[name] = None
            continue
        try:
            out[name] = _cell(name, value)
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            bad(name, f"{value!r}: {exc}")
            failed = True
    if failed:
        return None
    try:
        fields = RosterFields.model_validate({k: out[k] for k in _MODEL_FIELDS})
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_of(error)
            bad(name, f"{out.get(name)!r}: {error['msg']}")
        return None
    out.update(fields.model_dump())
    out["crs"] = out.get("crs") or "EPSG:4326"
    return out


def parse_roster(path: Path) -> ParsedRoster:
    """Rows of the file, checked for form (not yet against the registry)."""
    parsed = ParsedRoster()
    mapping: dict[int, str] | None = None
    data_rows = 0
    for index, row in enumerate(_table(path)):
        if mapping is None:
            if index >= _HEADER_ROWS:
                break
            mapping = _header(row)
            if mapping is not None:
                missing = [COLUMNS[c][0] for c in REQUIRED if c not in mapping.values()]
                if missing:
                    raise UnreadableRoster(f"the header lacks {', '.join(missing)}")
            continue
        cells = {mapping[i]: v for i, v in enumerate(row) if i in mapping}
        if all(v is None or v == "" for v in cells.values()):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise UnreadableRoster(f"more than {MAX_ROWS} rows; split the file")
        values = _clean(cells, index + 1, parsed.malformed)  # 1-based, as people count
        if values is not None:
            parsed.rows.append(RosterRow(index + 1, values))
    if mapping is None:
        raise UnreadableRoster(
            f"no header row with 司法所名称 and 乡镇(街道)代码 in the first {_HEADER_ROWS} rows; "
            "download the template from /api/v1/offices/import/template"
        )
    return parsed
