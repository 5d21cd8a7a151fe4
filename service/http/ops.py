"""What operators and their tools ask of a running worker: liveness (`/livez`: the process
answers), readiness (`/readyz`, also `/healthz`: it can reach its database, so a load
balancer may send it requests) and Prometheus metrics (`/metrics`, from the configured
networks only: service/core/metrics.py says what is counted)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from service.core import metrics
from service.core.db import Database
from service.core.errors import Forbidden
from service.http.routing import Router

router = Router(tags=["ops"])
log = logging.getLogger("registry.ops")

# how long readiness waits for the database before it says the worker is not ready
READY_TIMEOUT_S = 3.0
_PROBE = text("SELECT 1")


@router.get("/livez", summary="Liveness: the process answers (it does not ask the database)")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers within 3 s (503 when it does not)",
    responses={503: {"description": "the database is unreachable or too slow"}},
)
async def readyz(request: Request) -> Response:
    return await _ready(request.app.state.db)


@router.get("/healthz", summary="Readiness (the former name of /readyz)")
async def healthz(request: Request) -> Response:
    return await _ready(request.app.state.db)


async def _ready(db: Database) -> Response:
    problem = f"the database did not answer within {READY_TIMEOUT_S:.0f} s"
    with anyio.move_on_after(READY_TIMEOUT_S):
        try:
            await anyio.to_thread.run_sync(_probe, db, abandon_on_cancel=True)
            return JSONResponse({"status": "ok", "database": "ok"})
        except Exception as exc:  # (any failure to reach it means: not ready)
            log.warning("readiness: the database is unreachable: %s", exc)
            problem = "the database is unreachable"
    return JSONResponse(
        {"status": "unavailable", "database": problem},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def _probe(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(_PROBE)


@router.get(
    "/metrics",
    summary="Prometheus metrics of every worker (from the networks of REGISTRY_METRICS_ALLOW)",
    response_class=Response,
    responses={200: {"content": {metrics.CONTENT_TYPE: {}}}, 403: {"description": "not allowed"}},
)
async def metrics_endpoint(request: Request) -> Response:
    client = request.client.host if request.client else None
    if not _allowed(client, request.app.state.settings.metrics_networks()):
        raise Forbidden("metrics are answered only to the networks of REGISTRY_METRICS_ALLOW")
    body, content_type = await anyio.to_thread.run_sync(_scrape, request.app.state.db)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _scrape(db: Database) -> tuple[bytes, str]:
    metrics.forget_dead_workers()
    db.measure_replica_lag()
    return metrics.exposition()


def _allowed(client: str | None, networks: list[Any]) -> bool:
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:  # (a test client's name, a Unix socket)
        return False
    return any(address in network for network in networks)
