"""Running the operator CLI as a separate process against a database of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx2 as httpx
import psycopg
from factories import create_database

from service.core.cluster import free_port

REGISTRY = str(Path(sys.executable).parent / "registry")
SCRIPTS_RUN = str(Path(__file__).resolve().parents[1] / "scripts" / "run")
SERVER_LOGS: dict[str, deque[str]] = {}  # base URL → the last lines its server wrote


def make_database(pg_cluster, name: str, var: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A new empty database (PostGIS ready) and the environment the CLI needs for it."""
    owner, app = create_database(pg_cluster, name)
    return {
        **os.environ,
        "DATABASE_URL": app,
        "REGISTRY_MIGRATION_DATABASE_URL": owner,
        "REGISTRY_VAR_DIR": str(var),
        "REGISTRY_SECRET_KEY": "cli-test-secret-0123456789-0123456789",
    }


def owner_connection(env: dict[str, str]) -> psycopg.Connection:
    """A plain psycopg connection to that database as the schema owner (what the CLI migrates
    with), for a test to check what the CLI stored."""
    return psycopg.connect(
        env["REGISTRY_MIGRATION_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    )


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([REGISTRY, *args], env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def serve(env: dict[str, str], *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """`registry serve [OPTIONS]` on a free port, waited for; returns the process and its
    base URL."""
    port = free_port()
    server = subprocess.Popen(
        [REGISTRY, "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    # read all along, or the pipe fills (64 KiB, a few hundred requests) and the server
    # blocks on its next log line; the last lines are kept for a failing test to show
    tail = SERVER_LOGS.setdefault(base, deque(maxlen=200))
    threading.Thread(target=_drain, args=(server.stderr, tail), daemon=True).start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.2)


def _drain(stream: IO[bytes] | None, tail: deque[str]) -> None:
    for line in stream or ():
        tail.append(line.decode(errors="replace").rstrip())


def server_log(base: str) -> str:
    """The last lines the server at `base` (started by `serve`) wrote to its log."""
    return "\n".join(SERVER_LOGS.get(base, ()))


@contextmanager
def scripts_run(env: dict[str, str], *args: str) -> Iterator[tuple[str, list[bytes]]]:
    """`scripts/run ARGS` against the database of `env`, until it serves; yields its base URL
    and what it printed so far (stderr lines), and stops everything it started."""
    port = free_port()
    proc = subprocess.Popen(
        [SCRIPTS_RUN, *args],
        env={**env, "REGISTRY_HOST": "127.0.0.1", "REGISTRY_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: stopped as a whole below
    )
    printed: list[bytes] = []
    # read all along, or the pipe fills and the server blocks on its next log line
    reader = threading.Thread(target=lambda: printed.extend(proc.stderr or []), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # where the demo is loaded (as it should not be), slow
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, b"".join(printed).decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "scripts/run did not serve"
            time.sleep(0.3)
        yield base, printed
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def demo_headers(base: str, env: dict[str, str], users: list[str]) -> dict[str, dict[str, str]]:
    """Each demo user's Authorization header from a password login at `base` (their
    passwords from the demo's var/demo_logins.json). Each username has five logins a window
    from a client it has not logged in from: a test should take users no other test needs."""
    import json

    saved = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    passwords = {x["username"]: x["password"] for x in saved}
    headers = {}
    for user in users:
        r = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": user, "password": passwords[user]}
        )
        assert r.status_code == 200, r.text
        headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers


def set_phone(base: str, who: dict[str, str], phone: str) -> str:
    """Give the first office of the user's region a new phone number through the API (its
    ETag first, then PATCH with If-Match); the office's URL."""
    office = httpx.get(f"{base}/api/v1/offices", params={"limit": 1}, headers=who).json()
    url = f"{base}/api/v1/offices/{office['items'][0]['id']}"
    current = httpx.get(url, headers=who)
    changed = httpx.patch(
        url, json={"phone": phone}, headers={**who, "If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    return url
