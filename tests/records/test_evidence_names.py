"""Evidence file names and descriptions, from outside over HTTP: control and text-direction
characters are refused with a 422 naming the field and the character (never the database's
generic error, never a 500); names lose their path and get an extension matching the content
type checked by content; content is always served as a sandboxed attachment."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from evidence_files import jpeg, listed, on_disk, pdf, png, raw_upload, upload

SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def nul_refused(field: str, what: str) -> dict[str, Any]:
    """The whole 422 body refusing a NUL in `field`, which its message calls `what`."""
    return {
        "code": "forbidden_character",
        "message": f"{field}: the {what} contains U+0000 (a control character);"
        " control and text-direction characters are not allowed",
        "details": {
            "field": field,
            "character": "U+0000",
            "problem": "contains U+0000 (a control character)",
        },
    }


def test_a_nul_in_the_description_is_refused_naming_the_field(
    client, auth, xincun_office, settings
) -> None:
    data = png()
    r = upload(client, auth("xincun_staff"), xincun_office, "门牌.png", data, "司法所\x00标牌")
    assert r.status_code == 422
    assert r.json() == nul_refused("description", "description")
    assert on_disk(settings.var_dir, data) == []


@pytest.mark.parametrize(
    ("description", "character"),
    [
        ("a\x01b", "U+0001"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("请看\u202e附件", "U+202E"),
        ("\u2066x\u2069", "U+2066"),
        ("\u200f", "U+200F"),
    ],
)
def test_control_and_direction_characters_in_the_description_are_refused(
    client, auth, xincun_office, settings, description, character
) -> None:
    data = png()
    r = upload(client, auth("xincun_staff"), xincun_office, "a.png", data, description)
    assert (r.status_code, r.json()["code"]) == (422, "forbidden_character")
    assert r.json()["details"] == {
        "field": "description",
        "character": character,
        "problem": r.json()["details"]["problem"],
    }
    assert r.json()["details"]["problem"].startswith(f"contains {character}")
    assert on_disk(settings.var_dir, data) == []


def test_a_description_may_have_lines_and_tabs(client, auth, xincun_office) -> None:
    r = upload(client, auth("xincun_staff"), xincun_office, "a.png", png(), "第一行\r\n第二行\t完")
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\r\n第二行\t完"


def test_a_nul_in_a_file_name_is_refused_naming_the_field(client, auth, xincun_office) -> None:
    r = raw_upload(client, auth("xincun_staff"), xincun_office, b"a\x00.pdf", pdf())
    assert r.status_code == 422
    assert r.json() == nul_refused("file", "file name")


@pytest.mark.parametrize(
    ("name", "character"),
    [
        (b"scan\x00.pdf", "U+0000"),
        (b"scan.p\x00df", "U+0000"),  # in the suffix, which names the spooled copy
        (b"a\x01b.pdf", "U+0001"),
        (b"a\x1bb.pdf", "U+001B"),
        (b"a\x7fb.pdf", "U+007F"),
        ("a\u0085b.pdf".encode(), "U+0085"),
        ("invoice\u202efdp.html".encode(), "U+202E"),
        ("a\u200eb.pdf".encode(), "U+200E"),
        ("a\u200fb.pdf".encode(), "U+200F"),
        ("\u2066a\u2069.pdf".encode(), "U+2066"),
        ("a\u2069.pdf".encode(), "U+2069"),
    ],
)
def test_control_and_direction_characters_in_a_file_name_are_refused(
    client, auth, xincun_office, settings, name, character
) -> None:
    data = pdf()
    r = raw_upload(client, auth("xincun_staff"), xincun_office, name, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "forbidden_character"
    assert body["details"]["field"] == "file" and body["details"]["character"] == character
    assert body["message"].startswith(f"file: the file name contains {character}")
    assert on_disk(settings.var_dir, data) == []
    assert listed(client, auth("xincun_staff"), xincun_office) == []


@pytest.mark.parametrize(
    ("sent", "make", "served"),
    [
        ("..\\..\\windows\\system32\\evil.pdf", pdf, "evil.pdf"),
        ("../../etc/passwd", pdf, "passwd.pdf"),
        ("C:\\fakepath\\门牌照片.png", png, "门牌照片.png"),
        ("..", pdf, "evidence.pdf"),
        ("a/../..", pdf, "evidence.pdf"),
        ("  报告.pdf  ", pdf, "报告.pdf"),
        ("photo.JPG", jpeg, "photo.JPG"),
        ("photo.jpeg", jpeg, "photo.jpeg"),
        ("photo.png", jpeg, "photo.png.jpg"),
        ("scan", pdf, "scan.pdf"),
        ("2024.03.15", pdf, "2024.03.15.pdf"),
        ("x.html", pdf, "x.html.pdf"),
        ("x.svg", png, "x.svg.png"),
        ("x" * 300 + ".pdf", pdf, "x" * 196 + ".pdf"),
        ("证" * 300, pdf, "证" * 196 + ".pdf"),
    ],
)
def test_file_names_are_cleaned_and_end_with_the_content_type(
    client, auth, xincun_office, sent, make, served
) -> None:
    r = upload(client, auth("xincun_staff"), xincun_office, sent, make())
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == served
    got = client.get(r.json()["href"], headers=auth("xincun_staff"))
    assert got.status_code == 200
    quoted = quote(served)
    disposition = (
        f'attachment; filename="{served}"'
        if quoted == served
        else f"attachment; filename*=utf-8''{quoted}"
    )
    assert got.headers["content-disposition"] == disposition


def test_a_pdf_html_polyglot_is_served_as_a_sandboxed_pdf_attachment(
    client, auth, xincun_office
) -> None:
    data = pdf(b"<html><body><script>alert(document.cookie)</script></body></html>")
    r = upload(client, auth("xincun_staff"), xincun_office, "x.html", data)
    assert r.status_code == 201, r.text
    assert (r.json()["filename"], r.json()["content_type"]) == ("x.html.pdf", "application/pdf")
    got = client.get(r.json()["href"], headers=auth("henan_planner"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="x.html.pdf"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert SANDBOX_CSP in got.headers.get_list("content-security-policy")
