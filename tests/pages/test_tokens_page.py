"""The access tokens page (/account/tokens): linked from every page's header; a token made by
its form is shown once and works; the list shows each token without it; revoking ends it; the
forms need the login's form token; a hostile name is shown as text."""

from __future__ import annotations

import re
from html import unescape

from conftest import bearer, only_own_scripts
from hostile import MARKUP
from pages.conftest import field_error, page_text
from personal_tokens import basic, create

PAGE = "/account/tokens"


def created_token(html: str) -> str | None:
    """The token the page shows, once, in its read-only field."""
    m = re.search(r'<input id="new-token"[^>]* value="([^"]*)"', html)
    return unescape(m.group(1)) if m else None


def make(client, csrf: str, **form: str):  # type: ignore[no-untyped-def]
    return client.post(PAGE, data={"csrf": csrf, "name": "QGIS", "expires_in_days": "90", **form})


def test_create_show_once_and_revoke(client, sign_in, auth) -> None:
    csrf = sign_in("zhengzhou_city")
    dashboard = client.get("/dashboard")
    assert f'<a href="{PAGE}">访问令牌</a>' in dashboard.text
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "尚未创建访问令牌" in empty.text
    assert only_own_scripts(empty.text)
    r = make(client, csrf, name="市局 GIS 科", expires_in_days="30", write="true")
    assert r.status_code == 200, page_text(r.text)[:800]
    assert r.headers["cache-control"] == "no-store"
    token = created_token(r.text)
    assert token and token.startswith("rgt_")
    assert "只显示这一次" in r.text and "用户名填 zhengzhou_city" in r.text
    me = client.get("/api/v1/me", headers=basic("zhengzhou_city", token))
    assert me.status_code == 200 and me.json()["username"] == "zhengzhou_city"
    (listed,) = client.get("/api/v1/auth/tokens", headers=auth("zhengzhou_city")).json()["items"]
    assert (listed["name"], listed["write"]) == ("市局 GIS 科", True)
    again = client.get(PAGE)
    assert created_token(again.text) is None and token.split("_", 3)[3] not in again.text
    row = page_text(again.text)
    assert (
        f"<code>{listed['prefix']}…</code>" in row and "可修改数据" in row and "从未使用" not in row
    )
    r = client.post(f"{PAGE}/{listed['id']}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"{PAGE}?revoked={listed['id']}")
    page = page_text(client.get(r.headers["location"]).text)
    assert f"已撤销访问令牌“市局 GIS 科”({listed['prefix']}…)" in page and "已撤销(" in page
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_refusals_say_why_beside_the_field(client, sign_in, auth) -> None:
    csrf = sign_in("henan_viewer")
    r = make(client, csrf, name="")
    assert r.status_code == 422 and field_error(r.text, "name") == "须填写"
    r = make(client, csrf, name="QGIS\u202e")
    assert r.status_code == 422
    assert field_error(r.text, "name") == "不能含有控制字符或不可见字符"
    r = make(client, csrf, expires_in_days="400")
    assert r.status_code == 422 and field_error(r.text, "expires_in_days") == "不能大于 365"
    assert 'role="alert"' in r.text and "有效期(天):不能大于 365" in page_text(r.text)
    r = make(client, "not-the-form-token")
    assert r.status_code == 403
    assert client.get("/api/v1/auth/tokens", headers=auth("henan_viewer")).json()["total"] == 0
    for _ in range(20):
        assert make(client, csrf).status_code == 200
    r = make(client, csrf)
    assert r.status_code == 409 and "请先撤销不再使用的令牌" in page_text(r.text)


def test_another_users_token_cannot_be_revoked_here(client, sign_in, auth) -> None:
    theirs = create(client, auth("zhongmu_county"))
    csrf = sign_in("xinzheng_county")
    r = client.post(f"{PAGE}/{theirs['id']}/revoke", data={"csrf": csrf})
    assert r.status_code == 404
    r = client.post(f"{PAGE}/{theirs['id']}/revoke", data={"csrf": "forged"})
    assert r.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(theirs["token"])).status_code == 200
    page = client.get(f"{PAGE}?revoked={theirs['id']}")
    assert "已撤销" not in page_text(page.text)


def test_a_hostile_name_is_shown_as_text(client, sign_in) -> None:
    csrf = sign_in("zhengzhou_city")
    for name in MARKUP[:6]:
        r = make(client, csrf, name=name)
        assert r.status_code == 200, page_text(r.text)[:400]
    page = client.get(PAGE).text
    assert "<img src=x data-pwn" not in page and "<script data-pwn" not in page
    assert "<svg data-pwn" not in page and "&lt;img src=x data-pwn" in page
    assert only_own_scripts(page)
    # each name twice, as text: its row, and its revoke button's label
    assert page_text(page).count("data-pwn") == 2 * 6


def test_with_an_access_token_the_page_lists_but_offers_no_forms(client, auth) -> None:
    token = create(client, auth("zhengzhou_city"), name="脚本")["token"]
    r = client.get(PAGE, headers=basic("zhengzhou_city", token) | {"Accept": "text/html"})
    assert r.status_code == 200
    assert "脚本" in r.text and '<form method="post" action="/account/tokens"' not in r.text
    assert "请用用户名和密码登录后再创建或撤销访问令牌" in r.text
