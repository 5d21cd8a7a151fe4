"""`scripts/bench cli`: how long the command line takes to answer, as a whole process —
`registry --help`, and `registry coverage gaps --tenant 00 --region 41` on the national set
against the same report asked in a warm connection in the same run (the command's own
work beyond its query: start-up, imports, connecting, writing). Bars: --help <= 0.3 s;
the report <= 0.5 s beyond its query.

Also measured in the same run: a bare interpreter importing only the third-party libraries
the command runs on (SQLAlchemy with its psycopg dialect, GeoAlchemy2 — which loads Shapely
and NumPy —, pydantic-settings, typer). That is the floor of any in-process command built on
the chosen dependencies; what the command takes beyond its query and that floor is our own
start-up."""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as bench

HELP_BAR_S = 0.3
BEYOND_QUERY_BAR_S = 0.5
REGION = "41"

# The third-party imports of `registry coverage gaps` (from `python -X importtime`).
LIBRARIES = (
    "import typer, pydantic_settings, psycopg, sqlalchemy.orm, geoalchemy2,"
    " sqlalchemy.dialects.postgresql.psycopg"
)


def _runs(cmd: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) times of the process; one run first, not counted: it
    writes the bytecode caches an installed command has, even where the caller's environment
    says not to. (CPU time moves less than wall time when other work shares the machine.)"""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls, cpus = [], []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def _query_s(c: Any, tenant: int, runs: int) -> float:
    """The gaps report in-process on a warm connection: the query the command waits for."""
    from service.accounts.scope import operator_scope
    from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
    from service.coverage import service as coverage
    from service.coverage.query import filter_for
    from service.tenants.policy import required_kinds

    database = Database(make_engine(c.url(bench.APP_ROLE), pool_size=1))
    times = []
    try:
        for i in range(runs + 1):
            with database.session() as session:
                bind_context(session, tenant_id=tenant, region=WHOLE_TENANT, username="bench")
                scope = operator_scope(
                    tenant_id=tenant,
                    tenant_code="00",
                    tenant_name="全国",
                    required_kinds=required_kinds(session, tenant),
                )
                t0 = time.perf_counter()
                coverage.gaps(session, filter_for(scope, REGION))
                if i:
                    times.append(time.perf_counter() - t0)
    finally:
        database.engine.dispose()
    return statistics.median(times)


def bench_cli(runs: int) -> dict[str, Any]:
    c = bench.cluster()
    tenant = bench.ensure_national_offices(c)
    env = bench.env_for(c)
    registry = str(bench.ROOT / ".venv" / "bin" / "registry")
    helps, help_cpus = _runs([registry, "--help"], env, runs)
    help_s = statistics.median(helps)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gaps.json"
        cmd = [registry, "coverage", "gaps", "--tenant", "00", "--region", REGION, "-o", str(out)]
        reports, report_cpus = _runs(cmd, env, runs)
    report_s = statistics.median(reports)
    python = str(bench.ROOT / ".venv" / "bin" / "python")
    libraries, _ = _runs([python, "-c", LIBRARIES], env, runs)
    libraries_s = statistics.median(libraries)
    query_s = _query_s(c, tenant, runs)
    beyond = report_s - query_s
    return {
        "benchmark": "cli",
        "runs": runs,
        "help_s": round(help_s, 3),
        "help_within_bar": help_s <= HELP_BAR_S,
        "help cpu s": round(statistics.median(help_cpus), 3),
        f"coverage gaps --region {REGION} s": round(report_s, 3),
        "coverage gaps cpu s": round(statistics.median(report_cpus), 3),
        "its query in-process s (floor)": round(query_s, 4),
        "beyond the query s": round(beyond, 3),
        # (the fastest run: the least disturbed by other work on a shared machine)
        "beyond the query, best run s": round(min(reports) - query_s, 3),
        "ratio to the floor": round(report_s / query_s, 1),
        "python importing the libraries alone s": round(libraries_s, 3),
        "beyond the query and the libraries s": round(beyond - libraries_s, 3),
        "beyond_within_bar": beyond <= BEYOND_QUERY_BAR_S,
    }
