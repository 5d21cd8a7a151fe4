"""The acceptance workflow over HTTP: the whole path, every step allowed and forbidden per
role and region, illegal transitions, what steps need, and a history nobody can rewrite."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from office_records import OfficeSpec, register
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.acceptance.workflow import RULES, Step
from service.offices.states import AcceptanceState

XINCUN = "410184101"
ROLES_USERS = {
    "province_admin": "henan_admin",
    "province_planner": "henan_planner",
    "city_bureau": "zhengzhou_city",
    "county_bureau": "xinzheng_county",
    "office_staff": "xincun_staff",
    "viewer": "henan_viewer",
}
FULL_INPUT = {
    "comment": "测试",
    "reasons": ["材料不全"],
    "inspection_date": str(date.today() - timedelta(days=1)),
    "inspectors": ["王检查", "李验收"],
}


def step(client: Any, auth: Any, user: str, office: int, name: str, **body: Any) -> Any:
    return client.post(f"/api/v1/offices/{office}/acceptance/{name}", json=body, headers=auth(user))


def set_state(session: Any, office: int, state: str) -> None:
    """Test setup only: put an office straight into a state."""
    session.execute(
        text(
            "UPDATE offices SET acceptance_state = :s, accepted_on = current_date - 30"
            " WHERE id = :o"
        ),
        {"s": state, "o": office},
    )
    session.flush()


@pytest.fixture
def office(client, auth) -> int:
    return register(client, auth("xinzheng_county"), XINCUN, OfficeSpec())


def test_the_whole_path(client, auth, office) -> None:
    inspected = str(date.today())
    path = [
        ("xincun_staff", "self_check", "self_checked", {}),
        ("xinzheng_county", "apply", "applied", {}),
        (
            "zhengzhou_city",
            "accept",
            "accepted",
            {"inspection_date": inspected, "inspectors": ["王检查", "李验收"]},
        ),
        ("henan_planner", "file", "filed", {}),
        ("zhengzhou_city", "recommend", "recommended", {"comment": "工作突出"}),
        (
            "henan_admin",
            "grant_excellent",
            "excellent",
            {"inspection_date": inspected, "inspectors": ["省考核"]},
        ),
        (
            "zhengzhou_city",
            "reinspect_pass",
            "excellent",
            {"inspection_date": str(date.today()), "inspectors": ["赵复验"]},
        ),
        (  # the province's spot check finds; it does not revoke (第二篇 四: 指导和协调)
            "henan_admin",
            "spot_check_fail",
            "excellent",
            {
                "inspection_date": str(date.today()),
                "inspectors": ["省抽检"],
                "reasons": ["台账缺失"],
            },
        ),
        (  # its own title the province takes back; the city's remains
            "henan_admin",
            "revoke_provincial",
            "filed",
            {
                "inspection_date": str(date.today()),
                "inspectors": ["省复验"],
                "reasons": ["台账缺失"],
            },
        ),
        (
            "zhengzhou_city",
            "reinspect_fail",
            "revoked",
            {
                "inspection_date": str(date.today()),
                "inspectors": ["赵复验"],
                "reasons": ["台账缺失"],
            },
        ),
        ("xinzheng_county", "self_check", "self_checked", {}),
    ]
    for user, name, state, body in path:
        if name == "accept":  # an inspection cannot predate the application
            early = {**body, "inspection_date": str(date.today() - timedelta(days=1))}
            r = step(client, auth, user, office, name, **early)
            assert r.status_code == 422 and "last step" in r.json()["message"]
        r = step(client, auth, user, office, name, **body)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["state"] == state
    history = client.get(f"/api/v1/offices/{office}/acceptance", headers=auth("zhengzhou_city"))
    assert history.status_code == 200
    events = history.json()
    assert [e["step"] for e in events] == [p[1] for p in path]
    accept = events[2]
    assert accept["username"] == "zhengzhou_city" and accept["role"] == "city_bureau"
    assert accept["inspection_date"] == inspected and accept["inspectors"] == ["王检查", "李验收"]
    assert accept["standard"]["code"] == "henan-2009" and accept["standard"]["version"] == 2
    assert accept["failed_mandatory"] == [] and accept["score"] == 100.0
    assert events[7]["reasons"] == ["台账缺失"]
    detail = client.get(f"/api/v1/offices/{office}", headers=auth("zhengzhou_city")).json()
    assert detail["acceptance_state"] == "self_checked"


# (河南's procedure, in force in the test tenant; the other procedures' steps: the 山西 and
# district tests below)
@pytest.mark.parametrize("name", [s.value for s in RULES])
def test_each_step_is_allowed_to_its_roles_only(client, auth, session, office, name) -> None:
    rule = RULES[Step(name)]
    source = sorted(rule.sources)[0]
    for role, user in ROLES_USERS.items():
        set_state(session, office, source.value)
        savepoint = client.app.state.db.connection.begin_nested()
        try:
            r = step(client, auth, user, office, name, **FULL_INPUT)
        finally:
            savepoint.rollback()
        if role in {r.value for r in rule.roles}:
            assert r.status_code == 200, (name, role, r.text)
            assert r.json()["state"] == (rule.target or source).value
        else:
            assert r.status_code == 403, (name, role, r.text)
            assert name in r.json()["message"]


def test_outside_the_region_the_office_does_not_exist(client, auth, office) -> None:
    r = step(client, auth, "zhongmu_county", office, "self_check")
    assert r.status_code == 404
    r = step(client, auth, "shanxi_admin", office, "file")
    assert r.status_code == 404


@pytest.mark.parametrize("state", [s.value for s in AcceptanceState])
def test_illegal_transitions_name_the_state_and_the_allowed_steps(
    client, auth, session, office, state
) -> None:
    for name, rule in RULES.items():
        if AcceptanceState(state) in rule.sources:
            continue
        role = sorted(r.value for r in rule.roles)[0]
        set_state(session, office, state)
        r = step(client, auth, ROLES_USERS[role], office, name.value, **FULL_INPUT)
        assert r.status_code == 409, (state, name, r.text)
        body = r.json()
        assert body["code"] == "illegal_transition"
        assert body["details"]["state"] == state
        expected = [s.value for s, rl in RULES.items() if AcceptanceState(state) in rl.sources]
        assert body["details"]["allowed_steps_any_role"] == expected


def test_apply_and_accept_need_the_standard_met(client, auth) -> None:
    spec = OfficeSpec(area_m2=90)  # 河南 2009 asks for ≥120 m²
    office = register(client, auth("xinzheng_county"), XINCUN, spec)
    assert step(client, auth, "xinzheng_county", office, "self_check").status_code == 200
    r = step(client, auth, "xinzheng_county", office, "apply")
    assert r.status_code == 409
    assert r.json()["code"] == "standard_not_met"
    assert r.json()["details"]["mandatory_open"] == ["HN2009-AREA"]
    events = client.get(f"/api/v1/offices/{office}/acceptance", headers=auth("xinzheng_county"))
    assert [e["step"] for e in events.json()] == ["self_check"]
    assert events.json()[0]["failed_mandatory"] == ["HN2009-AREA"]


def test_steps_need_their_inputs(client, auth, session, office) -> None:
    set_state(session, office, "applied")
    today, future = str(date.today()), str(date.today() + timedelta(days=2))
    for name, inputs, status, field in [  # (field None: the refusal names none)
        ("reject", {"inspection_date": today, "inspectors": ["甲乙"]}, 422, "reasons"),
        ("accept", {"inspectors": ["甲乙"]}, 422, "inspection_date"),
        ("accept", {"inspection_date": today}, 422, "inspectors"),
        ("accept", {"inspection_date": future, "inspectors": ["甲乙"]}, 422, None),
        (
            "accept",
            {"inspection_date": today, "inspectors": ["甲乙"], "evidence_ids": [987654]},
            404,
            "evidence_ids",
        ),
    ]:
        r = step(client, auth, "zhengzhou_city", office, name, **inputs)
        assert r.status_code == status, (name, inputs, r.text)
        if field is not None:
            assert r.json()["details"]["field"] == field, (name, inputs)
    state = client.get(f"/api/v1/offices/{office}", headers=auth("zhengzhou_city"))
    assert state.json()["acceptance_state"] == "applied"  # nothing stored half-way


def test_evidence_is_cited_by_the_step(client, auth, office) -> None:
    pdf = b"%PDF-1.4\n%%EOF\n"
    r = client.post(
        f"/api/v1/offices/{office}/evidence",
        files={"file": ("验收材料.pdf", pdf, "application/pdf")},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 201, r.text
    evidence = r.json()["id"]
    r = step(client, auth, "xincun_staff", office, "self_check", evidence_ids=[evidence])
    assert r.status_code == 200
    assert r.json()["event"]["evidence_ids"] == [evidence]


def test_offices_keep_the_standard_version_they_were_judged_under(client, auth, office) -> None:
    for user, name, body in [
        ("xinzheng_county", "self_check", {}),
        ("xinzheng_county", "apply", {}),
        (
            "zhengzhou_city",
            "accept",
            {"inspection_date": str(date.today()), "inspectors": ["甲乙"]},
        ),
    ]:
        assert step(client, auth, user, office, name, **body).status_code == 200
    r = client.post(
        "/api/v1/standards",
        json={"seed": "henan-2009", "effective_from": str(date.today()), "replace_targets": False},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 201 and r.json()["version"] == 3
    events = client.get(f"/api/v1/offices/{office}/acceptance", headers=auth("henan_admin")).json()
    assert events[-1]["standard"]["version"] == 2
    report = client.get(f"/api/v1/offices/{office}/compliance", headers=auth("henan_admin")).json()
    assert report["standard"]["version"] == 3  # today's questions use today's standard


def test_history_and_standards_cannot_be_rewritten(client, auth, session, office) -> None:
    assert step(client, auth, "xinzheng_county", office, "self_check").status_code == 200
    for sql in (
        "UPDATE acceptance_events SET to_state = 'excellent'",
        "DELETE FROM acceptance_events",
        "UPDATE standard_criteria SET threshold = 1",
        "DELETE FROM standards",
    ):
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError):
            session.execute(text(sql))
        savepoint.rollback()
    count = session.scalar(
        text("SELECT count(*) FROM acceptance_events WHERE office_id = :o"), {"o": office}
    )
    assert count == 1


def test_a_city_cannot_revoke_the_provincial_title(client, auth, session, office) -> None:
    """第二篇 四: the province grants 省级规范化司法所 after its own 考核; the city that granted the
    规范化司法所 title cannot take the province's away; the province's spot check only finds."""
    set_state(session, office, "excellent")
    r = step(client, auth, "zhengzhou_city", office, "reinspect_fail", **FULL_INPUT)
    assert r.status_code == 409, r.text
    assert "reinspect_fail" in r.json()["message"] and "excellent" in r.json()["message"]
    r = step(client, auth, "henan_admin", office, "spot_check_fail", **FULL_INPUT)
    assert r.status_code == 200 and r.json()["state"] == "excellent"
    set_state(session, office, "recommended")
    r = step(client, auth, "henan_admin", office, "grant_excellent")  # no 考核 on record
    assert r.status_code == 422 and "inspection" in r.text


def test_in_shanxi_the_province_rates_offices(client, auth) -> None:
    """第三篇 四(一): the province's 领导组办公室 does the 考核评定 — an office goes from self-check
    to its title through the province; the city cannot accept it, and the steps of 河南's
    procedure (filing, sampling, the provincial title) do not exist there."""
    office = register(client, auth("xiaodian_county"), "140105001", OfficeSpec())
    inspection = {"inspection_date": str(date.today()), "inspectors": ["省领导组办公室"]}
    for user, name in (("xiaodian_county", "self_check"), ("xiaodian_county", "apply")):
        r = step(client, auth, user, office, name)
        assert r.status_code == 200, (name, r.text)
    r = step(client, auth, "taiyuan_city", office, "accept", **inspection)
    assert r.status_code == 403 and "province_admin" in r.json()["message"]
    r = step(client, auth, "shanxi_admin", office, "accept", **inspection)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "accepted"
    assert r.json()["event"]["step_label"].startswith("省司法厅领导组办公室考核评定合格")
    assert "file" not in r.json()["allowed_steps"]
    r = step(client, auth, "shanxi_admin", office, "file")
    assert r.status_code == 409 and "procedure" in r.json()["message"]
    r = step(client, auth, "taiyuan_city", office, "reinspect_pass", **inspection)
    assert r.status_code == 200  # cities and counties check; the province rates
    r = step(
        client, auth, "taiyuan_city", office, "reinspect_fail", reasons=["台账缺失"], **inspection
    )
    assert r.status_code == 403
    r = step(
        client, auth, "shanxi_admin", office, "reinspect_fail", reasons=["台账缺失"], **inspection
    )
    assert r.status_code == 200 and r.json()["state"] == "revoked"


def test_under_the_district_opinion_the_district_checks_before_the_city(client, auth) -> None:
    """第一篇 五: the office applies to the district (区局); the district's leading group
    inspects and, when it passes, applies to the city, which accepts. The county cannot apply
    straight to the city, and a failed district check sends the office back to work on it."""
    r = client.post(
        "/api/v1/standards",
        json={
            "seed": "district-2005",
            "effective_from": str(date.today() - timedelta(days=1)),
            "replace_targets": False,
        },
        headers=auth("henan_admin"),
    )
    assert r.status_code == 201, r.text
    # (no criterion of 第一篇 reads the yearly work record)
    office = register(client, auth("xinzheng_county"), XINCUN, OfficeSpec(work_record=None))
    inspection = {"inspection_date": str(date.today()), "inspectors": ["区局领导小组"]}
    assert step(client, auth, "xincun_staff", office, "self_check").status_code == 200
    r = step(client, auth, "xinzheng_county", office, "apply")
    assert r.status_code == 409 and "procedure" in r.json()["message"]
    r = step(client, auth, "xincun_staff", office, "apply_district")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "district_review"
    assert r.json()["event"]["step_label"] == "司法所自查达标,向区(县)司法局申报"
    r = step(client, auth, "zhengzhou_city", office, "accept", **inspection)
    assert r.status_code == 409  # not yet before the city
    r = step(client, auth, "xincun_staff", office, "district_pass", **inspection)
    assert r.status_code == 403 and "county_bureau" in r.json()["message"]
    r = step(
        client, auth, "xinzheng_county", office, "district_fail", reasons=["台账不全"], **inspection
    )
    assert r.status_code == 200 and r.json()["state"] == "self_checked"
    assert step(client, auth, "xincun_staff", office, "apply_district").status_code == 200
    r = step(client, auth, "xinzheng_county", office, "district_pass", **inspection)
    assert r.status_code == 200 and r.json()["state"] == "applied"
    r = step(client, auth, "zhengzhou_city", office, "accept", **inspection)
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    history = client.get(f"/api/v1/offices/{office}/acceptance", headers=auth("xinzheng_county"))
    assert [e["step"] for e in history.json()] == [
        "self_check",
        "apply_district",
        "district_fail",
        "apply_district",
        "district_pass",
        "accept",
    ]
