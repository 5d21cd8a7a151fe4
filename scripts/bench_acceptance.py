"""`scripts/bench acceptance`: compliance of a province, a city's acceptance overview and the
nation's progress over HTTP, each against the raw SQL of the same question (same run); and
the office list page (GET /offices) of a province admin and a city bureau.

The national tenant gets the 河南 standards and demo records (facilities, staff, acceptance
histories for ≈40,000 offices) once; they are kept in var/bench-pg like the rest.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

import benchlib as bench
from sqlalchemy import create_engine, text

from service.core.cluster import APP_ROLE
from service.offices.states import TITLED


def floors(tenant: int) -> dict[str, tuple[Any, dict[str, Any]]]:
    """The same questions in SQL, as the service asks them (the floor of each report)."""
    from service.acceptance import reports
    from service.coverage.query import CoverageFilter

    today = date.today()
    nation = CoverageFilter(tenant_id=tenant, region="")
    return {
        "province compliance": (
            "",  # built from the criteria of the standard in force (bench_acceptance)
            {
                "t": tenant,
                "region": "41",
                "offices": None,
                "std": None,
                "year": today.year,
                "as_of": today,
                "since": date(2010, 1, 1),
                "grace_ends": today.replace(year=today.year - 3),
                "child_len": 4,
            },
        ),
        # the overview is three statements: counts, a page of offices, re-inspections due
        "city acceptance": (
            [
                reports._counts(),
                reports._page(due=False, by_state=False),
                reports._page(due=True, by_state=False),
            ],
            {
                "t": tenant,
                "region": "4101",
                "titled": list(TITLED),
                "months": 24,
                "w": 6,
                "state": None,
                "today": date.today(),
                "soon": date.today(),
                "limit": 100,
                "offset": 0,
            },
        ),
        "nation progress": (
            reports._progress(historical=False),
            {**nation.params(), "titled": list(TITLED), "w": 4},
        ),
        "nation progress 2008-12-31": (
            reports._progress(historical=True),
            {
                **CoverageFilter(tenant_id=tenant, region="", as_of=date(2008, 12, 31)).params(),
                "titled": list(TITLED),
                "w": 4,
            },
        ),
    }


def run_floor(conn: Any, sql: Any, params: dict[str, Any]) -> None:
    """Run the floor's statements (the service's own: one Core statement or a list)."""
    for statement in sql if isinstance(sql, list) else [sql]:
        conn.execute(statement, params).fetchall()


PATHS = {
    "province compliance": ("/api/v1/compliance", {"region": "41"}),
    "city acceptance": ("/api/v1/acceptance", {"region": "4101"}),
    "nation progress": ("/api/v1/progress", {}),
    "nation progress 2008-12-31": ("/api/v1/progress", {"as_of": "2008-12-31"}),
}
BARS = {"province compliance": 300, "city acceptance": 30, "nation progress": 100}
# the list page (GET /offices) as a province admin and a city bureau see it: compliance
# column, ordered by the score (every office of the region measured)
OFFICE_LIST_USERS = {
    "bench_province": ("province_admin", "41"),
    "bench_city": ("city_bureau", "4101"),
}
OFFICE_LIST_CASES = {
    "office list page, province by score": ("bench_province", {"region": "41", "sort": "score"}),
    "office list page, province by code": ("bench_province", {"region": "41"}),
    "office list page, city by score": ("bench_city", {"sort": "score", "order": "desc"}),
    "office list export, city (xlsx)": ("bench_city", {"format": "xlsx"}),
}
OFFICE_LIST_BAR_MS = 300


def bench_office_list(client: Any, admin: dict[str, str], runs: int) -> dict[str, Any]:
    """p50 of the office list page (and a city's export) for the users it is for."""
    out: dict[str, Any] = {}
    tokens = {}
    for username, (role, region) in OFFICE_LIST_USERS.items():
        body = {"username": username, "password": bench.PASSWORD, "role": role}
        r = client.post("/api/v1/users", json=body | {"region_code": region}, headers=admin)
        if r.status_code not in (201, 409):
            r.raise_for_status()
        tokens[username] = client.post(
            "/api/v1/auth/token", data={"username": username, "password": bench.PASSWORD}
        ).json()["access_token"]
    for name, (username, params) in OFFICE_LIST_CASES.items():
        path = "/api/v1/offices" if "format" in params else "/offices"
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        for _ in range(3):  # warm
            client.get(path, params=params, headers=headers).raise_for_status()
        http_ms, db_ms = [], []
        for _ in range(runs):
            r, ms = bench.timed_get(client, path, params, headers)
            http_ms.append(ms)
            db_ms.append(bench.server_timing(r.headers["server-timing"])[0])
        out[name] = {
            "http_p50_ms": round(statistics.median(http_ms), 1),
            "http_max_ms": round(max(http_ms), 1),
            "server_db_p50_ms": round(statistics.median(db_ms), 1),
            "bar_ms": OFFICE_LIST_BAR_MS,
        }
    return out


def bench_acceptance(runs: int) -> dict[str, Any]:
    import httpx2 as httpx

    c = bench.cluster()
    tenant = bench.ensure_national_offices(c)
    out: dict[str, Any] = {"benchmark": "acceptance", "runs": runs}
    out["records_loaded"] = bench.ensure_records(c, tenant)
    engine = create_engine(c.url(APP_ROLE), pool_size=1)
    port = 18767
    server = bench.serve(c, port)
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client,
            engine.connect() as conn,
        ):
            token = client.post(
                "/api/v1/auth/token",
                data={"username": "nation_admin", "password": bench.PASSWORD},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            conn.execute(
                text(
                    "SELECT set_config('app.tenant_id', :t, false), set_config('app.region', '*', false)"
                ),
                {"t": str(tenant)},
            )
            std = conn.scalar(
                text(
                    "SELECT id FROM standards WHERE effective_from <= current_date"
                    " ORDER BY effective_from DESC, version DESC LIMIT 1"
                )
            )
            offices = conn.scalar(
                text(
                    "SELECT count(*) FROM offices WHERE closed_at IS NULL"
                    " AND division_code LIKE '41%'"
                )
            )
            out["province offices"] = offices
            conn.execute(text("SET plan_cache_mode = force_custom_plan"))
            from service.standards import compliance
            from service.standards.facts import status_params

            for name, (sql, params) in floors(tenant).items():
                if "std" in params:
                    params["std"] = std
                    criteria = conn.execute(
                        text(
                            "SELECT * FROM standard_criteria WHERE standard_id = :s"
                            " ORDER BY position"
                        ),
                        {"s": std},
                    ).all()
                    sql = compliance._region_statement(criteria)  # type: ignore[arg-type]
                    params.update(status_params(criteria))  # type: ignore[arg-type]
                path, query = PATHS[name]
                for _ in range(3):  # warm
                    client.get(path, params=query, headers=headers).raise_for_status()
                    run_floor(conn, sql, params)
                http_ms, db_ms, sql_ms = [], [], []
                for _ in range(runs):
                    r, ms = bench.timed_get(client, path, query, headers)
                    http_ms.append(ms)
                    db_ms.append(bench.server_timing(r.headers["server-timing"])[0])
                    t0 = time.perf_counter()
                    run_floor(conn, sql, params)
                    sql_ms.append((time.perf_counter() - t0) * 1000)
                http, floor = statistics.median(http_ms), statistics.median(sql_ms)
                out[name] = {
                    "http_p50_ms": round(http, 1),
                    "server_db_p50_ms": round(statistics.median(db_ms), 1),
                    "sql_same_question_p50_ms": round(floor, 1),
                    "ratio": round(http / floor, 2),
                    **({"bar_ms": BARS[name]} if name in BARS else {}),
                }
            out.update(bench_office_list(client, headers, runs))
        out["server_peak_rss_mb"] = round(bench.peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=10)
        engine.dispose()
    return out
