"""Benchmarks on the national reference set, each with its raw baseline measured in the same run.

    scripts/bench import    national township import through the real path vs COPY+GiST floor
    scripts/bench offices   2,000 office creations over HTTP vs the raw point→division lookup
    scripts/bench rls       the coverage reports with and without row-level security
    scripts/bench coverage  every coverage report over HTTP vs its raw SQL, province and nation
    scripts/bench acceptance  province compliance, city acceptance overview, nation progress
    scripts/bench pages     the people's pages (dashboards, lists, office page), p50 per role
    scripts/bench maps      map pages: province, city and national sizes and build times
    scripts/bench roster    legacy rosters: Henan (empty and full registry), the nation's 40,000 rows
    scripts/bench login     a storm of 50 parallel logins and a bystander's latency meanwhile
    scripts/bench cli       registry --help, and a coverage report beyond its own query
    scripts/bench ogc       the OGC API against tipg on the same data: items, tiles, GDAL copy
    scripts/bench capacity  CPU of one request of each kind, app and database (docs/scale-out.md)
    scripts/bench load      50 bureau users at once (locust), this tree against commit 5d83116

A private cluster lives in var/bench-pg (durable settings, like production); the national set
(31 provinces, ~41,000 generated townships) is built once and cached in var/cache/.
Figures are medians over repeated runs; ratios compare with the floor measured just before.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
from pyogrio import raw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import (
    APP_ROLE,
    OWNER_ROLE,
    PASSWORD,
    ROOT,
    cluster,
    ensure_national_offices,
    env_for,
    log,
    median_ms,
    national_files,
    peak_rss_mb,
    pg,
    registry,
    reset_database,
    serve,
    server_timing,
    sql_conn,
    timed_get,
)

from service.core.cluster import LocalCluster


def township_rows(towns: Path) -> list[tuple]:
    meta, _, wkb, fields = raw.read(towns)
    names = list(meta["fields"])
    code, name = fields[names.index("code")], fields[names.index("name")]
    import shapely

    ewkb = shapely.to_wkb(shapely.set_srid(shapely.from_wkb(wkb), 4326), include_srid=True)
    return list(zip(code, name, ewkb, strict=True))


def copy_floor(c: LocalCluster, rows: list[tuple]) -> float:
    """Plain COPY of the township rows (EWKB → geometry) and a GiST index: the raw floor."""
    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_townships")
        conn.execute(
            "CREATE TABLE floor_townships (code text, name text, geom geometry(MultiPolygon, 4326))"
        )
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY floor_townships (code, name, geom) FROM STDIN (FORMAT BINARY)") as cp,
        ):
            cp.set_types(["text", "text", "bytea"])
            for row in rows:
                cp.write_row(row)
        conn.execute("CREATE INDEX ON floor_townships USING gist (geom)")
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE floor_townships")
        conn.commit()
    return elapsed


def delete_townships(c: LocalCluster) -> None:
    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:  # cached plans, like office writes
        conn.execute("DELETE FROM offices")
        conn.execute("DELETE FROM divisions WHERE level = 'township'")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE divisions")


def timed_cli_import(c: LocalCluster, path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `registry import divisions` in its own process."""
    cmd = [str(ROOT / ".venv" / "bin" / "registry"), "import", "divisions", str(path)]
    cmd += ["--tenant", "00", "--valid-from", "2023-01-01"]
    with tempfile.TemporaryFile("w+") as output:  # a file, not a pipe: nothing can block
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env_for(c), stdout=output, stderr=output)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            output.seek(0)
            raise SystemExit(f"import failed: {output.read()[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024


def bench_import(runs: int) -> dict:
    c = cluster()
    log("building / loading the national set ...")
    upper, towns = national_files()
    reset_database(c)
    registry(c, "import", "divisions", str(upper), "--tenant", "00", "--valid-from", "2023-01-01")
    rows = township_rows(towns)
    n_vertices = int(sum(len(r[2]) for r in rows) / 16)  # EWKB bytes / 16 ≈ vertices
    floors, imports, rss = [], [], []
    for i in range(runs):
        delete_townships(c)
        floors.append(copy_floor(c, rows))
        seconds, peak = timed_cli_import(c, towns)
        imports.append(seconds)
        rss.append(peak)
        log(
            f"run {i + 1}: floor {floors[-1]:.2f} s, import {seconds:.2f} s, peak RSS {peak:.0f} MB"
        )
    floor, real = statistics.median(floors), statistics.median(imports)
    return {
        "benchmark": "import",
        "townships": len(rows),
        "approx_vertices": n_vertices,
        "runs": runs,
        "floor_copy_gist_s": round(floor, 2),
        "import_s": round(real, 2),
        "ratio": round(real / floor, 2),
        "peak_rss_mb": round(max(rss)),
        "bars": "import <= 10 s and <= 5x floor; peak RSS <= 1024 MB",
    }


def bench_offices(n: int) -> dict:
    import httpx2 as httpx

    c = cluster()
    upper, towns = national_files()
    loaded = False
    registry(c, "db", "upgrade")
    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:
        try:
            loaded = (
                conn.execute(
                    "SELECT count(*) FROM divisions WHERE level = 'township' AND valid_to IS NULL"
                ).fetchone()[0]
                > 40000
            )
        except psycopg.errors.UndefinedTable:
            loaded = False
    if not loaded:
        log("loading the national set ...")
        reset_database(c)
        registry(
            c, "import", "divisions", str(upper), "--tenant", "00", "--valid-from", "2023-01-01"
        )
        registry(
            c, "import", "divisions", str(towns), "--tenant", "00", "--valid-from", "2023-01-01"
        )
    from service.offices.naming import expected_name

    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:  # cached plans, like office writes
        conn.execute("DELETE FROM offices")
        conn.commit()
        sample = conn.execute(
            "SELECT t.code, t.name, t.kind, c.name AS county, ST_X(p) AS lon, ST_Y(p) AS lat"
            "  FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM divisions WHERE level = 'township'"
            "        AND valid_to IS NULL ORDER BY md5(code) LIMIT %s) t"
            "  JOIN divisions c ON c.tenant_id = t.tenant_id AND c.code = t.parent_code AND c.valid_to IS NULL",
            (n,),
        ).fetchall()
        # Raw floor: the same point → township lookup in plain SQL, one query per point.
        raw_ms = []
        for row in sample:
            t0 = time.perf_counter()
            conn.execute(
                "SELECT id, code FROM divisions WHERE level = 'township' AND valid_to IS NULL"
                " AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) LIMIT 1",
                (row[4], row[5]),
            ).fetchone()
            raw_ms.append((time.perf_counter() - t0) * 1000)
    port = int(os.environ.get("REGISTRY_BENCH_HTTP_PORT", "18765"))
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "registry"), "serve", "--port", str(port)],
        env=env_for(c),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            token = client.post(
                "/api/v1/auth/token", data={"username": "nation_admin", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(50):  # warm the server: token check, pool, query plans
                client.get("/api/v1/offices", params={"limit": 1}, headers=headers)
            latencies = []
            failures = 0
            for code, name, kind, county, lon, lat in sample:
                body = {
                    "name": expected_name(county, name, kind),
                    "location": {"lon": lon, "lat": lat},
                    "division_code": code,
                }
                t0 = time.perf_counter()
                r = client.post("/api/v1/offices", json=body, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 201:
                    failures += 1
                    if failures < 5:
                        log(f"{r.status_code}: {r.text[:300]}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    lat_arr = np.array(latencies)
    return {
        "benchmark": "offices",
        "creations": len(latencies),
        "failures": failures,
        "http_p50_ms": round(float(np.percentile(lat_arr, 50)), 2),
        "http_p99_ms": round(float(np.percentile(lat_arr, 99)), 2),
        "raw_lookup_p50_ms": round(float(np.percentile(raw_ms, 50)), 3),
        "ratio_p50": round(float(np.percentile(lat_arr, 50)) / float(np.percentile(raw_ms, 50)), 1),
        "bars": "p50 <= 10 ms, p99 <= 30 ms",
    }


OFFICES_PAGE = """
    SELECT o.id, o.name, d.name FROM offices o
      JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
     WHERE o.tenant_id = %(t)s AND starts_with(o.division_code, '41') AND o.closed_at IS NULL
     ORDER BY o.division_code, o.id LIMIT 100"""


def bench_rls(runs: int) -> dict:
    """The coverage reports themselves (the service's functions, SQL and Python) in a session
    of the service role under RLS and in one of the tables' owner, which RLS does not apply
    to; plus an offices page in plain SQL."""
    from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
    from service.coverage import service as coverage
    from service.coverage.query import CoverageFilter

    c = cluster()
    tenant = ensure_national_offices(c)
    out: dict[str, object] = {"benchmark": "rls", "runs": runs}
    worst = 0.0
    reports = {
        "gaps": lambda s, f: coverage.gaps(s, f, limit=100),
        "conflicts": lambda s, f: coverage.conflicts(s, f, limit=100),
        "misplaced": lambda s, f: coverage.misplaced(s, f, limit=100),
        "summary by county": lambda s, f: coverage.summary(s, f, level="county"),
    }
    databases = [Database(make_engine(c.url(role), pool_size=1)) for role in (APP_ROLE, OWNER_ROLE)]
    try:
        with databases[0].session() as app, databases[1].session() as owner:
            for s in (app, owner):
                bind_context(s, tenant_id=tenant, region=WHOLE_TENANT, username="bench")

            def ms(s, fn, f) -> float:  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()
                for _ in range(3):  # one sample = three runs, less timer noise on small reports
                    fn(s, f)
                return (time.perf_counter() - t0) * 1000 / 3

            for scope_name, region in (("province", "41"), ("nation", "")):
                f = CoverageFilter(tenant_id=tenant, region=region)
                for name, fn in reports.items():
                    for s in (app, owner):  # warm both
                        for _ in range(3):
                            fn(s, f)
                    with_rls, without = [], []
                    for _ in range(runs):  # interleaved to share the machine's noise fairly
                        with_rls.append(ms(app, fn, f))
                        without.append(ms(owner, fn, f))
                    a, b = statistics.median(with_rls), statistics.median(without)
                    # the median of paired ratios: each pair ran back to back, under one load
                    ratio = statistics.median(x / y for x, y in zip(with_rls, without, strict=True))
                    worst = max(worst, ratio)
                    out[f"{scope_name} {name}"] = {
                        "rls_ms": round(a, 2),
                        "no_rls_ms": round(b, 2),
                        "ratio": round(ratio, 3),
                        "ratio_of_medians": round(a / b, 3),
                    }
    finally:
        for database in databases:
            database.engine.dispose()
    with sql_conn(c, APP_ROLE) as app_raw, sql_conn(c, OWNER_ROLE) as owner_raw:
        app_raw.execute(
            "SELECT set_config('app.tenant_id', %s, false), set_config('app.region', '*', false)",
            (str(tenant),),
        )
        for conn in (app_raw, owner_raw):
            median_ms(conn, OFFICES_PAGE, {"t": tenant}, 3)
        with_rls = [median_ms(app_raw, OFFICES_PAGE, {"t": tenant}, 1) for _ in range(runs)]
        without = [median_ms(owner_raw, OFFICES_PAGE, {"t": tenant}, 1) for _ in range(runs)]
        a, b = statistics.median(with_rls), statistics.median(without)
        out["offices page (SQL)"] = {
            "rls_ms": round(a, 2),
            "no_rls_ms": round(b, 2),
            "ratio": round(a / b, 3),
        }
    out["worst_report_ratio"] = round(worst, 3)
    out["bars"] = "RLS overhead on the coverage reports <= 10% (ratio <= 1.10)"
    return out


# Two raw-SQL baselines per report, run over psycopg as the service role under RLS:
# - "minimal": the bare attribute question (the codes only), the reference floor;
# - "same question": hand-written SQL returning what the JSON response holds (the first page
#   of 100 with names and the total; for misplaced the geodesic distance too, though not the
#   GCJ-02/BD-09/swap diagnosis; for the summary every column per county). The service must
#   stay within 1.5x of this one.
_TOWNS = """divisions d WHERE d.tenant_id = %(t)s AND d.level = 'township'
             AND d.valid_to IS NULL AND starts_with(d.code, %(r)s)"""
_NO_OFFICE = """NOT EXISTS (SELECT 1 FROM offices o WHERE o.tenant_id = %(t)s
                AND o.closed_at IS NULL AND o.located_code = d.code)"""
_NAMES = """LEFT JOIN divisions cty ON cty.tenant_id = %(t)s AND cty.code = w.parent_code
                                    AND cty.valid_to IS NULL
             LEFT JOIN divisions cit ON cit.tenant_id = %(t)s AND cit.code = cty.parent_code
                                    AND cit.valid_to IS NULL"""
_REQUIRED = "d.kind = ANY('{town,township,street}')"
_PRESENT = """LEFT JOIN (SELECT located_code AS code, count(*) AS n FROM offices
                          WHERE tenant_id = %(t)s AND closed_at IS NULL GROUP BY 1) p
                 ON p.code = d.code"""
COVERAGE_MINIMAL = {
    "gaps": f"SELECT d.code FROM {_TOWNS} AND {_REQUIRED} AND {_NO_OFFICE}",
    "conflicts": """SELECT located_code, count(*) FROM offices
                     WHERE tenant_id = %(t)s AND closed_at IS NULL
                       AND starts_with(located_code, %(r)s)
                     GROUP BY 1 HAVING count(*) > 1""",
    "misplaced": """SELECT id FROM offices WHERE tenant_id = %(t)s AND closed_at IS NULL
                     AND starts_with(division_code, %(r)s)
                     AND located_code IS DISTINCT FROM division_code""",
    "summary": f"""SELECT left(d.code, 6), count(*), count(p.code)
                     FROM {_TOWNS.replace(" WHERE", f" {_PRESENT} WHERE")} GROUP BY 1""",
}
COVERAGE_FLOORS = {
    "gaps": f"""WITH g AS MATERIALIZED (SELECT d.id, d.code FROM {_TOWNS} AND {_REQUIRED}
                                           AND {_NO_OFFICE})
      SELECT w.code, w.name, w.kind, cty.name, cit.name, (SELECT count(*) FROM g)
        FROM (SELECT id FROM g ORDER BY code LIMIT 100) p
        JOIN divisions w ON w.tenant_id = %(t)s AND w.id = p.id {_NAMES}
       ORDER BY w.code""",
    "conflicts": f"""WITH c AS MATERIALIZED (
        SELECT located_code AS code, count(*) AS n FROM offices
         WHERE tenant_id = %(t)s AND closed_at IS NULL AND starts_with(located_code, %(r)s)
         GROUP BY 1 HAVING count(*) > 1)
      SELECT w.code, w.name, w.kind, cty.name, cit.name, p.n, (SELECT count(*) FROM c),
             (SELECT json_agg(json_build_object('id', o.id, 'name', o.name,
                     'exception_reason', o.exception_reason))
                FROM offices o WHERE o.tenant_id = %(t)s AND o.closed_at IS NULL
                 AND o.located_code = w.code)
        FROM (SELECT * FROM c ORDER BY code LIMIT 100) p
        JOIN divisions w ON w.tenant_id = %(t)s AND w.code = p.code AND w.level = 'township'
                        AND w.valid_to IS NULL {_NAMES}
       ORDER BY w.code""",
    "misplaced": """WITH m AS MATERIALIZED (
        SELECT id, division_code, located_code FROM offices
         WHERE tenant_id = %(t)s AND closed_at IS NULL AND starts_with(division_code, %(r)s)
           AND located_code IS DISTINCT FROM division_code)
      SELECT o.id, o.name, reg.code, reg.name, loc.code, loc.name, ST_X(o.geom), ST_Y(o.geom),
             ST_Distance(reg.geom::geography, o.geom::geography), (SELECT count(*) FROM m)
        FROM (SELECT * FROM m ORDER BY division_code, id LIMIT 100) p
        JOIN offices o ON o.tenant_id = %(t)s AND o.id = p.id
        LEFT JOIN divisions reg ON reg.tenant_id = %(t)s AND reg.code = p.division_code
                               AND reg.valid_to IS NULL
        LEFT JOIN divisions loc ON loc.tenant_id = %(t)s AND loc.code = p.located_code
                               AND loc.valid_to IS NULL
       ORDER BY p.division_code, p.id""",
    "summary": f"""WITH parts AS (
        SELECT left(d.code, 6) AS part,
               count(*) FILTER (WHERE {_REQUIRED}) AS required,
               count(*) FILTER (WHERE {_REQUIRED} AND p.n >= 1) AS covered,
               count(*) FILTER (WHERE {_REQUIRED} AND p.n IS NULL) AS gaps,
               count(*) FILTER (WHERE p.n > 1) AS conflicts,
               count(*) FILTER (WHERE NOT {_REQUIRED}) AS optional,
               count(*) FILTER (WHERE NOT {_REQUIRED} AND p.n IS NULL) AS optional_gaps
          FROM {_TOWNS.replace(" WHERE", f" {_PRESENT} WHERE")} GROUP BY 1),
      astray AS (SELECT left(division_code, 6) AS part, count(*) AS n FROM offices
                  WHERE tenant_id = %(t)s AND closed_at IS NULL
                    AND starts_with(division_code, %(r)s)
                    AND located_code IS DISTINCT FROM division_code GROUP BY 1)
      SELECT parts.*, sub.name, coalesce(astray.n, 0) FROM parts
        LEFT JOIN astray ON astray.part = parts.part
        LEFT JOIN divisions sub ON sub.tenant_id = %(t)s AND sub.code = parts.part
                               AND sub.valid_to IS NULL
       ORDER BY parts.part""",
}
COVERAGE_PATHS = {
    "gaps": ("/api/v1/coverage/gaps", {}),
    "conflicts": ("/api/v1/coverage/conflicts", {}),
    "misplaced": ("/api/v1/coverage/misplaced", {}),
    "summary": ("/api/v1/coverage/summary", {"level": "county"}),
}


def bench_coverage(runs: int) -> dict:
    import httpx2 as httpx

    c = cluster()
    tenant = ensure_national_offices(c)
    with psycopg.connect(pg(c.url(OWNER_ROLE)), autocommit=True) as owner:
        # the settled state autovacuum reaches after an import: statistics and visibility maps
        owner.execute("VACUUM ANALYZE divisions")
        owner.execute("VACUUM ANALYZE offices")
    port = int(os.environ.get("REGISTRY_BENCH_HTTP_PORT", "18766"))
    server = serve(c, port)
    out: dict[str, object] = {"benchmark": "coverage", "runs": runs}
    try:
        base = f"http://127.0.0.1:{port}"
        with (
            httpx.Client(base_url=base, timeout=120) as client,
            sql_conn(c, APP_ROLE) as app,
        ):
            token = client.post(
                "/api/v1/auth/token", data={"username": "nation_admin", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            app.execute(
                "SELECT set_config('app.tenant_id', %s, false), set_config('app.region', '*', false)",
                (str(tenant),),
            )

            def timed(path: str, params: dict) -> tuple[float, float, float]:
                r, ms = timed_get(client, path, params, headers)
                return (ms, *server_timing(r.headers["server-timing"]))

            # the fixed cost of any authenticated request (token, session, scope, transaction)
            for _ in range(5):
                timed("/api/v1/tenant", {})
            fixed = statistics.median(timed("/api/v1/tenant", {})[0] for _ in range(runs * 3))
            out["authenticated_noop_http_p50_ms"] = round(fixed, 1)
            for scope_name, region in (("province", "41"), ("nation", "")):
                for name, (path, extra) in COVERAGE_PATHS.items():
                    params = {**extra, **({"region": region} if region else {})}
                    sql_params = {"t": tenant, "r": region}
                    # the first request: nothing remembered yet (the misplaced report's batch
                    # members are remembered between requests, service/coverage/diagnosis.py)
                    first = timed(path, params)[0]
                    for _ in range(3):  # warm all three
                        timed(path, params)
                        app.execute(COVERAGE_FLOORS[name], sql_params).fetchall()
                        app.execute(COVERAGE_MINIMAL[name], sql_params).fetchall()
                    http_ms, db_ms, app_ms, floor_ms, minimal_ms = [], [], [], [], []
                    for _ in range(runs):
                        a, b, d = timed(path, params)
                        http_ms.append(a)
                        db_ms.append(b)
                        app_ms.append(d)
                        floor_ms.append(median_ms(app, COVERAGE_FLOORS[name], sql_params, 1))
                        minimal_ms.append(median_ms(app, COVERAGE_MINIMAL[name], sql_params, 1))
                    http, floor = statistics.median(http_ms), statistics.median(floor_ms)
                    minimal = statistics.median(minimal_ms)
                    out[f"{scope_name} {name}"] = {
                        "http_p50_ms": round(http, 1),
                        "first_http_ms": round(first, 1),
                        "server_app_p50_ms": round(statistics.median(app_ms), 1),
                        "server_db_p50_ms": round(statistics.median(db_ms), 1),
                        "sql_same_question_p50_ms": round(floor, 1),
                        "ratio": round(http / floor, 2),
                        "ratio_without_fixed_cost": round(max(http - fixed, 0) / floor, 2),
                        "sql_minimal_p50_ms": round(minimal, 1),
                        "ratio_to_minimal": round(http / minimal, 2),
                    }
                # boundary QA: computed (cache emptied before each run) and served from cache
                params = {"region": region} if region else {}
                computed = []
                for _ in range(max(1, runs // 5)):
                    with psycopg.connect(pg(c.url(OWNER_ROLE)), autocommit=True) as owner:
                        owner.execute("DELETE FROM boundary_qa_cache")
                    t0 = time.perf_counter()
                    r = client.get("/api/v1/coverage/boundaries", params=params, headers=headers)
                    r.raise_for_status()
                    computed.append(time.perf_counter() - t0)
                body = r.json()
                cached = [timed("/api/v1/coverage/boundaries", params)[0] for _ in range(runs)]
                out[f"{scope_name} boundaries"] = {
                    "computed_s": round(statistics.median(computed), 2),
                    "cached_p50_ms": round(statistics.median(cached), 1),
                    "findings": {k: len(body[k]) for k in ("overlaps", "uncovered", "outside")},
                }
        out["server_peak_rss_mb"] = round(peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=10)
    out["bars"] = (
        "province lists p50 <= 30 ms; nation gaps/conflicts/misplaced/summary p50 <= 100 ms; "
        "boundary QA <= 1 s province, <= 15 s nation; service <= 1.5x SQL; RSS <= 500 MB"
    )
    return out


def later(module: str, name: str) -> Callable[..., dict]:
    """A benchmark of another module, imported only when it runs."""

    def run(*args: int) -> dict:
        return getattr(importlib.import_module(module), name)(*args)

    return run


# which → (the benchmark, its arguments from the options: the runs, at least what its medians
# need, or --n); in the order `all` runs them
BENCHES: dict[str, tuple[Callable[..., dict], Callable[[argparse.Namespace], tuple[int, ...]]]] = {
    "import": (bench_import, lambda a: (a.runs,)),
    "offices": (bench_offices, lambda a: (a.n,)),
    "rls": (bench_rls, lambda a: (max(a.runs, 61),)),
    "coverage": (bench_coverage, lambda a: (max(a.runs, 11),)),
    "acceptance": (later("bench_acceptance", "bench_acceptance"), lambda a: (max(a.runs, 11),)),
    "maps": (later("bench_maps", "bench_maps"), lambda a: (max(a.runs, 5),)),
    "pages": (later("bench_pages", "bench_pages"), lambda a: (max(a.runs, 11),)),
    "roster": (later("bench_roster", "bench_roster"), lambda a: (max(a.runs, 3),)),
    "login": (later("bench_roster", "bench_login"), lambda a: ()),
    "cli": (later("bench_cli", "bench_cli"), lambda a: (max(a.runs, 7),)),
    "ogc": (later("bench_ogc", "bench_ogc"), lambda a: (max(a.runs, 3),)),
    "capacity": (later("bench_capacity", "bench_capacity"), lambda a: (max(a.runs, 5),)),
    "load": (later("bench_load", "bench_load"), lambda a: (300, 120)),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=[*BENCHES, "all"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    results = [
        bench(*arguments(args))
        for which, (bench, arguments) in BENCHES.items()
        if args.which in (which, "all")
    ]
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
