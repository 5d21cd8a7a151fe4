"""Bulk steps from the office list: each office through the service's own step, in its own
savepoint, refusals explained per office, nothing done outside the user's region."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from typing import Any

from conftest import browser_login, only_own_scripts
from office_records import OfficeSpec, register

XINZHENG = ["410184101", "410184102", "410184103"]
TONGXU = "410222101"  # 开封, another city


def applied(client: Any, auth: Any, code: str, user: str = "xinzheng_county") -> int:
    office = register(client, auth(user), code, OfficeSpec())
    for name in ("self_check", "apply"):
        r = client.post(f"/api/v1/offices/{office}/acceptance/{name}", json={}, headers=auth(user))
        assert r.status_code == 200, r.text
    return office


def state(client: Any, auth: Any, office: int) -> str:
    r = client.get(f"/api/v1/offices/{office}", headers=auth("henan_admin"))
    return str(r.json()["acceptance_state"])


def history(client: Any, auth: Any, office: int) -> list[str]:
    r = client.get(f"/api/v1/offices/{office}/acceptance", headers=auth("henan_admin"))
    return [e["step"] for e in r.json()]


def city_form(client: Any) -> str:
    """The city bureau logged in with the browser's cookie; the list page's form token."""
    login = browser_login(client, "zhengzhou_city")
    client.cookies.set("registry_token", login.cookies["registry_token"])
    html = client.get("/offices").text
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]


def accept(client: Any, csrf: str, offices: list[Any], **extra: Any) -> Any:
    data = {
        "csrf": csrf,
        "step": "accept",
        "office": [str(o) for o in offices],
        "inspection_date": str(date.today()),
        "inspectors": "王检查、李检查",
        "state": ["applied", "accepted"],
        "sort": "name",
        **extra,
    }
    return client.post("/offices/bulk-steps", data=data)


def test_two_pass_one_refused_each_audited_summary_on_top(client, auth):
    a, b, short = (applied(client, auth, code) for code in XINZHENG)
    city = city_form(client)
    # the third loses its area after applying: the city cannot accept it
    h = auth("xinzheng_county")
    etag = client.get(f"/api/v1/offices/{short}", headers=h).headers["etag"]
    r = client.patch(
        f"/api/v1/offices/{short}", json={"area_m2": 90}, headers={**h, "If-Match": etag}
    )
    assert r.status_code == 200, r.text
    r = accept(client, city, [a, short, b], comment="批量验收")
    assert r.status_code == 200
    html = unescape(r.text)
    assert only_own_scripts(r.text)
    summary = html.index("已办理 2 个,未能办理 1 个")
    assert summary < html.index('class="office-filters folded"') < html.index("<table")
    name = client.get(f"/api/v1/offices/{short}", headers=h).json()["name"]
    refusal = re.search(r"<li>([^<]*)</li>", html[summary:]).group(1)  # type: ignore[union-attr]
    assert refusal.startswith(f"{name}:必备项未全部达标") and "120" in refusal
    for office in (a, b):
        assert state(client, auth, office) == "accepted"
        assert history(client, auth, office) == ["self_check", "apply", "accept"]
    assert state(client, auth, short) == "applied"
    assert history(client, auth, short) == ["self_check", "apply"]
    events = client.get(f"/api/v1/offices/{a}/acceptance", headers=auth("henan_admin")).json()
    assert events[-1]["username"] == "zhengzhou_city" and events[-1]["comment"] == "批量验收"
    assert events[-1]["inspectors"] == ["王检查", "李检查"]
    # the same list again: its filters kept in the form, the accepted ones shown in it
    assert '<option value="name" selected>' in html
    assert 'name="state" value="accepted" checked' in html
    assert re.search(r'type="hidden" name="state" value="applied"', html)
    assert "共 3 个司法所" in html


def test_without_the_forms_token_nothing_is_done(client, auth):
    office = applied(client, auth, XINZHENG[0])
    city_form(client)
    for token in ("0" * 40, None):
        data = {"step": "accept", "office": [str(office)], "inspection_date": str(date.today())}
        data |= {"inspectors": "王检查"} | ({"csrf": token} if token else {})
        r = client.post("/offices/bulk-steps", data=data)
        assert r.status_code in (403, 422)
    assert state(client, auth, office) == "applied"
    assert history(client, auth, office) == ["self_check", "apply"]


def test_an_office_of_another_city_is_refused_and_untouched(client, auth):
    mine = applied(client, auth, XINZHENG[0])
    other = register(client, auth("henan_admin"), TONGXU, OfficeSpec())  # not applied
    other_name = client.get(f"/api/v1/offices/{other}", headers=auth("henan_admin")).json()["name"]
    city = city_form(client)
    r = accept(client, city, [other, "abc", 2**63])
    assert r.status_code == 409  # none done
    html = unescape(r.text)
    assert "已办理 0 个,未能办理 3 个" in html
    assert f"编号 {other}:不在您的辖区或不存在" in html and other_name not in html
    assert state(client, auth, other) == "not_applied" and history(client, auth, other) == []
    r = accept(client, city, [mine, other])
    assert r.status_code == 200 and "已办理 1 个,未能办理 1 个" in unescape(r.text)
    assert state(client, auth, other) == "not_applied" and state(client, auth, mine) == "accepted"


def test_the_form_itself_is_refused_in_chinese(client, auth):
    office = applied(client, auth, XINZHENG[0])
    city = city_form(client)
    r = accept(client, city, list(range(1, 202)))
    assert r.status_code == 422
    assert "一次最多办理 200 个司法所,本次勾选了 201 个" in unescape(r.text)
    r = accept(client, city, [office], inspectors="")
    assert r.status_code == 422 and "需填写检查人员" in unescape(r.text)
    r = accept(client, city, [])
    assert r.status_code == 422 and "请先勾选要办理的司法所" in unescape(r.text)
    r = accept(client, city, [office], step="apply")  # the county's step
    assert r.status_code == 422 and "您的角色不能办理此环节" in unescape(r.text)
    assert state(client, auth, office) == "applied"


def test_the_form_is_offered_only_with_the_roles_steps(client, auth):
    register(client, auth("xinzheng_county"), XINZHENG[0], OfficeSpec())
    city = unescape(client.get("/offices", headers=auth("zhengzhou_city")).text)
    assert 'action="/offices/bulk-steps"' in city
    for label in ("验收通过", "验收不通过", "推荐省级规范化司法所", "定期复验合格"):
        assert label in city
    assert "县司法局申报验收" not in city
    viewer = client.get("/offices", headers=auth("henan_viewer")).text
    assert "bulk-steps" not in viewer and 'type="checkbox" name="office"' not in viewer
