"""`scripts/bench load`: fifty bureau users at once, through locust (PyPI), against this tree
and against the baseline commit 5d83116 in the same run, each served by `registry serve
--workers 2` on 127.0.0.1 from its own copy of the demo (河南 and 山西) in the bench cluster.

What the users do is `scripts/load_mix.py` (the locustfile): planners (coverage summary, gaps,
a coverage map with everything a browser fetches for it), city bureaus (acceptance list,
office pages, accept or reject an applied office), county bureaus (office edits with If-Match,
one deliberately stale; applying for acceptance; a roster checked by import), office staff
(facilities read and saved). Throughput is counted in those user actions per second, the same
actions on both versions: a map view is one action whether its data comes inline (the
baseline) or as GeoJSON and tiles (this tree). Requests per second are printed beside it.

Each version's demo database is made once from its own code (`registry db upgrade`,
`registry import demo`, the load users by `registry user create`) and kept as a template;
every run starts from a fresh copy of it, so the acceptance states and edits of one run do
not carry over. The baseline's code is `git archive`d into var/bench-baseline/src with its own
virtualenv (pinned by its own constraints.txt); locust lives in var/bench-locust, pinned by
scripts/load-requirements.txt.

Server memory: the resident set of the server and its workers, sampled every 5 s."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchlib as bench
import psycopg

from service.core.cluster import APP_ROLE, LEAKPROOF_SQL, OWNER_ROLE, LocalCluster

BASELINE = "5d83116"
BASE_DIR = bench.VAR / "bench-baseline"
LOCUST_VENV = bench.VAR / "bench-locust"
REQUIREMENTS = bench.ROOT / "scripts" / "load-requirements.txt"
LOCUSTFILE = bench.ROOT / "scripts" / "load_mix.py"
USERS = 50
# (class in load_mix.py, role, how many): the bureaus of 郑州 (4101) and the Henan planners
ACCOUNTS = {"planner": 10, "city": 12, "county": 15, "staff": 13}
CITY = "4101"  # the county bureaus' and office staff's city
# the city bureaus: the Henan cities with most offices not yet titled, 郑州 among them
CITIES = ["4113", "4115", "4114", "4116", "4101", "4103", "4117", "4107", "4104", "4105",
          "4102", "4108"]  # fmt: skip
PLANNER_CITIES = [*CITIES, "4110", "4109", "4112", "4111", "4106", "4190"]
# Before the run, every Henan office not titled is put in 已申报待验收 (as if its county had
# applied): the pool the city bureaus decide on. The demo has no applied office that meets
# the mandatory criteria, so a decision is a rejection, and an office rejected goes back to
# its county; the bureaus' own applications would be refused (409) on both versions.
APPLIED_POOL = """
SELECT set_config('app.username', 'bench-load', true), set_config('app.role', 'operator', true),
       set_config('app.user_id', '0', true), set_config('app.request_id', 'bench-load', true);
UPDATE offices SET acceptance_state = 'applied', state_changed_on = current_date - 30
 WHERE division_code LIKE '41%' AND closed_at IS NULL
   AND acceptance_state IN ('not_applied', 'self_checked', 'rejected', 'revoked');
"""


@dataclass
class Version:
    name: str  # "baseline" or "head"
    source: Path  # the tree whose code is served
    venv: Path
    database: str
    port: int

    def registry(self, c: LocalCluster, *args: str, database: str | None = None) -> str:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.source),
            "DATABASE_URL": self.url(c, APP_ROLE, database),
            "REGISTRY_MIGRATION_DATABASE_URL": self.url(c, OWNER_ROLE, database),
            "REGISTRY_VAR_DIR": str(self.var),
            "REGISTRY_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
        }
        done = subprocess.run(
            [str(self.venv / "bin" / "registry"), *args],
            env=env,
            cwd=self.source,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"{self.name}: registry {' '.join(args)}: {done.stderr[-3000:]}")
        return done.stdout

    @property
    def var(self) -> Path:
        return bench.VAR / f"bench-load-{self.name}"

    def url(self, c: LocalCluster, role: str, database: str | None = None) -> str:
        return c.url(role, database or self.database)


def _run(cmd: list[str], **kw: Any) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {done.stdout[-2000:]} {done.stderr[-2000:]}")


def baseline_tree() -> Version:
    """The baseline commit's code and its own virtualenv, made once."""
    src, venv = BASE_DIR / "src", BASE_DIR / "venv"
    marker = BASE_DIR / "src.commit"
    if not (marker.exists() and marker.read_text() == BASELINE and src.exists()):
        bench.log(f"extracting {BASELINE} ...")
        _run(["rm", "-rf", str(src)])
        src.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(bench.ROOT), "archive", BASELINE], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        marker.write_text(BASELINE)
        _run(["rm", "-rf", str(venv)])
    if not (venv / "bin" / "registry").exists():
        bench.log("installing the baseline's virtualenv ...")
        _run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "pip"), "install", "-q"]
        _run([*pip, "-c", str(src / "constraints.txt"), "-e", str(src)])
    return Version("baseline", src, venv, "load_base", 18841)


def head_tree() -> Version:
    return Version("head", bench.ROOT, bench.ROOT / ".venv", "load_head", 18842)


def locust() -> Path:
    """locust in its own virtualenv (gevent must not be imported into the service's)."""
    exe = LOCUST_VENV / "bin" / "locust"
    stamp = LOCUST_VENV / "requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not (exe.exists() and stamp.exists() and stamp.read_text() == digest):
        bench.log("installing locust ...")
        _run([sys.executable, "-m", "venv", str(LOCUST_VENV)])
        _run([str(LOCUST_VENV / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)])
        stamp.write_text(digest)
    return exe


def _fingerprint(v: Version) -> str:
    """What a version's template is made from: its migrations, demo loader and users."""
    h = hashlib.sha256(json.dumps([ACCOUNTS, CITIES, APPLIED_POOL]).encode())
    for folder in ("migrations/versions", "service/demo"):
        for path in sorted((v.source / folder).rglob("*.py")):
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _admin(c: LocalCluster) -> psycopg.Connection:
    return psycopg.connect(bench.pg(c.url("postgres", "postgres")), autocommit=True)


def template(c: LocalCluster, v: Version) -> str:
    """The version's demo database with the load users, made once per fingerprint."""
    name = f"{v.database}_tpl"
    stamp = _fingerprint(v)
    with _admin(c) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row and row[0] == stamp:
        return name
    bench.log(f"{v.name}: making the demo database ...")
    with _admin(c) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {name} OWNER "{OWNER_ROLE}"')
    with psycopg.connect(bench.pg(c.url("postgres", name)), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(LEAKPROOF_SQL)
        conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{APP_ROLE}"')
    v.var.mkdir(parents=True, exist_ok=True)
    v.registry(c, "db", "upgrade", database=name)
    v.registry(c, "import", "demo", "--provinces", "41,14", database=name)
    password = v.var / "load-password"
    password.write_text(bench.PASSWORD)
    for kind, region in _regions(c, name).items():
        role = {"planner": "province_planner", "city": "city_bureau"}.get(kind.split("_")[0])
        role = role or {"county": "county_bureau", "staff": "office_staff"}[kind.split("_")[0]]
        v.registry(
            c, "user", "create", "--tenant", "41", "--username", f"load_{kind}", "--role",
            role, "--region", region, "--password-file", str(password), database=name,
        )  # fmt: skip
    with psycopg.connect(bench.pg(v.url(c, OWNER_ROLE, name))) as conn:
        conn.execute(APPLIED_POOL)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    with _admin(c) as conn:
        conn.execute(f"COMMENT ON DATABASE {name} IS '{stamp}'")
    return name


def _regions(c: LocalCluster, database: str) -> dict[str, str]:
    """load_<kind>_<n> → its region: planners the province, city bureaus 郑州, county bureaus
    郑州's counties in turn, office staff one township each that has an office."""
    with psycopg.connect(bench.pg(c.url(OWNER_ROLE, database))) as conn:
        counties = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT substr(division_code, 1, 6) FROM offices"
                " WHERE division_code LIKE %s ORDER BY 1",
                (CITY + "%",),
            )
        ]
        townships = [
            r[0]
            for r in conn.execute(
                "SELECT division_code FROM offices WHERE division_code LIKE %s"
                " GROUP BY division_code ORDER BY md5(division_code) LIMIT %s",
                (CITY + "%", ACCOUNTS["staff"]),
            )
        ]
    out = {}
    for n in range(ACCOUNTS["planner"]):
        out[f"planner_{n}"] = "41"
    for n in range(ACCOUNTS["city"]):
        out[f"city_{n}"] = CITIES[n % len(CITIES)]
    for n in range(ACCOUNTS["county"]):
        out[f"county_{n}"] = counties[n % len(counties)]
    for n, township in enumerate(townships):
        out[f"staff_{n}"] = township
    return out


def fresh_copy(c: LocalCluster, v: Version) -> None:
    tpl = template(c, v)
    with _admin(c) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {v.database} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {v.database} TEMPLATE {tpl} OWNER "{OWNER_ROLE}"')
        conn.execute(f'GRANT CONNECT ON DATABASE {v.database} TO "{APP_ROLE}"')


def serve(c: LocalCluster, v: Version, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(v.source),
        "DATABASE_URL": v.url(c, APP_ROLE),
        "REGISTRY_MIGRATION_DATABASE_URL": v.url(c, OWNER_ROLE),
        "REGISTRY_VAR_DIR": str(v.var),
        "REGISTRY_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
    }
    server = subprocess.Popen(
        [
            str(v.venv / "bin" / "registry"),
            "serve",
            "--port",
            str(v.port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=v.source,
        stdout=subprocess.DEVNULL,
        stderr=open(v.var / "serve.log", "w"),  # noqa: SIM115 (the server's own, kept to read)
    )
    import httpx2 as httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{v.port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{v.name}: the server did not start; see {v.var / 'serve.log'}")


def login_all(v: Version) -> Path:
    """Every load account logged in, one after another: {account: access token} in a file."""
    import httpx2 as httpx

    tokens = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{v.port}", timeout=60) as client:
        for kind, count in ACCOUNTS.items():
            for n in range(count):
                account = f"load_{kind}_{n}"
                r = client.post(
                    "/api/v1/auth/token", data={"username": account, "password": bench.PASSWORD}
                )
                if r.status_code != 200:
                    raise SystemExit(f"{v.name}: {account} cannot log in: {r.text[:300]}")
                tokens[account] = r.json()["access_token"]
    path = v.var / "tokens.json"
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return path


def run_mix(c: LocalCluster, v: Version, seconds: int, workers: int) -> dict[str, Any]:
    """The mix against a fresh copy of the version's demo: locust's figures and the server's
    memory every 5 s."""
    fresh_copy(c, v)
    server = serve(c, v, workers)
    out = v.var / "load.json"
    out.unlink(missing_ok=True)
    memory: list[float] = []
    cached: list[float] = []  # what this tree's caches hold then (the baseline has none)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(5):
            memory.append(round(bench.memory_mb(server.pid), 1))
            cached.append(round(_cache_mb(v), 1))

    sampler = threading.Thread(target=sample, daemon=True)
    env = {
        **os.environ,
        "LOAD_OUT": str(out),
        "LOAD_USERS": str(USERS),
        "LOAD_TOKENS": str(login_all(v)),
        "LOAD_CITIES": ",".join(CITIES),
        "LOAD_PLANNER_CITIES": ",".join(PLANNER_CITIES),
    }
    cmd = [
        str(locust()), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--users", str(USERS), "--spawn-rate", "10", "--run-time", f"{seconds}s",
        "--host", f"http://127.0.0.1:{v.port}", "--stop-timeout", "30",
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    bench.log(f"{v.name}: {USERS} users for {seconds} s ...")
    try:
        sampler.start()
        postmaster = bench.postmaster_pid(c)
        app0, db0 = _cpu(_tree(server.pid)), _cpu(_tree(postmaster))
        ended0 = _reaped(postmaster)
        client0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        machine0 = _machine()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=v.var)
        wall = time.perf_counter() - t0
        machine1 = _machine()
        client1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        app1, db1 = _cpu(_tree(server.pid)), _cpu(_tree(postmaster))
        ended = _reaped(postmaster) - ended0
        stop.set()
        sampler.join()
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"{v.name}: locust failed: {done.stderr[-3000:]}")
        kept = _kept(v)
    finally:
        server.terminate()
        server.wait()

    def used(after: dict[int, float], before: dict[int, float]) -> float:
        return round(sum(t - before.get(pid, 0.0) for pid, t in after.items()) / wall, 2)

    client = sum(getattr(client1, f) - getattr(client0, f) for f in ("ru_utime", "ru_stime"))
    cores = {
        "app (server and workers)": used(app1, app0),
        # (with the backends that ended meanwhile: a pool's overflow connections come and go)
        "database (every backend)": round(used(db1, db0) + ended / wall, 2),
        "locust": round(client / wall, 2),
        "the whole machine": round((machine1 - machine0) / wall, 2),
    }
    return {
        **summarise(v, json.loads(out.read_text()), memory, cached),
        **kept,
        "CPU cores in use on average (of 2)": cores,
    }


def _machine() -> float:
    """CPU seconds the machine has been busy (every core, every process, the kernel)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / bench.CLOCK_TICKS


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    return [pid, *(p for child in bench.children(pid) for p in _tree(child))]


def _reaped(pid: int) -> float:
    """CPU seconds of a process's children that have ended (and been waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / bench.CLOCK_TICKS


def _cpu(pids: list[int]) -> dict[int, float]:
    return {pid: bench.cpu_seconds([pid]) for pid in pids}


def _cache_mb(v: Version) -> float:
    """MB the server's caches hold now, from /metrics (0 where it has none)."""
    import httpx2 as httpx

    try:
        r = httpx.get(f"http://127.0.0.1:{v.port}/metrics", timeout=10)
    except httpx.HTTPError:
        return 0.0
    if r.status_code != 200:
        return 0.0
    held = sum(
        float(line.rsplit(" ", 1)[1])
        for line in r.text.splitlines()
        if line.startswith("registry_cache_bytes{")
    )
    return held / 2**20


def _kept(v: Version) -> dict[str, Any]:
    """This tree's cache lookups over the run, from /metrics (the baseline has neither)."""
    import httpx2 as httpx

    r = httpx.get(f"http://127.0.0.1:{v.port}/metrics", timeout=30)
    if r.status_code != 200:
        return {}
    lookups = {}
    for line in r.text.splitlines():
        if line.startswith("registry_cache_lookups_total{"):
            labels, value = line.rsplit(" ", 1)
            lookups[labels.split("{", 1)[1].rstrip("}")] = int(float(value))
    return {"cache lookups (from /metrics)": lookups}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _tail(by_name: dict[str, list[float]]) -> dict[str, Any]:
    """Each kind of request's count, p50 and p99, and which kinds the slowest 1 % of all
    requests were (the request p99 is theirs to improve)."""
    if not by_name:
        return {}
    every = sorted((t, name) for name, times in by_name.items() for t in times)
    slowest = every[int(0.99 * len(every)) :]
    counts: dict[str, int] = {}
    for _, name in slowest:
        counts[name] = counts.get(name, 0) + 1
    return {
        "per request (count, p50 ms, p99 ms)": {
            name: (len(t), round(_pct(t, 0.5)), round(_pct(t, 0.99)))
            for name, t in sorted(by_name.items())
        },
        "the slowest 1 % of requests, by kind": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
    }


def summarise(
    v: Version, raw: dict[str, Any], memory: list[float], cached: list[float]
) -> dict[str, Any]:
    seconds = raw["seconds"]
    actions = raw["actions"]
    n_actions = sum(len(t) for t in actions.values())
    third = max(len(memory) // 3, 1)
    return {
        "version": v.name,
        "measured s": round(seconds, 1),
        "actions/s": round(n_actions / seconds, 1),
        "requests/s": round(len(raw["requests"]) / seconds, 1),
        "request p50 ms": round(_pct(raw["requests"], 0.5), 1),
        "request p99 ms": round(_pct(raw["requests"], 0.99), 1),
        "action p50 ms": round(_pct([x for t in actions.values() for x in t], 0.5), 1),
        "action p99 ms": round(_pct([x for t in actions.values() for x in t], 0.99), 1),
        "statuses": raw["statuses"],
        "failures": raw["failures"],
        "failure examples": raw["examples"],
        "notes": raw["notes"],
        "per action (count, p50 ms, p99 ms)": {
            name: (len(t), round(_pct(t, 0.5)), round(_pct(t, 0.99)))
            for name, t in sorted(actions.items())
        },
        **_tail(raw.get("by name", {})),
        "server RSS MB (first third avg, last third avg, max)": (
            round(sum(memory[:third]) / third),
            round(sum(memory[-third:]) / third),
            round(max(memory, default=0)),
        ),
        "server RSS MB every 5 s": memory,
        "caches' MB every 5 s": cached,
        "server RSS less caches MB (first third avg, last third avg)": (
            round(sum(m - c for m, c in zip(memory[:third], cached[:third], strict=True)) / third),
            round(
                sum(m - c for m, c in zip(memory[-third:], cached[-third:], strict=True)) / third
            ),
        ),
    }


def bench_load(seconds: int, baseline_seconds: int, workers: int = 2) -> dict[str, Any]:
    c = bench.cluster()
    versions = [baseline_tree(), head_tree()]
    locust()
    for v in versions:
        template(c, v)
    results = {v.name: run_mix(c, v, seconds if v.name == "head" else baseline_seconds, workers)
               for v in versions}  # fmt: skip
    base, head = results["baseline"], results["head"]
    return {
        "benchmark": "load",
        "users": USERS,
        "workers": workers,
        "baseline": base,
        "head": head,
        "throughput ratio (actions/s, head / baseline)": round(
            head["actions/s"] / base["actions/s"], 2
        ),
        "bars": "head >= 5x baseline actions/s; head p99 <= 1 s; 0 errors; memory flat over 5 min",
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(bench_load(*(args or [300, 120])), ensure_ascii=False, indent=1))
