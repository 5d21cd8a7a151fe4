"""Starting without the demo, and demo and real tenants never sharing a database:
`scripts/run --no-demo` and `REGISTRY_DEMO_PROVINCES=` serve an empty registry; a real
tenant is refused next to the demo, and the demo next to a real tenant, each with a message
that says how to start without the demo (issue 15 #6)."""

from __future__ import annotations

import psycopg
import pytest
from operator_env import make_database, run, scripts_run


def tenants(env: dict[str, str]) -> list[str]:
    url = env["REGISTRY_MIGRATION_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        return [code for (code,) in conn.execute("SELECT code FROM tenants ORDER BY code")]


@pytest.mark.parametrize(
    ("args", "extra"),
    [(("--no-demo",), {}), ((), {"REGISTRY_DEMO_PROVINCES": ""})],
    ids=["--no-demo", "REGISTRY_DEMO_PROVINCES="],
)
def test_scripts_run_serves_without_the_demo(pg_cluster, tmp_path, args, extra):
    env = {**make_database(pg_cluster, "run_no_demo", tmp_path / "var"), **extra}
    with scripts_run(env, *args) as (_, printed):
        assert tenants(env) == []
    said = b"".join(printed).decode()
    assert "not loading the demo" in said and "registry tenant create" in said
    assert not (tmp_path / "var" / "demo_logins.json").exists()


def test_a_real_tenant_is_refused_next_to_the_demo(demo_loaded):
    env = demo_loaded
    assert tenants(env) == ["14", "41"]
    same = run(env, "tenant", "create", "--code", "41", "--name", "河南省司法厅", ok=False)
    assert same.returncode == 1
    assert "tenant 41 is a demo tenant" in same.stderr
    assert "scripts/run --no-demo" in same.stderr
    other = run(env, "tenant", "create", "--code", "42", "--name", "湖北省司法厅", ok=False)
    assert other.returncode == 1
    assert "this database holds the demo tenants 14, 41" in other.stderr
    assert tenants(env) == ["14", "41"]
    assert "41\t河南省司法厅\tdemo" in run(env, "tenant", "list").stdout


def test_the_demo_is_refused_next_to_a_real_tenant(pg_cluster, tmp_path):
    env = make_database(pg_cluster, "real_then_demo", tmp_path / "var")
    run(env, "db", "upgrade")
    run(env, "tenant", "create", "--code", "41", "--name", "河南省司法厅")
    for provinces in ("41", "14"):
        refused = run(env, "import", "demo", "--provinces", provinces, ok=False)
        assert refused.returncode == 1
        assert "this database holds real tenants (41)" in refused.stderr
        assert "scripts/run --no-demo" in refused.stderr
    assert tenants(env) == ["41"]
    assert "41\t河南省司法厅\n" in run(env, "tenant", "list").stdout
