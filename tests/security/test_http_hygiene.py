"""Request ids, JSON logs, body limits, security headers, CORS off by default."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from service.core.logs import configure_logging
from service.main import create_app


def test_security_headers_everywhere(client, auth):
    for path, headers in (("/api/v1/me", auth("henan_viewer")), ("/healthz", {}), ("/nope", {})):
        r = client.get(path, headers=headers)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert (
        client.get("/api/v1/me", headers=auth("henan_viewer")).headers["cache-control"]
        == "no-store"
    )


def test_request_ids(client):
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123-DEF.x"}).headers["x-request-id"]
        == "abc-123-DEF.x"
    )
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id; drop table"}).headers[
        "x-request-id"
    ]
    assert replaced != "bad id; drop table" and len(replaced) == 32


def test_json_body_limit(client, auth):
    big = {"name": "新" * (2 * 1024 * 1024), "location": {"lon": 113.7, "lat": 34.4}}
    r = client.post("/api/v1/offices", json=big, headers=auth("xinzheng_county"))
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert r.json()["details"] == {"limit_bytes": 1024 * 1024}


def test_body_without_length_is_cut_off_at_the_limit(client, auth):
    def chunks():
        for _ in range(40):
            yield b'{"name": "' + b"x" * 65536

    r = client.post(
        "/api/v1/offices",
        content=chunks(),
        headers={**auth("xinzheng_county"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_cors_is_off_unless_configured(settings, db):
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
    }
    with TestClient(create_app(settings, database=db)) as plain:
        r = plain.options("/api/v1/offices", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
        assert (
            "access-control-allow-origin"
            not in plain.get("/healthz", headers={"Origin": "https://evil.example"}).headers
        )
    allowed = settings.model_copy(update={"cors_origins": ["https://gis.sifa.example"]})
    with TestClient(create_app(allowed, database=db)) as cors:
        ok = cors.options(
            "/api/v1/offices", headers={**preflight, "Origin": "https://gis.sifa.example"}
        )
        assert ok.headers["access-control-allow-origin"] == "https://gis.sifa.example"
        bad = cors.options("/api/v1/offices", headers=preflight)
        assert bad.headers.get("access-control-allow-origin") != "https://evil.example"
        # records are replaced with PUT (facilities, yearly work records)
        put = cors.options(
            "/api/v1/offices/1/work-records/2024",
            headers={"Origin": "https://gis.sifa.example", "Access-Control-Request-Method": "PUT"},
        )
        assert put.status_code == 200 and "PUT" in put.headers["access-control-allow-methods"]


def test_access_log_is_json_with_the_request_id(client, capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(json_lines=True)
        r = client.get("/healthz", headers={"X-Request-ID": "log-test-0001"})
    finally:
        root.handlers[:], level = saved[0], saved[1]
        root.setLevel(level)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [x for x in lines if x.get("logger") == "registry.access"]
    assert access and access[-1]["request_id"] == "log-test-0001" == r.headers["x-request-id"]
    assert access[-1]["status"] == 200 and access[-1]["path"] == "/healthz"
    assert "duration_ms" in access[-1]
    assert access[-1]["db_queries"] >= 1 and access[-1]["db_ms"] >= 0  # /healthz asks the database


def test_server_timing_splits_database_and_total(client, auth):
    r = client.get("/api/v1/offices", headers=auth("henan_admin"))
    parts = dict(p.strip().split(";", 1) for p in r.headers["server-timing"].split(","))
    db = float(parts["db"].split("dur=")[1].split(";")[0])
    total = float(parts["app"].split("dur=")[1])
    queries = int(parts["db"].split('desc="')[1].split(" ")[0])
    assert queries >= 3 and 0 < db <= total  # login check, tenant binding, the page
