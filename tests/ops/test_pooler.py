"""The service through a real PgBouncer (Debian `pgbouncer`, 1.18; scripts/lib.sh installs it)
in transaction mode, in front of the demo database: a server connection serves one
transaction of one client, then another client's.

What the service binds to a connection is per transaction (service/core/db.py make_engine),
so two users' requests sharing server connections each see their own region, and the audit
trail names whoever wrote. psycopg's prepared statements are not per transaction: they are
shown to break through this pooler, and REGISTRY_DB_PREPARED_STATEMENTS=false to mend it."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from operator_env import demo_headers, owner_connection, serve, set_phone
from sqlalchemy import exc, make_url, text

from service.core.cluster import free_port
from service.core.db import make_engine

SERVER_CONNECTIONS = 2  # per database and role: fewer than the service's own pool


def _pgbouncer() -> str:
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    assert Path(found).exists(), "pgbouncer is missing: scripts/test installs it"
    return found


@pytest.fixture(scope="module")
def bouncer(demo_loaded) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """PgBouncer in transaction mode before the demo database; the service role's URL
    through it, and its console's (SHOW STATS)."""
    app = make_url(demo_loaded["DATABASE_URL"])
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    (home / "userlist.txt").write_text(f'"{app.username}" "{app.password}"\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{app.database} = host={app.host} port={app.port} pool_size={SERVER_CONNECTIONS}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {home}/userlist.txt\n"
        "pool_mode = transaction\nmax_client_conn = 200\n"
        f"stats_users = {app.username}\n"
        f"logfile = {home}/pgbouncer.log\npidfile = {home}/pgbouncer.pid\n"
    )
    command = [_pgbouncer(), str(home / "pgbouncer.ini")]
    if os.geteuid() == 0:  # (PgBouncer will not run as root)
        user = pwd.getpwnam("postgres")
        for path in (home, *home.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    (home / "userlist.txt").chmod(0o600)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    through = app.set(port=port)
    console = through.set(drivername="postgresql", database="pgbouncer")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(console.render_as_string(hide_password=False)).close()
                break
            except psycopg.OperationalError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "pgbouncer did not come up"
                time.sleep(0.1)
        yield {
            "url": through.render_as_string(hide_password=False),
            "console": console.render_as_string(hide_password=False),
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def stats(bouncer: dict[str, Any], database: str) -> dict[str, Any]:
    """PgBouncer's own counters of `database`: transactions served, server connections."""
    with psycopg.connect(bouncer["console"], autocommit=True) as console:
        cursor = console.execute("SHOW STATS")
        names = [c.name for c in cursor.description or ()]
        rows = [dict(zip(names, r, strict=True)) for r in cursor if r[0] == database]
        row = rows[0] if rows else {"total_xact_count": 0}  # (none yet: never connected)
        cursor = console.execute("SHOW SERVERS")
        names = [c.name for c in cursor.description or ()]
        servers = [dict(zip(names, r, strict=True)) for r in cursor]
    row["servers"] = sum(1 for s in servers if s["database"] == database)
    return row


def test_prepared_statements_break_behind_it_unless_turned_off(bouncer) -> None:  # type: ignore[no-untyped-def]
    def errors(prepared: bool) -> list[str]:
        engine = make_engine(bouncer["url"], pool_size=2, prepared_statements=prepared)
        seen: list[str] = []
        try:
            with engine.connect() as a, engine.connect() as b:
                for n in range(12):  # (psycopg prepares what a connection ran 5 times)
                    for conn in (a, b):
                        try:
                            assert (
                                conn.scalar(text("SELECT CAST(:n AS int) + 1"), {"n": n}) == n + 1
                            )
                            conn.commit()
                        except exc.DBAPIError as error:
                            seen.append(str(error.orig))
                            conn.rollback()
        finally:
            engine.dispose()
        return seen

    broken = errors(prepared=True)
    assert broken and all("prepared statement" in e for e in broken), broken
    assert errors(prepared=False) == []


def test_users_sharing_server_connections_each_see_their_region(bouncer, demo_loaded) -> None:  # type: ignore[no-untyped-def]
    env = {
        **demo_loaded,
        "DATABASE_URL": bouncer["url"],
        "REGISTRY_DB_PREPARED_STATEMENTS": "false",
        "REGISTRY_DB_POOL_SIZE": "6",
    }
    database = make_url(demo_loaded["DATABASE_URL"]).database
    before = stats(bouncer, database)
    server, base = serve(env)
    try:
        # (users no other test logs in: each username has 5 logins a window from a new client)
        regions = {"henan_viewer": "41", "shanxi_taiyuan": "1401", "shanxi_xiaodian": "140105"}
        headers = demo_headers(base, demo_loaded, list(regions))

        def ask(i: int) -> tuple[str, list[str], int]:
            user = list(regions)[i % len(regions)]
            with httpx.Client(base_url=base, headers=headers[user], timeout=30) as client:
                if i % 2:
                    r = client.get("/api/v1/offices", params={"limit": 100})
                    codes = [o["division"]["code"] for o in r.json().get("items", [])]
                else:
                    r = client.get("/ogc/collections/offices/items", params={"limit": 100})
                    codes = [f["properties"]["code"] for f in r.json().get("features", [])]
            return user, codes, r.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(ask, range(240)))
        assert [status for _, _, status in answers] == [200] * 240
        for user, codes, _ in answers:
            assert codes, user  # (each user has offices: an empty answer would prove nothing)
            assert all(code.startswith(regions[user]) for code in codes), user

        # a county bureau's write: the audit trail names the writer (set for its transaction
        # only, on whichever server connection served it)
        who = headers["shanxi_xiaodian"]
        url = set_phone(base, who, "0351-66668888")
        assert httpx.get(url, headers=who).json()["phone"] == "0351-66668888"
        with owner_connection(demo_loaded) as conn:
            (writer,) = conn.execute(
                "SELECT username FROM audit_events WHERE entity_type = 'offices'"
                " AND entity_id = %s ORDER BY id DESC LIMIT 1",
                (url.rsplit("/", 1)[1],),
            ).fetchone() or (None,)
        assert writer == "shanxi_xiaodian"
    finally:
        server.terminate()
        server.wait(timeout=30)
    after = stats(bouncer, database)
    # every request went through the pooler, over no more server connections than it keeps
    assert after["total_xact_count"] - before["total_xact_count"] >= 240
    assert after["servers"] <= SERVER_CONNECTIONS
