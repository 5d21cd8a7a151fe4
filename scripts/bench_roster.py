"""`scripts/bench roster` and `scripts/bench login`.

roster: legacy rosters (XLSX) through `POST /api/v1/offices/import` on the national reference
set, each against the raw SQL floor of the same rows measured in the same run (an
INSERT … SELECT FROM unnest that locates every point in its township, as the service role
under row-level security, rolled back):
- Henan's roster (one row per township, ≈2,600) into an empty registry, as a dry run;
- the national roster (40,000 rows: every other province, with second offices) for real,
  and the server's peak RSS while it runs (a fresh server);
- Henan's roster again, into the registry that now holds the nation (the planner must not
  be misled by statistics from before the bulk write): the ratio to the empty case.
Rows carry what real rosters carry: ≈2 % GCJ-02 points labelled WGS84, ≈1 % names off the
convention, ≈1 % points in the neighbouring township.

login: 50 parallel logins (mixed right and wrong passwords, two usernames) while a
bystander keeps asking `/api/v1/me`: the bystander's p50/p99 during the storm against its
own p50 before it, the statuses, and the password verifications per username.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import benchlib as bench
import psycopg
from openpyxl import Workbook

from service.core.cluster import APP_ROLE, OWNER_ROLE

HEADERS = ["编号", "司法所名称", "乡镇(街道)代码", "经度", "纬度", "坐标系", "地址", "在岗人数"]
NATION_ROWS = 40_000


def ensure_divisions(c: Any) -> int:
    """The national township set in tenant 00, without offices."""
    upper, towns = bench.national_files()
    bench.registry(c, "db", "upgrade")
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE))) as conn:
        try:
            n = conn.execute("SELECT count(*) FROM divisions WHERE level = 'township'").fetchone()
        except psycopg.errors.UndefinedTable:
            n = (0,)
    if n is None or n[0] < 40000:
        bench.reset_database(c)
        for path in (upper, towns):
            bench.registry(
                c, "import", "divisions", str(path), "--tenant", "00", "--valid-from", "2023-01-01"
            )
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE))) as conn:
        return int(conn.execute("SELECT id FROM tenants WHERE code = '00'").fetchone()[0])


def clear_offices(c: Any) -> None:
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE)), autocommit=True) as conn:
        for table in ("acceptance_events", "evidence_files", "office_staff_personal"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM office_staff")
        conn.execute("DELETE FROM office_facilities")
        conn.execute("DELETE FROM offices")
        conn.execute("DELETE FROM login_failures")  # earlier runs' logins (a private cluster)
        conn.execute("VACUUM ANALYZE offices")


def township_points(c: Any) -> list[tuple[str, str, str, str, float, float, str | None]]:
    """(code, name, kind, county, lon, lat, a neighbour's code) of every current township."""
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE))) as conn:
        rows = conn.execute(
            """SELECT t.code, t.name, t.kind, c.name, ST_X(p.pt), ST_Y(p.pt)
                 FROM divisions t
                 JOIN divisions c ON c.tenant_id = t.tenant_id AND c.code = t.parent_code
                                 AND c.valid_to IS NULL
                 CROSS JOIN LATERAL (SELECT ST_PointOnSurface(t.geom) AS pt) p
                WHERE t.level = 'township' AND t.valid_to IS NULL
                ORDER BY t.code"""
        ).fetchall()
    # the neighbour: the next township of the same county (the first one's: the last)
    out = []
    for i, row in enumerate(rows):
        same = [r for r in rows[max(i - 1, 0) : i + 2] if r[0][:6] == row[0][:6] and r is not row]
        out.append((*row, same[-1][0] if same else None))
    return out


def roster_rows(towns: list[tuple], n: int | None, tag: str, seed: int) -> list[list[Any]]:
    """One row per township (then second offices up to `n`), perturbed as real rosters are."""
    from geo.chinacoords import wgs84_to_gcj02
    from service.offices.naming import expected_name

    rng = random.Random(seed)
    where = {t[0]: (t[4], t[5]) for t in towns}
    picks = list(towns)
    while n is not None and len(picks) < n:
        picks.append(rng.choice(towns))
    rows = []
    for i, (code, name, kind, county, lon, lat, neighbour) in enumerate(picks[: n or None]):
        roll = rng.random()
        if roll < 0.02:
            lon, lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        elif roll < 0.03 and neighbour in where:
            lon, lat = where[neighbour]
        office = expected_name(county, name, kind) if roll > 0.04 or roll < 0.03 else f"{name}所"
        rows.append([f"{tag}-{i}", office, code, lon, lat, "WGS84", f"{county}{name}政府院内", 3])
    return rows


def write_xlsx(rows: list[list[Any]], path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)


FLOOR = """
INSERT INTO offices (tenant_id, name, division_id, division_code, located_division_id,
                     located_code, geom, address, staff_total, external_id)
SELECT %(t)s, u.name, reg.id, reg.code, loc.id, loc.code, p.pt, u.address, u.staff, u.ext
  FROM unnest(%(names)s::text[], %(codes)s::text[], %(xs)s::float8[], %(ys)s::float8[],
              %(addresses)s::text[], %(staff)s::int[], %(exts)s::text[])
       AS u(name, code, x, y, address, staff, ext)
 CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS pt) p
  JOIN divisions reg ON reg.tenant_id = %(t)s AND reg.code = u.code AND reg.valid_to IS NULL
  LEFT JOIN divisions loc ON loc.tenant_id = %(t)s AND loc.id = CASE
        WHEN reg.geom ~ p.pt AND ST_Covers(reg.geom, p.pt) THEN reg.id
        ELSE (SELECT d.id FROM divisions d WHERE d.tenant_id = %(t)s AND d.level = 'township'
                 AND d.valid_to IS NULL AND d.geom ~ p.pt AND ST_Covers(d.geom, p.pt)
               ORDER BY d.code LIMIT 1) END"""


def floor_seconds(c: Any, tenant: int, rows: list[list[Any]]) -> float:
    """The rows written and located by one statement of the service role (rolled back)."""
    params = {
        "t": tenant,
        "exts": [r[0] for r in rows],
        "names": [r[1] for r in rows],
        "codes": [r[2] for r in rows],
        "xs": [r[3] for r in rows],
        "ys": [r[4] for r in rows],
        "addresses": [r[6] for r in rows],
        "staff": [r[7] for r in rows],
    }
    with psycopg.connect(bench.pg(c.url(APP_ROLE))) as conn:
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.region', '*', true)",
            (str(tenant),),
        )
        t0 = time.perf_counter()
        conn.execute(FLOOR, params)
        elapsed = time.perf_counter() - t0
        conn.rollback()
    return elapsed


def _upload(client: Any, headers: dict[str, str], path: Path, dry_run: bool) -> float:
    t0 = time.perf_counter()
    r = client.post(
        "/api/v1/offices/import",
        files={"file": (path.name, path.read_bytes())},
        data={"dry_run": str(dry_run).lower()},
        headers=headers,
    )
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"roster import failed: {r.status_code} {r.text[:500]}")
    report = r.json()
    bench.log(
        f"  {path.name}: {elapsed:.2f} s, created {report['created']}, updated "
        f"{report['updated']}, malformed {len(report['malformed'])}, "
        f"violations {len(report['violations'])}"
    )
    return elapsed


_DEVICE: dict[str, str] = {}  # the admin's device token, as a well-behaved script keeps it


def _session(base: str) -> tuple[Any, dict[str, str]]:
    import httpx2 as httpx

    client = httpx.Client(base_url=base, timeout=600)
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "nation_admin", "password": bench.PASSWORD, **_DEVICE},
    )
    if r.status_code != 200:
        raise SystemExit(f"login failed: {r.status_code} {r.text[:300]}")
    _DEVICE["device_token"] = r.json()["device_token"]
    return client, {"Authorization": f"Bearer {r.json()['access_token']}"}


def bench_roster(runs: int) -> dict[str, Any]:
    c = bench.cluster()
    tenant = ensure_divisions(c)
    clear_offices(c)
    towns = township_points(c)
    henan = [t for t in towns if t[0].startswith("41")]
    others = [t for t in towns if not t[0].startswith("41")]
    work = Path(tempfile.mkdtemp(prefix="bench-roster-"))
    henan_rows = roster_rows(henan, None, "HN", 1)
    nation_rows = roster_rows(others, NATION_ROWS, "CN", 2)
    write_xlsx(henan_rows, work / "henan.xlsx")
    write_xlsx(nation_rows, work / "nation.xlsx")
    port = int(os.environ.get("REGISTRY_BENCH_HTTP_PORT", "18767"))
    out: dict[str, Any] = {"benchmark": "roster", "runs": runs, "henan_rows": len(henan_rows)}

    def henan_case(label: str) -> None:
        server = bench.serve(c, port)
        try:
            client, headers = _session(f"http://127.0.0.1:{port}")
            _upload(client, headers, work / "henan.xlsx", dry_run=True)  # warm
            times = [_upload(client, headers, work / "henan.xlsx", True) for _ in range(runs)]
            floors = [floor_seconds(c, tenant, henan_rows) for _ in range(runs)]
        finally:
            server.terminate()
            server.wait(timeout=30)
        http, floor = statistics.median(times), statistics.median(floors)
        out[label] = {
            "dry_run_s": round(http, 2),
            "sql_floor_s": round(floor, 2),
            "ratio": round(http / floor, 1),
        }

    henan_case("henan into an empty registry")
    server = bench.serve(c, port)
    try:
        client, headers = _session(f"http://127.0.0.1:{port}")
        floor = floor_seconds(c, tenant, nation_rows)
        seconds = _upload(client, headers, work / "nation.xlsx", dry_run=False)
        out["nation"] = {
            "rows": len(nation_rows),
            "import_s": round(seconds, 2),
            "sql_floor_s": round(floor, 2),
            "ratio": round(seconds / floor, 1),
            "server_peak_rss_mb": round(bench.peak_rss_mb(server.pid)),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    henan_case("henan into the full registry")
    clear_offices(c)  # the other benches load their own demo offices into an empty table
    empty = out["henan into an empty registry"]["dry_run_s"]
    out["full_to_empty"] = round(out["henan into the full registry"]["dry_run_s"] / empty, 2)
    out["bars"] = (
        "Henan <= 2 s; nation (40,000 rows) <= 20 s; peak RSS <= 500 MB; "
        "full registry <= 1.5x empty"
    )
    return out


def bench_login(storm: int = 50) -> dict[str, Any]:
    import httpx2 as httpx

    c = bench.cluster()
    ensure_divisions(c)
    users = {"storm_a": "county_bureau", "storm_b": "county_bureau", "storm_watch": "viewer"}
    password = "storm-password-123"
    pw = Path(tempfile.mkdtemp()) / "pw"
    pw.write_text(password)
    for name, role in users.items():
        region = "410184" if role == "county_bureau" else "41"
        with contextlib.suppress(subprocess.CalledProcessError):  # there from a last run
            bench.registry(
                c, "user", "create", "--tenant", "00", "--username", name, "--role", role,
                "--region", region, "--password-file", str(pw),
            )  # fmt: skip
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE)), autocommit=True) as conn:
        conn.execute("DELETE FROM login_failures")
    port = int(os.environ.get("REGISTRY_BENCH_HTTP_PORT", "18768"))
    server = bench.serve(c, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": "storm_watch", "password": password}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            quiet = []
            for _ in range(60):
                t0 = time.perf_counter()
                client.get("/api/v1/me", headers=headers).raise_for_status()
                quiet.append((time.perf_counter() - t0) * 1000)
        codes: list[int] = []
        waits: list[float] = []
        stop = threading.Event()
        barrier = threading.Barrier(storm)

        def attempt(i: int) -> None:
            user = ("storm_a", "storm_b")[i % 2]
            guess = password if i % 3 == 0 else f"wrong-{i}-password"
            with httpx.Client(base_url=base, timeout=120) as c2:
                barrier.wait()
                codes.append(
                    c2.post(
                        "/api/v1/auth/token", data={"username": user, "password": guess}
                    ).status_code
                )

        def watch() -> None:
            with httpx.Client(base_url=base, timeout=120) as c3:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    c3.get("/api/v1/me", headers=headers)
                    waits.append((time.perf_counter() - t0) * 1000)
                    time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        storm_s = bench.run_at_once(attempt, storm)
        stop.set()
        watcher.join()
        with psycopg.connect(bench.pg(c.url(OWNER_ROLE))) as conn:
            attempts = dict(
                conn.execute(
                    "SELECT key, failures FROM login_failures WHERE key LIKE 'user:storm_%'"
                ).fetchall()
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    p50q = statistics.median(quiet)
    waits.sort()
    return {
        "benchmark": "login",
        "storm": storm,
        "statuses": dict(Counter(codes)),
        "storm_s": round(storm_s, 2),
        "attempts_counted_per_username": attempts,
        "bystander_requests_during_storm": len(waits),
        "bystander_quiet_p50_ms": round(p50q, 1),
        "bystander_storm_p50_ms": round(statistics.median(waits), 1),
        "bystander_storm_p99_ms": round(waits[int(0.99 * (len(waits) - 1))], 1),
        "ratio_p50": round(statistics.median(waits) / p50q, 1),
        "bars": "0 x 5xx; bystander p99 <= 1000 ms; <= 5 verifications per username",
    }
