"""What the benchmarks share: the private cluster in var/bench-pg with the national set
(31 provinces, ~41,000 generated townships, built once and cached in var/cache/), the
service started on it, and the timing helpers. `scripts/bench` runs the benchmarks; each
`bench_*.py` imports this module, never another benchmark."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pyogrio import raw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.core.cluster import APP_ROLE, OWNER_ROLE, LocalCluster  # noqa: E402
from service.core.settings import DEFAULT_VAR_DIR  # noqa: E402

VAR = DEFAULT_VAR_DIR
BENCH_DB = "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench-password-123"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cluster() -> LocalCluster:
    c = LocalCluster(
        VAR / "bench-pg",
        port=int(os.environ.get("REGISTRY_BENCH_PORT", "54339")),
        database=BENCH_DB,
    )
    c.ensure()
    return c


def pg(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def sql_conn(c: LocalCluster, role: str) -> psycopg.Connection:
    """A plain psycopg connection for report baselines, planned per execution like the
    service's reports (psycopg prepares repeated statements; a cached generic plan would
    slow the baseline down)."""
    return psycopg.connect(pg(c.url(role)), options="-c plan_cache_mode=force_custom_plan")


def env_for(c: LocalCluster) -> dict[str, str]:
    """The environment of a `registry` started by a benchmark: this tree's code first on the
    path (the shared virtualenv's editable install may point at another checkout)."""
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "DATABASE_URL": c.url(APP_ROLE),
        "REGISTRY_MIGRATION_DATABASE_URL": c.url(OWNER_ROLE),
        "REGISTRY_VAR_DIR": str(VAR / "bench-var"),
        "REGISTRY_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
    }


def registry(c: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "registry"), *args],
        env=env_for(c),
        check=True,
        capture_output=True,
        text=True,
    )


def national_files() -> tuple[Path, Path]:
    """(upper levels, townships) GeoPackages of the national set, built once and cached."""
    from service.demo.builder import cached_build

    cache = VAR / "cache" / "divisions"
    full = cached_build(None, cache, workers=2, progress=None)
    upper = cache / f"{full.stem}-upper.gpkg"
    towns = cache / f"{full.stem}-townships.gpkg"
    if not towns.exists():
        meta, _, wkb, fields = raw.read(full)
        names = list(meta["fields"])
        level = np.asarray(fields[names.index("level")])
        for path, mask in ((upper, level != "township"), (towns, level == "township")):
            tmp = path.with_suffix(".tmp.gpkg")
            raw.write(
                str(tmp),
                wkb[mask],
                [np.asarray(f)[mask] for f in fields],
                names,
                crs="EPSG:4326",
                driver="GPKG",
                geometry_type="MultiPolygon",
                layer="divisions",
            )
            tmp.rename(path)
    return upper, towns


def reset_database(c: LocalCluster) -> None:
    """A fresh, migrated bench database with the nationwide tenant and its upper levels."""
    with psycopg.connect(pg(c.url("postgres", "postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {BENCH_DB} OWNER "{OWNER_ROLE}"')
    c.bootstrap()
    registry(c, "db", "upgrade")
    pw = VAR / "bench-var" / "admin-password"
    pw.parent.mkdir(parents=True, exist_ok=True)
    pw.write_text(PASSWORD)
    registry(
        c,
        "tenant",
        "create",
        "--code",
        "00",
        "--name",
        "全国(基准测试)",
        "--admin",
        "nation_admin",
        "--password-file",
        str(pw),
    )


def ensure_national_offices(c: LocalCluster) -> int:
    """The national set with demo offices for every province (≈40,000), loaded once."""
    upper, towns = national_files()
    registry(c, "db", "upgrade")
    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:
        try:
            n = conn.execute("SELECT count(*) FROM divisions WHERE level = 'township'").fetchone()[
                0
            ]
        except psycopg.errors.UndefinedTable:
            n = 0
    if n < 40000:
        reset_database(c)
        registry(
            c, "import", "divisions", str(upper), "--tenant", "00", "--valid-from", "2023-01-01"
        )
        registry(
            c, "import", "divisions", str(towns), "--tenant", "00", "--valid-from", "2023-01-01"
        )
    with psycopg.connect(pg(c.url(OWNER_ROLE))) as conn:
        tenant = conn.execute("SELECT id FROM tenants WHERE code = '00'").fetchone()[0]
        offices = conn.execute("SELECT count(*) FROM offices").fetchone()[0]
    if offices < 30000:
        from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
        from service.demo.offices import load_offices

        database = Database(make_engine(c.url(APP_ROLE), pool_size=1))
        with database.session() as session:
            bind_context(session, tenant_id=tenant, region=WHOLE_TENANT, username="bench")
            load_offices(session=session, tenant_id=tenant)
        database.engine.dispose()
        with psycopg.connect(pg(c.url(OWNER_ROLE)), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE offices")
            conn.execute("VACUUM ANALYZE divisions")
    return int(tenant)


def median_ms(conn: psycopg.Connection, sql: str, params: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        conn.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def serve(
    c: LocalCluster, port: int, workers: int = 1, settings: dict[str, str] | None = None
) -> subprocess.Popen:
    """`registry serve` on the bench cluster, waited for; `settings`: more environment."""
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "registry"),
            *("serve", "--port", str(port), "--workers", str(workers)),
        ],
        env={**env_for(c), **(settings or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx2 as httpx

    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process and of all its children (a server's workers),
    added up: what the machine had to hold for it."""
    return memory_mb(pid, "VmHWM")


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of /proc/<pid>/status (resident now: VmRSS, peak: VmHWM) of a process
    and of all its children, added up; what has ended meanwhile counts nothing."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += memory_mb(int(child), field)
    except FileNotFoundError:
        pass
    return total


def timed_get(client: Any, path: str, params: Any, headers: dict[str, str]) -> tuple[Any, float]:
    """One GET through an HTTP client, an error status raised: its response and how long it
    took in milliseconds."""
    t0 = time.perf_counter()
    r = client.get(path, params=params, headers=headers)
    r.raise_for_status()
    return r, (time.perf_counter() - t0) * 1000


def run_at_once(target: Callable[[int], None], count: int) -> float:
    """`target(i)` for i in range(count), each on its own thread, all started together: the
    seconds from the first start until the last one ends."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def server_timing(header: str) -> tuple[float, float]:
    """(db, app) milliseconds from our Server-Timing header."""
    parts = {
        item.split(";")[0].strip(): float(item.split("dur=")[1].split(";")[0])
        for item in header.split(",")
    }
    return parts["db"], parts["app"]


def ensure_records(c: Any, tenant: int) -> dict[str, int]:
    from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
    from service.demo.records import load_records
    from service.standards.service import ensure_default_standards

    database = Database(make_engine(c.url(APP_ROLE), pool_size=1))
    with database.session() as session:
        bind_context(
            session, tenant_id=tenant, region=WHOLE_TENANT, username="bench", role="operator"
        )
        # the national tenant is judged by 河南's standards, published as a new 河南 tenant's are
        ensure_default_standards(session=session, tenant_id=tenant, tenant_code="41")
        t0 = time.perf_counter()
        loaded = load_records(session=session, tenant_id=tenant)
        loaded["seconds"] = round(time.perf_counter() - t0, 1)  # type: ignore[assignment]
    database.engine.dispose()
    if loaded["facilities"]:
        with psycopg.connect(pg(c.url(OWNER_ROLE)), autocommit=True) as conn:
            for table in ("office_facilities", "office_staff", "acceptance_events", "offices"):
                conn.execute(f"VACUUM ANALYZE {table}")
    return loaded


def ensure_user(c: LocalCluster, username: str, role: str, region: str) -> str:
    """A user of the national tenant (made once, password PASSWORD); its name."""
    with sql_conn(c, OWNER_ROLE) as conn:
        exists = conn.execute(
            "SELECT 1 FROM users u JOIN tenants t ON t.id = u.tenant_id"
            " WHERE t.code = '00' AND u.username = %s",
            (username,),
        ).fetchone()
    if not exists:
        pw = VAR / "bench-var" / "admin-password"
        registry(
            c, "user", "create", "--tenant", "00", "--username", username, "--role", role,
            "--region", region, "--password-file", str(pw),
        )  # fmt: skip
    return username


def access_token(base: str, username: str) -> str:
    """A read-only personal access token of `username`, made through the API as a user does;
    the tokens earlier runs made are revoked first (a user holds a bounded number, and the
    bench database outlives a run)."""
    import httpx2 as httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {login}"}
        held = client.get("/api/v1/auth/tokens", headers=headers)
        held.raise_for_status()
        for token in held.json()["items"]:
            if token["name"] == "bench" and token["state"] == "active":
                client.delete(f"/api/v1/auth/tokens/{token['id']}", headers=headers)
        made = client.post(
            "/api/v1/auth/tokens", json={"name": "bench", "expires_in_days": 1}, headers=headers
        )
        made.raise_for_status()
        return str(made.json()["token"])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # (a backend that ended meanwhile: its time is lost)
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def postmaster_pid(c: Any) -> int:
    """The PostgreSQL server process of a cluster (its backends are its children)."""
    return int((c.data_dir / "postmaster.pid").read_text().splitlines()[0])
