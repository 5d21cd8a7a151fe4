"""`registry serve`: the API and the pages under uvicorn."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from service.cli.common import load_settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # (service/core/metrics.py reads it)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
) -> None:
    """Serve the API (OpenAPI docs at /docs); with --workers N, N processes under uvicorn's
    supervisor, which restarts one that dies."""
    import uvicorn

    from service.core.logs import configure_logging

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    os.environ["REGISTRY_DATABASE_URL"] = settings.database_url
    os.environ["REGISTRY_MIGRATION_DATABASE_URL"] = settings.migration_database_url
    os.environ.pop("DATABASE_URL", None)
    if workers > 1:
        # each worker counts in files here, and a scrape of any of them sums all
        # (service/core/metrics.py); emptied first: the counts of a former run are not ours.
        # Named by host too: app containers may share one var/ (docker/compose.yaml)
        here = f"{socket.gethostname()}-{port}"
        os.environ[MULTIPROC_ENV] = str(_metrics_dir(settings.var_dir / "metrics" / here))
    uvicorn.run(
        "service.asgi:app",
        host=host,
        port=port,
        workers=workers,
        http="httptools",
        loop="uvloop",
        # behind a reverse proxy, the client's own address (for the per-address login limits)
        # comes from X-Forwarded-For, trusted only from the configured proxies
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        log_config=None,
        access_log=False,
    )


def _metrics_dir(path: Path) -> Path:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
