"""Liveness, readiness and Prometheus metrics, read as operators' tools read them: /metrics
parsed by prometheus-client's own parser, a worker's readiness with its database gone, and the
counts of several worker processes summed by whichever worker is scraped."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from operator_env import serve
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from service.core.cluster import free_port
from service.core.db import Database, make_engine
from service.main import create_app

LOCAL = ("127.0.0.1", 50000)
ITEM_ROUTE = "/ogc/collections/{collection_id}/items/{feature_id}"
TILE = "/ogc/collections/townships/tiles/WebMercatorQuad/8/103/210"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def local(app):  # type: ignore[no-untyped-def]
    """A client that connects from 127.0.0.1 (the networks /metrics answers by default)."""
    with TestClient(app, raise_server_exceptions=False, client=LOCAL) as c:
        yield c


def scrape(client: TestClient) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def test_requests_are_counted_by_route_template(local, auth) -> None:  # type: ignore[no-untyped-def]
    who = auth("henan_admin")
    before = scrape(local)
    for feature in ("1", "2", "999999999"):
        local.get(f"/ogc/collections/offices/items/{feature}", headers=who)
    local.get("/no/such/path/12345")
    after = scrape(local)
    count = "registry_http_requests_total"

    def answered(text: str) -> float:
        return sum(
            v
            for (name, labels), v in samples(text).items()
            if name == count and ("route", ITEM_ROUTE) in labels
        )

    assert answered(after) - answered(before) == 3
    series = samples(after)
    routes = {dict(labels).get("route") for name, labels in series if name == count}
    assert not any(r and "12345" in r for r in routes), routes  # (a path is never a label)
    assert (
        value(after, count, method="GET", route="-", status="404")
        - value(before, count, method="GET", route="-", status="404")
        == 1
    )
    # the latency histogram of the route counts the same requests
    observed = sum(
        v
        for (name, labels), v in series.items()
        if name == "registry_http_request_duration_seconds_count"
        and ("route", ITEM_ROUTE) in labels
    )
    assert observed >= 3
    # the pool's connections are counted
    assert value(after, "registry_db_pool_connections", database="primary", state="open") >= 1


def test_login_failures_and_tile_cache_lookups_are_counted(local, auth, base_data) -> None:  # type: ignore[no-untyped-def]
    before = scrape(local)
    r = local.post("/api/v1/auth/token", data={"username": "henan_admin", "password": "wrong!"})
    assert r.status_code == 401
    who = auth("henan_admin")
    assert local.get(TILE, headers=who).status_code in (200, 204)
    assert local.get(TILE, headers=who).status_code in (200, 204)
    after = scrape(local)
    failures = "registry_login_failures_total"
    assert (
        value(after, failures, reason="wrong_credentials")
        - value(before, failures, reason="wrong_credentials")
        == 1
    )
    lookups = "registry_cache_lookups_total"
    hits = value(after, lookups, cache="tiles", result="hit") - value(
        before, lookups, cache="tiles", result="hit"
    )
    misses = value(after, lookups, cache="tiles", result="miss") - value(
        before, lookups, cache="tiles", result="miss"
    )
    assert (hits, misses) == (1, 1)
    # the tile made was kept: the worker's tile cache holds its bytes (at least one)
    assert value(after, "registry_cache_bytes", cache="tiles") >= 1


def test_metrics_answer_only_the_allowed_networks(app, settings, db) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as elsewhere:  # ("testclient")
        r = elsewhere.get("/metrics")
        assert r.status_code == 403 and "REGISTRY_METRICS_ALLOW" in r.json()["message"]
    narrow = create_app(settings.model_copy(update={"metrics_allow": "10.0.0.0/8"}), database=db)
    with TestClient(narrow, raise_server_exceptions=False, client=LOCAL) as c:
        assert c.get("/metrics").status_code == 403
    with TestClient(narrow, raise_server_exceptions=False, client=("10.2.3.4", 1)) as c:
        assert c.get("/metrics").status_code == 200


def test_a_bad_metrics_network_is_refused_at_start(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="REGISTRY_METRICS_ALLOW"):
        type(settings)(**{**settings.model_dump(), "metrics_allow": "10.0.0.0/8,not-a-net"})


def test_readiness_fails_when_the_database_is_gone_and_liveness_does_not(settings, local) -> None:  # type: ignore[no-untyped-def]
    assert local.get("/readyz").json() == {"status": "ok", "database": "ok"}
    assert local.get("/healthz").status_code == 200
    nowhere = f"postgresql+psycopg://nobody:x@127.0.0.1:{free_port()}/none"
    gone = Database(make_engine(nowhere))
    try:
        app = create_app(settings.model_copy(update={"database_url": nowhere}), database=gone)
        with TestClient(app, raise_server_exceptions=False) as c:
            t0 = time.monotonic()
            r = c.get("/readyz")
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert r.json() == {"status": "unavailable", "database": "the database is unreachable"}
            assert time.monotonic() - t0 < 5
            assert c.get("/healthz").status_code == 503
            assert c.get("/livez").json() == {"status": "ok"}
    finally:
        gone.engine.dispose()


def test_several_workers_are_counted_as_one_service(demo_loaded) -> None:  # type: ignore[no-untyped-def]
    """`registry serve --workers 2`: every scrape, whichever worker answers it, counts the
    requests both workers answered."""
    env = demo_loaded
    server, base = serve(env, "--workers", "2")
    try:
        sent = 60
        for _ in range(sent):  # (a new connection each: either worker may take it)
            assert httpx.get(f"{base}/livez", timeout=10).status_code == 200
        # each worker keeps its own counts in its own file: both answered some
        port = base.rsplit(":", 1)[1]
        directory = Path(env["REGISTRY_VAR_DIR"]) / "metrics" / f"{socket.gethostname()}-{port}"
        per_worker = [
            sum(
                v
                for key, v, *_ in MmapedDict.read_all_values_from_file(str(f))
                if '"/livez"' in key and key.startswith('["registry_http_requests"')
            )
            for f in directory.glob("counter_*.db")
        ]
        assert sum(per_worker) == sent and sorted(per_worker)[-2] > 0, per_worker
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", timeout=10).text
            livez = value(
                text, "registry_http_requests_total", method="GET", route="/livez", status="200"
            )
            assert livez == sent
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_no_free_connection_is_a_503_and_counted(settings, auth) -> None:  # type: ignore[no-untyped-def]
    """Every pooled connection held for the pool's whole timeout: the request is told to come
    back (503, Retry-After), not failed with a 500, and operators see it counted."""
    from sqlalchemy import create_engine

    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    busy = Database(engine)
    try:
        app = create_app(settings, database=busy)
        with TestClient(app, raise_server_exceptions=False, client=LOCAL) as c:
            before = scrape(c)
            with engine.connect():  # (the pool's one connection, held)
                r = c.get("/api/v1/me", headers=auth("henan_admin"))
            assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
            # (once the connection is back, the same request is answered)
            assert c.get("/api/v1/me", headers=auth("henan_admin")).status_code == 200
            after = scrape(c)
        waits = "registry_db_pool_timeouts_total"
        assert (
            value(after, waits, database="primary") - value(before, waits, database="primary") == 1
        )
    finally:
        engine.dispose()
