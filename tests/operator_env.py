"""Running the operator CLI as a separate process against a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx2 as httpx
from factories import create_database

from service.cluster import free_port

REGISTRY = str(Path(sys.executable).parent / "registry")


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


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([REGISTRY, *args], env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`registry serve` on a free port, waited for; returns the process and its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [REGISTRY, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # nobody reads the server's log lines: drained here, or the pipe fills (64 KiB, a few
    # hundred requests) and the server blocks on its next log line
    threading.Thread(target=_drain, args=(server.stderr,), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
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


def _drain(stream: IO[bytes] | None) -> None:
    while stream is not None and stream.read(65536):
        pass
