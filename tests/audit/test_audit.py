"""The audit trail: who changed what, when, before → after; append-only in the database."""

from __future__ import annotations

import pytest
import shapely
from factories import mini_features
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

XINCUN = "410184101"


def inside(code: str) -> tuple[float, float]:
    ((geom, _),) = mini_features("mini_henan", lambda c: c == code)
    p = shapely.point_on_surface(geom)
    return p.x, p.y


def create_office(client, headers, **extra):
    lon, lat = inside(XINCUN)
    body = {"name": "新郑市司法局新村司法所", "location": {"lon": lon, "lat": lat}, **extra}
    r = client.post(
        "/api/v1/offices", json=body, headers={**headers, "X-Request-ID": "req-create-0001"}
    )
    assert r.status_code == 201, r.text
    return r


def test_office_history_records_who_when_what(client, auth):
    h = auth("xinzheng_county")
    created = create_office(client, h, staff_total=3)
    assert created.headers["X-Request-ID"] == "req-create-0001"
    office = created.json()
    url = f"/api/v1/offices/{office['id']}"
    client.patch(
        url, json={"staff_total": 5, "phone": "0371-62690000"}, headers={**h, "If-Match": '"1"'}
    )
    client.delete(url, params={"reason": "撤并"}, headers=h)
    events = client.get(f"{url}/history", headers=auth("zhengzhou_city")).json()
    assert [e["action"] for e in events] == ["insert", "update", "update"]
    first, second, third = events
    assert (first["username"], first["role"]) == ("xinzheng_county", "county_bureau")
    assert first["request_id"] == "req-create-0001"
    assert first["before"] is None and first["after"]["name"] == "新郑市司法局新村司法所"
    assert {"lon", "lat"} <= set(first["after"]) and "geom" not in first["after"]
    assert second["changes"] == {
        "phone": {"before": None, "after": "0371-62690000"},
        "staff_total": {"before": 3, "after": 5},
    }
    assert set(third["changes"]) == {"closed_at", "closed_reason"}
    assert third["changes"]["closed_reason"]["after"] == "撤并"
    assert client.get(f"{url}/history", headers=auth("zhongmu_county")).status_code == 404


def test_region_log_is_scoped(client, auth):
    create_office(client, auth("xinzheng_county"))
    mine = client.get(
        "/api/v1/audit", params={"entity_type": "offices"}, headers=auth("xinzheng_county")
    ).json()
    assert mine["total"] == 1 and mine["items"][0]["region_code"] == XINCUN
    theirs = client.get(
        "/api/v1/audit", params={"entity_type": "offices"}, headers=auth("zhongmu_county")
    ).json()
    assert theirs["total"] == 0
    assert (
        client.get(
            "/api/v1/audit", params={"region": "410184"}, headers=auth("zhongmu_county")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/audit", headers=auth("henan_viewer")).status_code == 403
    other = client.get(
        "/api/v1/audit", params={"entity_type": "offices"}, headers=auth("shanxi_admin")
    ).json()
    assert other["total"] == 0


def test_user_changes_never_record_the_password_hash(client, auth, base_data):
    viewer = base_data.logins["henan_viewer"].user_id
    client.patch(
        f"/api/v1/users/{viewer}",
        json={"password": "another-password-1"},
        headers=auth("henan_admin"),
    )
    log = client.get(
        "/api/v1/audit", params={"entity_type": "users"}, headers=auth("henan_admin")
    ).json()
    event = log["items"][0]
    assert event["entity_id"] == str(viewer) and event["username"] == "henan_admin"
    assert event["after"]["password_changed"] is True
    assert "password_hash" not in event["after"] and "password_hash" not in event["before"]


def test_division_import_is_logged(client, auth):
    fc = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"code":"410184101","name":"新村镇"},"geometry":'
        + shapely.to_geojson(mini_features("mini_henan", lambda c: c == XINCUN)[0][0])
        + "}]}"
    )
    r = client.post(
        "/api/v1/divisions/import",
        files={"file": ("x.geojson", fc.encode(), "application/geo+json")},
        data={"valid_from": "2024-05-01"},
        headers=auth("henan_admin"),
    )
    assert r.status_code == 200, r.text
    log = client.get(
        "/api/v1/audit", params={"entity_type": "divisions"}, headers=auth("henan_admin")
    ).json()
    newest = log["items"][0]  # (the fixture's own import is logged too, as test-setup)
    assert newest["entity_id"] == "upload:x.geojson by henan_admin"
    assert newest["after"]["unchanged"] == 1 and newest["username"] == "henan_admin"
    assert {e["username"] for e in log["items"]} == {"henan_admin", "test-setup"}


REWRITES = (
    "UPDATE audit_events SET username = 'y'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
)
ONE_EVENT = (
    "INSERT INTO audit_events (tenant_id, username, action, entity_type)"
    " VALUES (:t, 'x', 'test', 'test')"
)


def test_the_service_role_cannot_rewrite_the_trail(session, base_data):
    session.execute(text(ONE_EVENT), {"t": base_data.henan_id})
    for statement in REWRITES:
        with pytest.raises(DBAPIError, match="permission denied"), session.begin_nested():
            session.execute(text(statement))


def test_not_even_the_owner_rewrites_it(owner_engine, base_data):
    with owner_engine.connect() as conn, conn.begin():
        conn.execute(text(ONE_EVENT), {"t": base_data.henan_id})
        for statement in REWRITES:
            with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
                conn.execute(text(statement))
        conn.rollback()
