"""No exported cell is a spreadsheet formula. Every CSV/XLSX export the app serves — found
in its OpenAPI document (a GET with a `format` parameter offering csv or xlsx), so a new
export cannot be forgotten — is downloaded from the hostile site (conftest.py), for every
planted office where the path names one: XLSX files hold no `<f>` element, every string
cell that starts like a formula is a string cell with the quote-prefix style (shown as
typed, never turned into a formula by editing), CSV cells that start like a formula start
with an apostrophe (OWASP's CSV-injection guidance); numbers stay numbers. Sheet titles
built from stored strings are always valid."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest
from hostile import FORMULA, SHEET_TITLE_NAME, Planted, token
from openpyxl import load_workbook

from service.core.exports import FORMULA_PREFIXES, Column, render, sheet_title

XLSX_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def export_endpoints(openapi: dict[str, Any]) -> list[tuple[str, list[str], dict[str, list]]]:
    """(path, formats, other choices) of every GET that offers csv or xlsx as `format`."""
    found = []
    for path, item in openapi["paths"].items():
        op = item.get("get")
        if not op:
            continue
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        formats = [f for f in _enum(params.get("format")) if f in ("csv", "xlsx")]
        if formats:
            tables = {"table": _enum(params["table"])} if "table" in params else {}
            found.append((path, formats, tables))
    return found


def _enum(param: dict[str, Any] | None) -> list[str]:
    if param is None:
        return []
    schema = param["schema"]
    options = [schema, *schema.get("anyOf", [])]
    return [v for s in options for v in s.get("enum", [])]


def urls(path: str, planted: Planted) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return [path]
    assert names == ["office_id"], f"{path}: give the export test values for {names}"
    return [path.replace("{office_id}", str(i)) for i in planted.offices.values()]


def xlsx_cells(body: bytes, where: str) -> list[Any]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not XLSX_FORMULA.search(z.read(name)), f"{where}: a formula in {name}"
    cells = []
    for ws in load_workbook(io.BytesIO(body)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {cell.coordinate} is a formula"
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
                    assert cell.data_type == "s" and cell.quotePrefix, (where, cell.value)
                cells.append(cell.value)
    return cells


def csv_cells(body: bytes, where: str) -> list[str]:
    cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
    bare = [c for c in cells if c.startswith(FORMULA_PREFIXES)]
    assert bare == [], f"{where}: cells read as formulas: {bare[:5]}"
    return [c[1:] if c.startswith("'") else c for c in cells]


def test_every_export_neutralises_formulas(hostile_site: Planted) -> None:
    """Every export endpoint × format × table × planted office; each planted formula
    prefix is found, neutralised, in both formats (so the check cannot pass empty)."""
    with httpx.Client(base_url=hostile_site.base, timeout=120) as client:
        h = token(client, "henan_admin")
        endpoints = export_endpoints(client.get("/openapi.json").json())
        assert len(endpoints) >= 10, endpoints  # the coverage, acceptance, standards exports
        seen: dict[str, set[str]] = {"csv": set(), "xlsx": set()}
        for path, formats, tables in endpoints:
            for url in urls(path, hostile_site):
                for fmt in formats:
                    for table in tables.get("table", [None]):
                        params = {"format": fmt} | ({"table": table} if table else {})
                        r = client.get(url, params=params, headers=h)
                        where = f"{url} {params}"
                        assert r.status_code == 200, (where, r.text[:500])
                        read = xlsx_cells if fmt == "xlsx" else csv_cells
                        for value in read(r.content, where):
                            if isinstance(value, str):
                                seen[fmt] |= {p for p in FORMULA if value.startswith(p)}
    assert seen == {"csv": set(FORMULA), "xlsx": set(FORMULA)}


def test_checklist_of_an_office_named_with_sheet_title_characters(hostile_site: Planted) -> None:
    """The name holds : / ? * [ ] \\ and apostrophes at both ends (issue #13: a 500)."""
    office_id = hostile_site.offices[SHEET_TITLE_NAME]
    with httpx.Client(base_url=hostile_site.base, timeout=60) as client:
        r = client.get(
            f"/api/v1/offices/{office_id}/compliance",
            params={"format": "xlsx"},
            headers=token(client, "henan_admin"),
        )
    assert r.status_code == 200, r.text
    assert load_workbook(io.BytesIO(r.content)).sheetnames == ["自查表_'_新村______司法所"]


def test_work_records_export_keeps_formula_names_as_text(hostile_site: Planted) -> None:
    """Every office has last year's work record (the export's default year): each name that
    starts like a formula is in both files, as text; the county's formula name too."""
    names = {n for n in hostile_site.offices if n.startswith(FORMULA_PREFIXES)}
    county = hostile_site.divisions["410122"]
    assert names and county.startswith(FORMULA_PREFIXES)
    with httpx.Client(base_url=hostile_site.base, timeout=60) as client:
        h = token(client, "henan_admin")
        for fmt, read in (("csv", csv_cells), ("xlsx", xlsx_cells)):
            r = client.get("/api/v1/work-records", params={"format": fmt}, headers=h)
            assert r.status_code == 200, r.text
            cells = read(r.content, f"work records {fmt}")
            assert names | {county} <= set(cells), fmt
            assert "文明司法所" in cells and 95 in [_number(c) for c in cells], fmt


def _number(cell: Any) -> Any:
    try:
        return float(cell)
    except (TypeError, ValueError):
        return cell


COLUMNS = [Column("n", "数"), Column("s", "文字")]


@pytest.mark.parametrize("text", ["=1+2", "+1", "-5", "@A1", "\t=1+2", "\r=1+2", "＝1+2", "－1"])
def test_formula_strings_are_neutralised_and_numbers_stay_numbers(text: str) -> None:
    rows = [{"n": -5, "s": text}, {"n": Decimal("-2.5"), "s": "司法所"}]
    ws = load_workbook(io.BytesIO(render("xlsx", rows, COLUMNS, title="t"))).active
    assert ws is not None
    (n1, s1), (n2, s2) = [(r[0], r[1]) for r in ws.iter_rows(min_row=2)]
    assert (n1.value, n1.data_type, n1.quotePrefix) == (-5, "n", False)
    assert (n2.value, n2.data_type) == (-2.5, "n")
    # (a carriage return comes back as itself when openpyxl writes through lxml, which
    # escapes it; through the standard library's writer XML reads it as a line feed)
    assert s1.value in (text, text.replace("\r", "\n"))
    assert (s1.data_type, s1.quotePrefix) == ("s", True)
    assert (s2.value, s2.quotePrefix) == ("司法所", False)
    table = list(
        csv.reader(io.StringIO(render("csv", rows, COLUMNS, title="t").decode("utf-8-sig")))
    )
    assert table[1:] == [["-5", "'" + text], ["-2.5", "司法所"]]


@pytest.mark.parametrize(
    ("title", "taken", "expected"),
    [
        ("自查表_a:b/c?d*e[f]g\\h", set(), "自查表_a_b_c_d_e_f_g_h"),
        ("'自查表'", set(), "自查表"),
        ("''", set(), "数据"),
        ("", set(), "数据"),
        ("自" * 40, set(), "自" * 31),
        ("说明", {"说明"}, "说明(2)"),
        ("自" * 40, {"自" * 31}, "自" * 28 + "(2)"),
        ("Data", {"data"}, "Data(2)"),  # Excel compares titles without case
    ],
)
def test_sheet_titles_are_valid_and_unique(title: str, taken: set[str], expected: str) -> None:
    assert sheet_title(title, taken) == expected


def test_a_sheet_named_like_the_note_sheet_is_kept_apart() -> None:
    body = render("xlsx", [{"n": 1, "s": "x"}], COLUMNS, title="说明", note="说明文字")
    assert load_workbook(io.BytesIO(body)).sheetnames == ["说明", "说明(2)"]
