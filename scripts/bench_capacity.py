"""`scripts/bench capacity`: what one request of each kind a bureau makes costs, in CPU — the
app's (one `registry serve` worker process) and the database's (every backend of the bench
cluster) — measured from outside over HTTP, one client at a time, on the national set as a
Henan planner sees it. The capacity model of docs/scale-out.md is made from these figures:
requests per second per app core = 1000 / app ms, per database core = 1000 / database ms.

The baseline measured in the same run is `/livez` (no database, no credential): what any
request costs the app before its own work."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import benchlib as bench

PORT = 18821

# the same asked again of a worker that keeps pages and tiles (service/core/byte_cache.py)
KEPT = [
    ("map page, city coverage, kept", "/maps/coverage", {"region": "4101"}),
    (
        "gaps, province, CSV export, kept",
        "/api/v1/coverage/gaps",
        {"region": "41", "format": "csv"},
    ),
    (
        "map tile, z8 coverage, kept",
        "/ogc/collections/coverage/tiles/WebMercatorQuad/8/101/208",
        {},
    ),
]

# name → (path, query): what planners, city bureaus and county bureaus ask most
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "baseline: /livez (no credential, no database)": ("/livez", {}),
    "authenticated no-op: /api/v1/me": ("/api/v1/me", {}),
    "office by id (OGC item)": ("/ogc/collections/offices/items/{office}", {}),
    "office list, one county (50)": ("/api/v1/offices", {"region": "410102", "limit": "50"}),
    "office list, province (50)": ("/api/v1/offices", {"region": "41", "limit": "50"}),
    "gaps, province (first 100)": ("/api/v1/coverage/gaps", {"region": "41", "limit": "100"}),
    "gaps, province, CSV export": ("/api/v1/coverage/gaps", {"region": "41", "format": "csv"}),
    "coverage summary, province": ("/api/v1/coverage/summary", {"region": "41"}),
    "acceptance overview, city": ("/api/v1/acceptance", {"region": "4101"}),
    "map page, city coverage": ("/maps/coverage", {"region": "4101"}),
    "map tile, z8 coverage": ("/ogc/collections/coverage/tiles/WebMercatorQuad/8/101/208", {}),
    "map tile, z12 townships": (
        "/ogc/collections/townships/tiles/WebMercatorQuad/12/1625/3341",
        {},
    ),
}


def measure(
    client: Any, path: str, query: dict[str, str], server: list[int], database: int, n: int
) -> dict[str, Any]:
    for _ in range(max(n // 10, 5)):  # warm: caches, prepared statements
        r = client.get(path, params=query)
        if r.status_code >= 400:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
    backends = [database, *bench.children(database)]
    app0, db0, t0 = bench.cpu_seconds(server), bench.cpu_seconds(backends), time.perf_counter()
    for _ in range(n):
        client.get(path, params=query)
    wall = time.perf_counter() - t0
    app_ms = (bench.cpu_seconds(server) - app0) / n * 1000
    db_ms = (bench.cpu_seconds(backends) - db0) / n * 1000
    return {
        "app CPU ms": round(app_ms, 3),
        "database CPU ms": round(db_ms, 3),
        "p50-ish wall ms": round(wall / n * 1000, 2),
        "req/s per app core": round(1000 / app_ms) if app_ms > 0 else None,
        "req/s per database core": round(1000 / db_ms) if db_ms > 0 else None,
    }


def bench_capacity(runs: int) -> dict[str, Any]:
    import httpx2 as httpx

    c = bench.cluster()
    tenant = bench.ensure_national_offices(c)
    planner = bench.ensure_user(c, "henan_planner", "province_planner", "41")
    with bench.sql_conn(c, bench.OWNER_ROLE) as conn:
        office = conn.execute(
            "SELECT min(id) FROM offices WHERE tenant_id = %s AND division_code LIKE '4101%%'",
            (tenant,),
        ).fetchone()[0]
    # everything made for every request (tiles and pages kept by no worker): what a request
    # costs the first time; then the pages kept, as a worker answers a page asked again
    made = {"REGISTRY_TILE_CACHE_MB": "0", "REGISTRY_PAGE_CACHE_MB": "0"}
    server = bench.serve(c, PORT, 1, made)
    n = max(runs, 1) * 100
    results: dict[str, Any] = {"benchmark": "capacity", "requests per case": n}
    try:
        token = bench.access_token(f"http://127.0.0.1:{PORT}", planner)
        workers = [server.pid, *bench.children(server.pid)]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", headers=headers, timeout=60) as cl:
            for name, (path, query) in CASES.items():
                results[name] = measure(
                    cl, path.format(office=office), query, workers, bench.postmaster_pid(c), n
                )
                bench.log(f"{name}: {results[name]}")
    finally:
        server.terminate()
        server.wait()
    server = bench.serve(c, PORT, 1, {"REGISTRY_TILE_CACHE_MB": "16"})
    try:
        workers = [server.pid, *bench.children(server.pid)]
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", headers=headers, timeout=60) as cl:
            for name, path, query in KEPT:
                results[name] = measure(cl, path, query, workers, bench.postmaster_pid(c), n)
                bench.log(f"{name}: {results[name]}")
        base = results["baseline: /livez (no credential, no database)"]["app CPU ms"]
        for name in [*CASES, *(k for k, _, _ in KEPT)]:
            results[name]["app CPU / baseline"] = round(results[name]["app CPU ms"] / base, 1)
    finally:
        server.terminate()
        server.wait()
    return results


if __name__ == "__main__":
    print(json.dumps(bench_capacity(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
