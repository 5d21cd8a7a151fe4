"""The divisions API: upload import (roles, limits, dry run), listing and history."""

from __future__ import annotations

import json
from datetime import date

from factories import county_polygon, feature_collection, township_cells
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.divisions.importer import import_divisions
from service.main import create_app
from service.tenants.service import get_tenant

GONGYI = "410181"


def gongyi_file(n: int = 3) -> bytes:
    feats = [(county_polygon(GONGYI), {"code": GONGYI, "name": "巩义市"})]
    feats += [
        (cell, {"code": f"{GONGYI}{i + 1:03d}", "name": f"测试{i + 1}镇"})
        for i, cell in enumerate(township_cells(GONGYI, n))
    ]
    return json.dumps(feature_collection(feats), ensure_ascii=False).encode()


def upload(client, headers, content: bytes, **form):
    return client.post(
        "/api/v1/divisions/import",
        files={"file": ("gongyi.geojson", content, "application/geo+json")},
        data=form,
        headers=headers,
    )


def count(session, prefix: str) -> int:
    return int(
        session.scalar(
            text("SELECT count(*) FROM divisions WHERE code LIKE :p"), {"p": prefix + "%"}
        )
    )


def test_province_admin_imports_over_http(client, auth, session):
    r = upload(client, auth("henan_admin"), gongyi_file(), valid_from="2024-03-01")
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["features"], report["created"], report["dry_run"]) == (4, 4, False)
    assert report["valid_from"] == "2024-03-01"
    assert count(session, GONGYI) == 4


def test_dry_run_stores_nothing(client, auth, session):
    r = upload(client, auth("henan_admin"), gongyi_file(), dry_run="true")
    assert r.status_code == 200 and r.json()["dry_run"] is True
    assert count(session, GONGYI) == 0


def test_only_province_admins_import(client, auth, session):
    for who in ("henan_planner", "zhengzhou_city", "xinzheng_county", "henan_viewer"):
        assert upload(client, auth(who), gongyi_file()).status_code == 403
    assert count(session, GONGYI) == 0


def test_rejected_upload_lists_problems(client, auth, session):
    data = json.loads(gongyi_file())
    data["features"][2]["properties"]["code"] = "41018100X"
    r = upload(client, auth("henan_admin"), json.dumps(data).encode())
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import_rejected"
    assert body["details"]["problems"][0]["index"] == 2
    assert count(session, GONGYI) == 0


def test_unknown_crs_parameter_names_the_field(client, auth):
    r = upload(client, auth("henan_admin"), gongyi_file(), crs="EPSG:32650")
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "crs"


def test_upload_over_the_limit_is_413(settings, db, auth, session):
    small = create_app(settings.model_copy(update={"max_upload_mb": 1}), database=db)
    with TestClient(small) as client:
        r = upload(client, auth("henan_admin"), b" " * (1024 * 1024 + 1) + gongyi_file())
    assert r.status_code == 413
    assert r.json()["details"] == {"limit_bytes": 1024 * 1024}
    assert count(session, GONGYI) == 0


def test_list_and_geojson(client, auth):
    h = auth("zhengzhou_city")
    r = client.get("/api/v1/divisions", params={"region": "410184", "level": "township"}, headers=h)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 15 and len(page["items"]) == 15
    assert all(d["code"].startswith("410184") and d["level"] == "township" for d in page["items"])
    assert page["note"] is None  # the fixture's boundaries are not marked generated
    streets = client.get(
        "/api/v1/divisions", params={"region": "410184", "kind": "street"}, headers=h
    ).json()
    assert {d["kind"] for d in streets["items"]} == {"street"} and streets["total"] >= 1
    gj = client.get(
        "/api/v1/divisions", params={"region": "410184101", "format": "geojson"}, headers=h
    )
    fc = gj.json()
    assert fc["numberMatched"] == 1
    assert fc["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert fc["features"][0]["properties"]["name"] == "新村镇"


def test_generated_boundaries_carry_a_notice(client, auth, session, tmp_path):
    path = tmp_path / "g.geojson"
    path.write_bytes(gongyi_file())
    import_divisions(
        session=session,
        tenant=get_tenant(session=session, code="41"),
        path=path,
        source="generated:test",
        valid_from=date(2024, 1, 1),
    )
    session.commit()
    r = client.get("/api/v1/divisions", params={"region": GONGYI}, headers=auth("henan_admin"))
    assert "非官方" in r.json()["note"]


def test_division_history_and_scope(client, auth):
    r = client.get("/api/v1/divisions/410184101", headers=auth("xinzheng_county"))
    assert r.status_code == 200
    body = r.json()
    assert body["current"]["name"] == "新村镇" and len(body["versions"]) == 1
    assert (
        client.get("/api/v1/divisions/410184101", headers=auth("zhongmu_county")).status_code == 403
    )
    assert (
        client.get("/api/v1/divisions/410184999", headers=auth("xinzheng_county")).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/divisions", params={"region": "410184"}, headers=auth("shanxi_admin")
        ).status_code
        == 403
    )


def test_dry_run_over_http_reports_the_counts(client, auth, session):
    r = upload(client, auth("henan_admin"), gongyi_file(), dry_run="true")
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["changed"], report["unchanged"]) == (4, 0, 0)
    assert count(session, GONGYI) == 0


def test_padded_and_statistical_codes_are_accepted(client, auth):
    """The forms the README promises, read as the import reads them."""
    h = auth("henan_admin")
    for written, code in (
        ("410100", "4101"),
        ("410000", "41"),
        ("410184101000", "410184101"),
        ("410184000000", "410184"),
        ("156410184", "410184"),
        ("410184101", "410184101"),
    ):
        r = client.get(f"/api/v1/divisions/{written}", headers=h)
        assert r.status_code == 200, (written, r.text)
        assert r.json()["current"]["code"] == code
    county = auth("xinzheng_county")
    assert client.get("/api/v1/divisions/410184101000", headers=county).status_code == 200
    assert client.get("/api/v1/divisions/410122101000", headers=county).status_code == 403

    def total(region: str) -> int:
        r = client.get("/api/v1/divisions", params={"region": region}, headers=h)
        assert r.status_code == 200, (region, r.text)
        return int(r.json()["total"])

    assert total("410100") == total("4101") == 35
    assert total("410184101000") == total("410184101") == 1
    assert total("410000") == total("41") == 51


def test_a_bad_code_names_the_field_and_the_problem(client, auth):
    h = auth("henan_admin")
    r = client.get("/api/v1/divisions/4101X", headers=h)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid" and "4101X" in body["message"]
    assert [d["field"] for d in body["details"]] == ["code"]
    assert "12-digit" in body["details"][0]["problem"]
    for region in ("41018", "410184101001", "abc"):
        r = client.get("/api/v1/divisions", params={"region": region}, headers=h)
        assert r.status_code == 422, region
        assert [d["field"] for d in r.json()["details"]] == ["region"]
        assert region in r.json()["message"]
