"""Office records over HTTP: facilities, staff with personal data kept from roles that do not
need it (by the app and by the database), evidence files checked by content."""

from __future__ import annotations

from datetime import date

import pytest
from office_records import OfficeSpec, register
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.db import WHOLE_TENANT, bind_context

XINCUN = "410184101"


@pytest.fixture
def office(client, auth) -> int:
    return register(client, auth("xinzheng_county"), XINCUN, OfficeSpec())


def test_staff_counts_follow_the_staff_list(client, auth, office) -> None:
    url = f"/api/v1/offices/{office}"
    assert client.get(url, headers=auth("xincun_staff")).json()["staff_total"] == 5
    staff = client.get(f"{url}/staff", headers=auth("xincun_staff")).json()
    r = client.post(
        f"{url}/staff/{staff[-1]['id']}/leave",
        json={"left_on": str(date.today())},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 200 and r.json()["left_on"] == str(date.today())
    detail = client.get(url, headers=auth("xincun_staff")).json()
    assert (detail["staff_total"], detail["staff_formal"], detail["staff_civil_servants"]) == (
        4,
        4,
        4,
    )
    everyone = client.get(
        f"{url}/staff", params={"include_left": True}, headers=auth("xincun_staff")
    )
    assert len(everyone.json()) == 5  # the one who left is kept


def test_why_a_member_left_is_kept(client, auth, office) -> None:
    url = f"/api/v1/offices/{office}"
    staff = client.get(f"{url}/staff", headers=auth("xinzheng_county")).json()
    r = client.post(
        f"{url}/staff/{staff[-1]['id']}/leave",
        json={"left_on": str(date.today()), "reason": "调任县司法局"},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200 and r.json()["left_reason"] == "调任县司法局"
    everyone = client.get(
        f"{url}/staff", params={"include_left": True}, headers=auth("xinzheng_county")
    ).json()
    assert [s["left_reason"] for s in everyone if s["left_on"]] == ["调任县司法局"]
    trail = client.get(
        "/api/v1/audit",
        params={"entity_type": "office_staff"},
        headers=auth("henan_admin"),
    ).json()["items"]
    (left,) = [e for e in trail if e["entity_id"] == str(staff[-1]["id"]) and e["changes"]]
    assert left["changes"]["left_reason"]["after"] == "调任县司法局"  # audited too


def test_one_director_at_a_time(client, auth, office) -> None:
    r = client.post(
        f"/api/v1/offices/{office}/staff",
        json={"name": "钱七", "position": "director", "formal": True, "civil_servant": True},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 409 and r.json()["details"]["field"] == "position"


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("xincun_staff", True),
        ("xinzheng_county", True),
        ("zhengzhou_city", True),
        ("henan_admin", True),
        ("henan_planner", False),
        ("henan_viewer", False),
    ],
)
def test_personal_data_only_for_roles_that_need_it(client, auth, office, user, visible) -> None:
    staff = client.get(f"/api/v1/offices/{office}/staff", headers=auth(user))
    assert staff.status_code == 200
    for member in staff.json():
        assert member["personal_data_visible"] is visible
        assert (member["name"] is not None) is visible
        assert (member["education"] is not None) is visible
        assert member["position"] in ("director", "staff")  # what the criteria read stays


def bind_probe(s: Session, tenant_id: int, role: str) -> None:
    """Bind a session as a request of a user with `role` over the whole tenant would be."""
    bind_context(s, tenant_id=tenant_id, region=WHOLE_TENANT, username="probe", role=role)


@pytest.mark.parametrize("role", ["province_planner", "viewer", ""])
def test_the_database_hides_personal_data_from_other_roles(db, base_data, office, role) -> None:
    with db.sessionmaker() as s:
        bind_probe(s, base_data.henan_id, role)
        assert s.scalar(text("SELECT count(*) FROM office_staff")) == 5
        assert s.scalar(text("SELECT count(*) FROM office_staff_personal")) == 0
        bind_probe(s, base_data.henan_id, "county_bureau")
        assert s.scalar(text("SELECT count(*) FROM office_staff_personal")) == 5
        bind_probe(s, base_data.shanxi_id, "province_admin")
        assert s.scalar(text("SELECT count(*) FROM office_staff_personal")) == 0


def test_facilities_refuse_unknown_items_and_replace_whole(client, auth, office) -> None:
    url = f"/api/v1/offices/{office}/facilities"
    r = client.put(url, json={"rooms": ["ballroom"]}, headers=auth("xincun_staff"))
    assert r.status_code == 422 and "rooms" in r.text
    r = client.put(url, json={"equipment": {"computer": -1}}, headers=auth("xincun_staff"))
    assert r.status_code == 422
    r = client.put(
        url,
        json={"rooms": ["archive_room", "archive_room"], "equipment": {"computer": 2, "fax": 0}},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["rooms"] == ["archive_room"] and body["equipment"] == {"computer": 2}
    assert body["registers"] is None  # replaced: what was not sent is no longer recorded
    assert body["labels"]["rooms"]["archive_room"] == "档案资料室"


def test_facilities_record_which_party_organisation(client, auth, office) -> None:
    """党支部 / 党小组 / none; the older yes/no follows it, and a contradiction is refused."""
    url = f"/api/v1/offices/{office}/facilities"
    h = auth("xincun_staff")
    r = client.put(url, json={"party_organisation": "group"}, headers=h)
    assert r.status_code == 200
    assert (r.json()["party_organisation"], r.json()["party_branch"]) == ("group", True)
    r = client.put(url, json={"party_organisation": "none", "party_branch": True}, headers=h)
    assert r.status_code == 422 and "party_branch" in r.json()["message"]
    assert client.get(url, headers=h).json()["party_organisation"] == "group"  # nothing stored
    r = client.put(url, json={"party_organisation": "party"}, headers=h)
    assert r.status_code == 422 and "party_organisation" in r.text


def test_work_results_say_which_year(client, auth, office) -> None:
    url = f"/api/v1/offices/{office}/facilities"
    r = client.put(url, json={"reoffending_rate": 1.5}, headers=auth("xincun_staff"))
    assert r.status_code == 422 and "results_year" in r.json()["message"]
    r = client.put(
        url, json={"reoffending_rate": 1.5, "results_year": 2025}, headers=auth("xincun_staff")
    )
    assert r.status_code == 200 and r.json()["results_year"] == 2025


def test_evidence_checked_by_content_and_kept(client, auth, office, settings) -> None:
    url = f"/api/v1/offices/{office}/evidence"
    fake = client.post(
        url,
        files={"file": ("photo.jpg", b"not really a jpeg", "image/jpeg")},
        headers=auth("xincun_staff"),
    )
    assert fake.status_code == 415 and fake.json()["details"]["field"] == "file"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = client.post(
        url,
        files={"file": ("门牌.png", png, "image/png")},
        data={"description": "司法所标牌照片"},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["content_type"] == "image/png" and item["size_bytes"] == len(png)
    got = client.get(item["href"], headers=auth("henan_planner"))
    assert got.status_code == 200 and got.content == png
    assert (settings.var_dir / "evidence" / item["sha256"][:2] / item["sha256"]).read_bytes() == png
    listed = client.get(url, headers=auth("zhengzhou_city")).json()
    assert [e["id"] for e in listed] == [item["id"]]


def test_evidence_size_limit(client, auth, office, settings) -> None:
    big = b"%PDF-1.4\n" + b"0" * (settings.max_evidence_mb * 1024 * 1024)
    r = client.post(
        f"/api/v1/offices/{office}/evidence",
        files={"file": ("big.pdf", big, "application/pdf")},
        headers=auth("xincun_staff"),
    )
    assert r.status_code == 413 and "limit" in r.json()["message"]


def test_records_changes_are_audited(client, auth, office) -> None:
    r = client.get("/api/v1/audit", params={"region": "410184"}, headers=auth("xinzheng_county"))
    types = {e["entity_type"] for e in r.json()["items"]}
    assert {"office_facilities", "office_staff", "office_staff_personal"} <= types


def test_staff_numbers_cannot_be_patched_past_the_staff_list(client, auth, office) -> None:
    url = f"/api/v1/offices/{office}"
    etag = client.get(url, headers=auth("xinzheng_county")).headers["ETag"]
    r = client.patch(
        url, json={"staff_total": 9}, headers={**auth("xinzheng_county"), "If-Match": etag}
    )
    assert r.status_code == 409 and r.json()["details"]["field"] == "staff_total"
    r = client.patch(
        url, json={"phone": "0371-1234567"}, headers={**auth("xinzheng_county"), "If-Match": etag}
    )
    assert r.status_code == 200
