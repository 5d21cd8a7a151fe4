"""The operator CLI end to end, as separate processes against a database of its own:
migrations, tenant with admin, division import (good and bad), the demo loaded twice
without duplicates, and `registry serve` answering a login."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest
from factories import create_database

from service.cluster import free_port
from service.demo.offices import plan_offices

FIXTURES = Path(__file__).parent.parent / "fixtures"
REGISTRY = str(Path(sys.executable).parent / "registry")


def make_database(pg_cluster, name: str, var: Path) -> dict[str, str]:
    """A new empty database (PostGIS ready) and the environment the CLI needs for it."""
    owner, app = create_database(pg_cluster, name)
    return {
        **os.environ,
        "DATABASE_URL": app,
        "REGISTRY_MIGRATION_DATABASE_URL": owner,
        "REGISTRY_VAR_DIR": str(var),
        "REGISTRY_SECRET_KEY": "cli-test-secret-0123456789-0123456789",
    }


@pytest.fixture
def cli_env(pg_cluster, tmp_path) -> dict[str, str]:
    return make_database(pg_cluster, "cli_basic", tmp_path / "var")


@pytest.fixture(scope="module")
def demo_env(pg_cluster, tmp_path_factory) -> dict[str, str]:
    """One database for the demo tests (loading it is the slow part)."""
    return make_database(pg_cluster, "cli_demo", tmp_path_factory.mktemp("demo-var"))


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([REGISTRY, *args], env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def counts(env: dict[str, str]) -> tuple[int, ...]:
    url = env["REGISTRY_MIGRATION_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM divisions),"
            " (SELECT count(*) FROM offices), (SELECT count(*) FROM users)"
        ).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def test_cli_end_to_end(cli_env, tmp_path):
    env = cli_env
    run(env, "db", "upgrade")
    password = tmp_path / "pw.txt"
    password.write_text("a-long-admin-password\n")
    run(
        env,
        "tenant",
        "create",
        "--code",
        "42",
        "--name",
        "湖北省司法厅",
        "--admin",
        "hubei_admin",
        "--password-file",
        str(password),
    )
    dup = run(env, "tenant", "create", "--code", "42", "--name", "again", ok=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    assert "42\t湖北省司法厅" in run(env, "tenant", "list").stdout

    # a Henan file into the Hubei tenant: every feature is refused, nothing stored
    before = counts(env)
    bad = run(
        env, "import", "divisions", str(FIXTURES / "mini_henan.geojson"), "--tenant", "42", ok=False
    )
    assert bad.returncode == 1
    assert "nothing was imported" in bad.stderr and "is not in province 42" in bad.stderr
    assert counts(env) == before

    run(env, "tenant", "create", "--code", "14", "--name", "山西省司法厅")
    good = run(
        env,
        "import",
        "divisions",
        str(FIXTURES / "mini_shanxi.geojson"),
        "--tenant",
        "14",
        "--valid-from",
        "2023-01-01",
    )
    assert "13 features" in good.stderr and "13 new" in good.stderr
    again = run(
        env,
        "import",
        "divisions",
        str(FIXTURES / "mini_shanxi.geojson"),
        "--tenant",
        "14",
        "--valid-from",
        "2024-01-01",
    )
    assert "13 unchanged" in again.stderr


def test_demo_loads_twice_without_duplicates(demo_env):
    env = demo_env
    run(env, "db", "upgrade")
    first = run(env, "import", "demo", "--provinces", "41,14")
    after_first = counts(env)
    second = run(env, "import", "demo", "--provinces", "41,14")
    assert counts(env) == after_first
    assert "henan_admin" in first.stdout and "henan_admin" in second.stdout
    url = env["REGISTRY_MIGRATION_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        per_tenant = dict(
            conn.execute(
                "SELECT t.code, count(*) FROM divisions d JOIN tenants t ON t.id = d.tenant_id"
                " WHERE d.level = 'township' GROUP BY t.code"
            ).fetchall()
        )
        assert per_tenant["41"] == 2586 and per_tenant["14"] == 1352
        generated = conn.execute(
            "SELECT count(*) FROM divisions WHERE source NOT LIKE 'generated:%'"
            " AND tenant_id IN (SELECT id FROM tenants WHERE code IN ('41', '14'))"
        ).fetchone()
        assert generated == (0,)
        check_planted_cases(conn)


def check_planted_cases(conn: psycopg.Connection) -> None:
    """The demo's planted errors are all there, and nothing else is wrong."""
    for tenant in ("41", "14"):
        townships = conn.execute(
            "SELECT t.code, t.name, t.kind, coalesce(c.name, '') FROM divisions t"
            " JOIN tenants tt ON tt.id = t.tenant_id LEFT JOIN divisions c"
            "   ON c.tenant_id = t.tenant_id AND c.code = t.parent_code AND c.valid_to IS NULL"
            " WHERE tt.code = %s AND t.level = 'township' AND t.valid_to IS NULL ORDER BY t.code",
            (tenant,),
        ).fetchall()
        plan = plan_offices(townships)
        planted = {o.external_id for o in plan if o.plant}
        misplaced = {
            r[0]
            for r in conn.execute(
                "SELECT o.external_id FROM offices o JOIN tenants t ON t.id = o.tenant_id"
                " WHERE t.code = %s AND o.located_code IS DISTINCT FROM o.division_code",
                (tenant,),
            )
        }
        assert planted and misplaced == planted
        twins = {o.code for o in plan if o.external_id.endswith(":2")}
        conflicts = {
            r[0]
            for r in conn.execute(
                "SELECT o.division_code FROM offices o JOIN tenants t ON t.id = o.tenant_id"
                " WHERE t.code = %s GROUP BY 1 HAVING count(*) > 1",
                (tenant,),
            )
        }
        assert twins and conflicts == twins
        required = {c for c, _, kind, _ in townships if kind in ("town", "township", "street")}
        served = {o.code for o in plan}
        assert 0 < len(required - served) < 0.05 * len(required)  # a few planted gaps
    # the stored office → township relation agrees with the geometry, office by office
    disagree = conn.execute(
        "SELECT count(*) FROM offices o WHERE o.located_code IS DISTINCT FROM ("
        "  SELECT d.code FROM divisions d WHERE d.tenant_id = o.tenant_id"
        "   AND d.level = 'township' AND d.valid_to IS NULL AND ST_Covers(d.geom, o.geom)"
        "  ORDER BY (d.code = o.division_code) DESC, d.code LIMIT 1)"
    ).fetchone()
    assert disagree == (0,)


def test_serve_answers_a_demo_login(demo_env):
    env = demo_env
    run(env, "db", "upgrade")
    run(env, "import", "demo", "--provinces", "41,14")
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    admin = next(x for x in logins if x["username"] == "henan_admin")
    port = free_port()
    server = subprocess.Popen(
        [REGISTRY, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "henan_admin", "password": admin["password"]},
        ).json()["access_token"]
        page = httpx.get(
            f"{base}/api/v1/offices",
            params={"region": "4101", "limit": 5},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert page["total"] > 100 and len(page["items"]) == 5
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
