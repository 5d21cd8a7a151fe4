"""The evidence page: files listed with download links; an upload checked as the API checks
it (size, kind by content, file name) and announced from the stored file."""

from __future__ import annotations

from hostile import MARKUP, PNG
from pages.conftest import XINDIAN, field_error, input_value, page_text


def files(client, auth, office: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    r = client.get(f"/api/v1/offices/{office}/evidence", headers=auth("xinzheng_county"))
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def upload(client, csrf: str, office: int, name: str, content: bytes, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/offices/{office}/evidence",
        data={"csrf": csrf, **data},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def test_an_upload_is_listed_and_announced(client, auth, sign_in, bare_office) -> None:
    csrf = sign_in("xinzheng_county")
    r = upload(client, csrf, bare_office, "调解室照片.png", PNG, description="调解室")
    assert r.status_code == 303, page_text(r.text)[:800]
    (stored,) = files(client, auth, bare_office)
    assert r.headers["location"] == f"/offices/{bare_office}/evidence?uploaded={stored['id']}"
    page = page_text(client.get(r.headers["location"]).text)
    assert page.index("已上传证明材料:调解室照片.png") < page.index("<h2>")
    assert f'<a href="{stored["href"]}" download>调解室照片.png</a>' in page
    assert client.get(stored["href"]).status_code == 200  # the link downloads with the login


def test_a_refused_upload_says_why_beside_the_file_and_stores_nothing(
    client, auth, sign_in, bare_office, settings
) -> None:
    csrf = sign_in("xinzheng_county")
    r = upload(
        client, csrf, bare_office, "a.png", b"<html>not a picture</html>", description="说明甲"
    )
    assert r.status_code == 415
    assert "只接受 PDF、JPEG、PNG 文件" in (field_error(r.text, "file") or "")
    assert input_value(r.text, "description") == "说明甲" and 'role="alert"' in r.text
    r = upload(client, csrf, bare_office, "a\u202egnp.pdf", PNG)
    assert r.status_code == 422 and "不可见字符" in (field_error(r.text, "file") or "")
    big = PNG + b"\0" * (settings.max_evidence_mb * 1024 * 1024)
    r = upload(client, csrf, bare_office, "big.png", big)
    assert r.status_code == 413 and "MB 的限制" in (field_error(r.text, "file") or "")
    r = client.post(
        f"/offices/{bare_office}/evidence", data={"csrf": csrf, "description": "无文件"}
    )
    assert r.status_code == 422 and field_error(r.text, "file") == "请选择要上传的文件"
    assert files(client, auth, bare_office) == []


def test_token_region_role_hostile_names_and_crafted_notices(
    client, auth, sign_in, bare_office
) -> None:
    url = f"/offices/{bare_office}/evidence"
    csrf = sign_in("xinzheng_county")
    no_token = client.post(url, files={"file": ("a.png", PNG, "image/png")})
    assert no_token.status_code == 422
    forged = client.post(url, data={"csrf": "2" * 40}, files={"file": ("a.png", PNG, "image/png")})
    assert forged.status_code == 403
    r = upload(client, csrf, bare_office, MARKUP[0] + ".png", PNG, description=MARKUP[5])
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "<img src=x data-pwn" not in page and "<script data-pwn" not in page
    assert "&lt;img src=x data-pwn" in page
    # another office's file id, a missing one: no notice
    from office_records import OfficeSpec, register

    other = register(
        client, auth("xinzheng_county"), XINDIAN, OfficeSpec(facilities=None, staff=[])
    )
    theirs = upload(client, csrf, other, "别所.png", PNG)
    theirs_id = theirs.headers["location"].rsplit("=", 1)[1]
    for crafted in (theirs_id, "99999999", "abc"):
        assert 'class="saved"' not in client.get(url, params={"uploaded": crafted}).text
    csrf = sign_in("zhongmu_county")
    assert client.get(url).status_code == 404
    assert upload(client, csrf, bare_office, "a.png", PNG).status_code == 404
    csrf = sign_in("zhengzhou_city")
    page = page_text(client.get(url).text)
    assert "上传</button>" not in page and "只能查看记录" in page
    assert "<img src=x data-pwn onerror=" in page  # (as text: the raw page holds &lt;img)
    r = upload(client, csrf, bare_office, "a.png", PNG)
    assert r.status_code == 403 and "您的角色不能上传证明材料" in page_text(r.text)
    assert len(files(client, auth, bare_office)) == 1
