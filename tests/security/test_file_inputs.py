"""Every file input of the API, found from the OpenAPI description (a new upload endpoint
fails here until it has a case), gets the files an attacker would send: archives that
inflate far beyond their size, archives that lie about their sizes, files past the limit.
Each is refused with a 4xx naming the problem and leaves the database as it was."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from hostile_files import lying_zip, snapshot, xlsx_bomb, zip_bomb
from office_records import OfficeSpec, register

Case = tuple[str, Callable[[], bytes], str, int, str]  # name, content, file name, status, fragment


def deflate_bomb_xlsx() -> bytes:
    return xlsx_bomb(200 * 1024 * 1024)


def dense_xlsx() -> bytes:  # under the size limit, but compressed ~1000:1
    return xlsx_bomb(100 * 1024 * 1024)


def lying_xlsx() -> bytes:
    return lying_zip(xlsx_bomb(60 * 1024 * 1024), "xl/sharedStrings.xml", 2000)


def nested_zip() -> bytes:
    inner = zip_bomb()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.zip", inner)
        zf.writestr("a.shp", b"\0" * 100)
    return buf.getvalue()


def big_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"0" * (21 * 1024 * 1024)


FILE_INPUTS: dict[str, tuple[str, list[Case]]] = {
    "/api/v1/divisions/import": (
        "henan_admin",
        [
            ("zip bomb", zip_bomb, "bomb.zip", 422, "compression ratio"),
            ("nested archive", nested_zip, "nested.zip", 422, "nested archive"),
        ],
    ),
    "/api/v1/offices/import": (
        "xinzheng_county",
        [
            ("xlsx bomb", deflate_bomb_xlsx, "roster.xlsx", 422, "would inflate to more than"),
            ("xlsx dense part", dense_xlsx, "roster.xlsx", 422, "compression ratio"),
            ("xlsx lying about sizes", lying_xlsx, "roster.xlsx", 422, "cannot be read"),
        ],
    ),
    "/api/v1/offices/{office_id}/evidence": (
        "xinzheng_county",
        [("over the evidence limit", big_pdf, "big.pdf", 413, "limit")],
    ),
}


def test_every_file_input_has_its_cases(app):  # type: ignore[no-untyped-def]
    uploads = {
        path
        for path, operations in app.openapi()["paths"].items()
        for op in operations.values()
        if "multipart/form-data" in op.get("requestBody", {}).get("content", {})
    }
    assert uploads == set(FILE_INPUTS)


CASES = [(path, case) for path, (_, cases) in FILE_INPUTS.items() for case in cases]


@pytest.mark.parametrize(("path", "case"), CASES, ids=[f"{p} {c[0]}" for p, c in CASES])
def test_hostile_files_are_refused(client, auth, session, path, case):
    name, content, filename, status, fragment = case
    user = FILE_INPUTS[path][0]
    url = path
    if "{office_id}" in path:
        url = path.format(office_id=register(client, auth(user), "410184101", OfficeSpec()))
    before = snapshot(session)
    r = client.post(url, files={"file": (filename, content())}, headers=auth(user))
    assert r.status_code == status, f"{name}: {r.status_code} {r.text[:300]}"
    assert fragment in r.json()["message"], r.json()
    assert snapshot(session) == before, f"{name} changed the database"
