"""The operator CLI end to end, as separate processes against a database of its own:
migrations, tenant with admin, division import (good and bad), the demo loaded twice
without duplicates, coverage reports matching the database, and `registry serve`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from operator_env import make_database, owner_connection, run, serve

from service.demo.offices import plan_offices

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def cli_env(pg_cluster, tmp_path) -> dict[str, str]:
    return make_database(pg_cluster, "cli_basic", tmp_path / "var")


def counts(env: dict[str, str]) -> tuple[int, ...]:
    with owner_connection(env) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM divisions),"
            " (SELECT count(*) FROM offices), (SELECT count(*) FROM users),"
            " (SELECT count(*) FROM standards), (SELECT count(*) FROM office_facilities),"
            " (SELECT count(*) FROM office_staff), (SELECT count(*) FROM office_staff_personal),"
            " (SELECT count(*) FROM acceptance_events)"
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
    # a file's own text is printed as it is, never read as console markup (rich would raise
    # on the stray closing tag and print a traceback instead of the report)
    hostile = tmp_path / "hostile.geojson"
    feature = json.loads((FIXTURES / "mini_henan.geojson").read_text())["features"][0]
    feature["properties"] = {"code": "[/red]42[bold]", "name": "[/]某镇"}
    hostile.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    marked = run(env, "import", "divisions", str(hostile), "--tenant", "42", ok=False)
    assert marked.returncode == 1 and "Traceback" not in marked.stderr, marked.stderr[-2000:]
    assert "[/red]42[bold]" in marked.stderr

    run(env, "tenant", "create", "--code", "14", "--name", "山西省司法厅")
    shanxi = ("import", "divisions", str(FIXTURES / "mini_shanxi.geojson"), "--tenant", "14")
    good = run(env, *shanxi, "--valid-from", "2023-01-01")
    assert "13 features" in good.stderr and "13 new" in good.stderr
    again = run(env, *shanxi, "--valid-from", "2024-01-01")
    assert "13 unchanged" in again.stderr
    check_same_day_and_correction(env, tmp_path)


def check_same_day_and_correction(env: dict[str, str], tmp_path: Path) -> None:
    """The same file again on its day is unchanged, also in a dry run; a wrong name is
    corrected in place with --correct, which needs --reason and is audited."""
    shanxi = str(FIXTURES / "mini_shanxi.geojson")
    # (the versions opened on 2023-01-01)
    same = ("import", "divisions", shanxi, "--tenant", "14", "--valid-from", "2023-01-01")
    dry = run(env, *same, "--dry-run")
    assert "13 unchanged" in dry.stderr and "dry run" in dry.stderr
    assert "13 unchanged" in run(env, *same).stderr

    data = json.loads((FIXTURES / "mini_shanxi.geojson").read_text(encoding="utf-8"))
    (wrong,) = [f for f in data["features"] if f["properties"]["code"] == "140105001"]
    wrong["properties"]["name"] = wrong["properties"]["name"] + "镇"
    fixed = tmp_path / "shanxi_fixed.geojson"
    fixed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    correct = ("import", "divisions", str(fixed), "--tenant", "14", "--correct")
    refused = run(env, *correct, ok=False)
    assert refused.returncode == 1 and "reason" in refused.stderr
    done = run(env, *correct, "--reason", "名称录入错误")
    assert "1 corrected, 12 unchanged" in done.stderr
    with owner_connection(env) as conn:
        versions = conn.execute(
            "SELECT name, valid_from FROM divisions WHERE code = '140105001'"
        ).fetchall()
        assert [(name, str(day)) for name, day in versions] == [
            (wrong["properties"]["name"], "2023-01-01")
        ]
        events = conn.execute(
            "SELECT username, after->>'reason' FROM audit_events"
            " WHERE action = 'correct' AND entity_id = '140105001'"
        ).fetchall()
        assert len(events) == 1 and events[0][0].startswith("cli")
        assert events[0][1] == "名称录入错误"


def last_analyzed(env: dict[str, str]) -> dict[str, object]:
    with owner_connection(env) as conn:
        return dict(
            conn.execute(
                "SELECT relname, last_analyze FROM pg_stat_user_tables"
                " WHERE relname IN ('divisions', 'offices')"
            ).fetchall()
        )


def test_demo_loads_twice_without_duplicates(demo_env):
    env = demo_env
    run(env, "db", "upgrade")
    before = last_analyzed(env)
    first = run(env, "import", "demo", "--provinces", "41,14")
    after = last_analyzed(env)
    for table in ("divisions", "offices"):  # bulk loads refresh the planner's statistics
        assert after[table] is not None and (before[table] is None or after[table] > before[table])
    after_first = counts(env)
    second = run(env, "import", "demo", "--provinces", "41,14")
    assert counts(env) == after_first
    assert "henan_admin" in first.stdout and "henan_admin" in second.stdout
    with owner_connection(env) as conn:
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
        check_demo_records(conn)


def check_demo_records(conn: psycopg.Connection) -> None:
    """Standards, records and histories came with the demo, consistent with the offices."""
    standards = conn.execute(
        "SELECT t.code, array_agg(s.code ORDER BY s.version) FROM standards s"
        " JOIN tenants t ON t.id = s.tenant_id GROUP BY t.code"
    ).fetchall()
    assert dict(standards) == {"41": ["henan-2004", "henan-2009"], "14": ["shanxi-2008"]}
    for broken, count in DEMO_INVARIANTS.items():
        assert conn.execute(count).fetchone() == (0,), broken
    accepted = conn.execute(
        "SELECT count(*) FROM acceptance_events e JOIN tenants t ON t.id = e.tenant_id"
        " WHERE t.code = '14' AND e.action = 'accept'"
    ).fetchone()
    assert accepted is not None and accepted[0] > 0


# what the demo's records must never hold → the query counting it
DEMO_INVARIANTS = {
    # every staff list matches its office's counts, and everyone has a name
    "an office's staff counts differ from its staff list": (
        "SELECT count(*) FROM offices o JOIN (SELECT tenant_id, office_id, count(*) AS n,"
        " count(*) FILTER (WHERE formal) AS f, count(*) FILTER (WHERE civil_servant) AS c"
        " FROM office_staff WHERE left_on IS NULL GROUP BY 1, 2) s"
        " ON s.tenant_id = o.tenant_id AND s.office_id = o.id"
        " WHERE (o.staff_total, o.staff_formal, o.staff_civil_servants) <> (s.n, s.f, s.c)"
    ),
    "a staff member without a name": (
        "SELECT count(*) FROM office_staff s WHERE NOT EXISTS (SELECT 1 FROM"
        " office_staff_personal p WHERE p.tenant_id = s.tenant_id AND p.staff_id = s.id)"
    ),
    # each office's last event leads to its current state; not_applied offices have none
    "an office whose state is not where its last event led": (
        "SELECT count(*) FROM offices o LEFT JOIN LATERAL (SELECT e.to_state FROM"
        " acceptance_events e WHERE e.tenant_id = o.tenant_id AND e.office_id = o.id"
        " ORDER BY e.effective_on DESC, e.id DESC LIMIT 1) last ON true"
        " WHERE o.external_id LIKE 'demo:%'"
        " AND coalesce(last.to_state, 'not_applied') <> o.acceptance_state"
    ),
    # 山西's standard has the province rate offices: no filing, sampling or provincial title
    "a 山西 step outside its procedure": (
        "SELECT count(*) FROM acceptance_events e JOIN tenants t ON t.id = e.tenant_id"
        " WHERE t.code = '14' AND (e.action IN ('file', 'recommend', 'grant_excellent',"
        " 'spot_check_pass', 'spot_check_fail') OR (e.action = 'accept'"
        " AND e.role NOT IN ('province_admin', 'province_planner')))"
    ),
    "a titled office without the day it was titled": (
        "SELECT count(*) FROM offices WHERE acceptance_state IN"
        " ('accepted', 'filed', 'recommended', 'excellent') AND accepted_on IS NULL"
    ),
}


def first_column(conn: psycopg.Connection, sql: str, *params: object) -> set[Any]:
    """The first column of the rows `sql` returns, as a set."""
    return {r[0] for r in conn.execute(sql, params or None)}


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
        misplaced = first_column(
            conn,
            "SELECT o.external_id FROM offices o JOIN tenants t ON t.id = o.tenant_id"
            " WHERE t.code = %s AND o.located_code IS DISTINCT FROM o.division_code",
            tenant,
        )
        assert planted and misplaced == planted
        twins = {o.code for o in plan if o.external_id.endswith(":2")}
        conflicts = first_column(
            conn,
            "SELECT o.division_code FROM offices o JOIN tenants t ON t.id = o.tenant_id"
            " WHERE t.code = %s GROUP BY 1 HAVING count(*) > 1",
            tenant,
        )
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


def test_coverage_reports_from_the_cli_match_the_database(demo_env, tmp_path):
    """`registry coverage …` writes the same answers the database gives, in every format."""
    import csv
    import io

    from openpyxl import load_workbook

    env = demo_env
    run(env, "db", "upgrade")
    run(env, "import", "demo", "--provinces", "41,14")
    with owner_connection(env) as conn:
        expected_gaps = first_column(
            conn,
            "SELECT d.code FROM divisions d JOIN tenants t ON t.id = d.tenant_id"
            " WHERE t.code = '41' AND d.level = 'township' AND d.valid_to IS NULL"
            "   AND d.code LIKE '4101%' AND d.kind IN ('town', 'township', 'street')"
            "   AND NOT EXISTS (SELECT 1 FROM offices o WHERE o.tenant_id = d.tenant_id"
            "       AND o.closed_at IS NULL AND ST_Covers(d.geom, o.geom))",
        )
        expected_misplaced = first_column(
            conn,
            "SELECT o.id FROM offices o JOIN tenants t ON t.id = o.tenant_id"
            " WHERE t.code = '41' AND o.closed_at IS NULL AND NOT EXISTS ("
            "   SELECT 1 FROM divisions d WHERE d.tenant_id = o.tenant_id"
            "    AND d.code = o.division_code AND d.valid_to IS NULL"
            "    AND ST_Covers(d.geom, o.geom))",
        )
        required_41 = conn.execute(
            "SELECT count(*) FROM divisions d JOIN tenants t ON t.id = d.tenant_id"
            " WHERE t.code = '41' AND d.level = 'township' AND d.valid_to IS NULL"
            "   AND d.kind IN ('town', 'township', 'street')"
        ).fetchone()[0]
    assert expected_gaps and expected_misplaced  # the demo plants both

    # gaps of a city as XLSX (the example), read back with openpyxl
    out = tmp_path / "gaps.xlsx"
    done = run(env, "coverage", "gaps", "--region", "4101", "--format", "xlsx", "-o", str(out))
    assert f"{len(expected_gaps)} rows written" in done.stderr
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("乡镇(街道)代码", "乡镇(街道)名称")
    assert {r[0] for r in rows[1:]} == expected_gaps

    # misplaced offices of the province as JSON on stdout, found by geometry above
    body = json.loads(run(env, "coverage", "misplaced", "--region", "41").stdout)
    assert {r["office_id"] for r in body["items"]} == expected_misplaced
    assert body["note"]  # the demo's townships are generated, and the report says so

    # the per-city summary as CSV: BOM, Chinese headers, a total row that adds up
    raw = run(env, "coverage", "summary", "--region", "41", "--level", "city", "-f", "csv").stdout
    assert raw.startswith("\ufeff")
    table = [r for r in csv.reader(io.StringIO(raw.lstrip("\ufeff"))) if not r[0].startswith("#")]
    assert table[0][:3] == ["区划代码", "名称", "必设司法所的乡镇(街道)数"]
    cities, total = table[1:-1], table[-1]
    assert all(r[0].startswith("41") and len(r[0]) == 4 for r in cities)
    assert int(total[2]) == required_41 == sum(int(r[2]) for r in cities)

    bad = run(env, "coverage", "gaps", "--region", "4101", "--format", "pdf", ok=False)
    assert bad.returncode == 1 and "--format" in bad.stderr
    outside = run(env, "coverage", "gaps", "--tenant", "41", "--region", "14", ok=False)
    assert outside.returncode == 1 and "14" in outside.stderr


def test_serve_answers_a_demo_login(demo_env):
    env = demo_env
    run(env, "db", "upgrade")
    run(env, "import", "demo", "--provinces", "41,14")
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    admin = next(x for x in logins if x["username"] == "henan_admin")
    server, base = serve(env)
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "henan_admin", "password": admin["password"]},
            timeout=60,
        ).json()["access_token"]
        page = httpx.get(
            f"{base}/api/v1/offices",
            params={"region": "4101", "limit": 5},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
        assert page["total"] > 100 and len(page["items"]) == 5
        assert httpx.get(f"{base}/docs", timeout=60).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_standards_from_the_cli(demo_env, tmp_path):
    env = demo_env
    run(env, "db", "upgrade")
    run(env, "import", "demo", "--provinces", "14")
    before = run(env, "standards", "list", "--tenant", "14").stdout.splitlines()
    assert [line.split("\t")[1] for line in before] == ["shanxi-2008"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"code": "x-1", "title": "坏的", "document": "无", "criteria": []}))
    refused = run(
        env,
        "standards",
        "publish",
        "--tenant",
        "14",
        "--file",
        str(bad),
        "--effective-from",
        "2030-01-01",
        ok=False,
    )
    assert refused.returncode == 1 and "criteria" in refused.stderr
    done = run(
        env,
        "standards",
        "publish",
        "--tenant",
        "14",
        "--seed",
        "district-2005",
        "--effective-from",
        "2030-01-01",
        "--keep-targets",
    )
    assert "version 2" in done.stdout
    after = run(env, "standards", "list", "--tenant", "14").stdout.splitlines()
    assert [line.split("\t")[1] for line in after] == ["shanxi-2008", "district-2005"]
