"""`registry serve`: the API and the pages under uvicorn."""

from __future__ import annotations

import os

from service.cli.common import load_settings


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    import uvicorn

    from service.core.logs import configure_logging

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    os.environ["REGISTRY_DATABASE_URL"] = settings.database_url
    os.environ["REGISTRY_MIGRATION_DATABASE_URL"] = settings.migration_database_url
    os.environ.pop("DATABASE_URL", None)
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
