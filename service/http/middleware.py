"""ASGI middleware: request ids, access logs, metrics, body-size limits, security headers.

One pure-ASGI layer (no BaseHTTPMiddleware, so streaming and the threadpool are unaffected):
- every request gets an id (a sane incoming X-Request-ID is kept), returned as a header,
  bound to the database transaction for the audit trail, and logged as JSON;
- every request is counted, with its latency, under its route's template (/metrics);
- bodies over the limit are refused with 413 naming the limit: by Content-Length before
  reading, or when a body without a length grows past it; a query parameter holding a
  control character (NUL …) with 422 naming it;
- every response carries security headers; API responses are not cached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from service.core.context import (
    DbTiming,
    client_ip_var,
    db_timing_var,
    replica_reads_var,
    request_id_var,
)
from service.core.db import ReplicaUnusable
from service.core.errors import error_body
from service.core.metrics import LATENCY, REPLICA_READS, REQUESTS, SERVER_ERRORS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("registry.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
]
STRICT_CSP = b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
# The OpenAPI page (Swagger UI, served from the registry's own assets) runs one inline script.
DOCS_CSP = b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"


def map_csp(tile_hosts: list[str]) -> bytes:
    """Map pages run folium's inline scripts but load nothing from elsewhere, except the tiles
    of a configured basemap."""
    tiles = " ".join(tile_hosts)
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
        f" img-src 'self' data: blob: {tiles}; frame-ancestors 'none'; base-uri 'none';"
        " form-action 'self'"
    ).encode()


class PayloadLimitExceeded(Exception):
    """Raised from receive() when a body outgrows its limit."""


class RegistryMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body: int, max_upload: int, tile_hosts: list[str] | None = None
    ) -> None:
        self.app = app
        self.map_csp = map_csp(tile_hosts or [])
        self.max_body = max_body
        self.max_upload = max_upload

    def _limit(self, scope: Scope) -> int:
        content_type = ""
        for key, value in scope.get("headers", []):
            if key == b"content-type":
                content_type = value.decode("latin-1").lower()
        return self.max_upload if content_type.startswith("multipart/") else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(client[0] if client else None)
        timing = DbTiming()
        timing_token = db_timing_var.set(timing)
        path = scope.get("path", "")
        status = {"code": 500}
        limit = self._limit(scope)
        exceeded = {"flag": False, "received": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                extra = [(b"x-request-id", request_id.encode()), *SECURITY_HEADERS]
                # where the time went, for operators and benchmarks (W3C Server-Timing)
                app_ms = (time.perf_counter() - started) * 1000
                extra.append(
                    (
                        b"server-timing",
                        f'db;dur={timing.seconds * 1000:.2f};desc="{timing.queries} queries",'
                        f" app;dur={app_ms:.2f}".encode(),
                    )
                )
                csp = DOCS_CSP if path == "/docs" else STRICT_CSP
                if path.startswith("/maps/"):
                    csp = self.map_csp
                extra.append((b"content-security-policy", csp))
                if path.startswith("/api/"):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exceeded["received"] += len(message.get("body", b""))
                if exceeded["received"] > limit:
                    exceeded["flag"] = True
                    raise PayloadLimitExceeded
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded["flag"]:
                await send_with_headers(message)

        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await _too_large(send_with_headers, limit)
                return
            bad = _control_in_query(scope.get("query_string", b""))
            if bad is not None:
                await _refuse(
                    send_with_headers,
                    422,
                    error_body(
                        "invalid_request",
                        f"invalid request: {bad}: contains a control character",
                        [{"field": bad, "problem": "contains a control character"}],
                    ),
                )
                return
            with contextlib.suppress(PayloadLimitExceeded):
                await self._answer(scope, limited_receive, guarded_send)
            if exceeded["flag"]:
                await _too_large(send_with_headers, limit)
        finally:
            _count(scope, status["code"], time.perf_counter() - started)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": path,
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "db_ms": round(timing.seconds * 1000, 2),
                    "db_queries": timing.queries,
                    "client": client[0] if client else None,
                    "user": getattr(scope.get("state", {}).get("scope"), "username", None)
                    if isinstance(scope.get("state"), dict)
                    else None,
                },
            )
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
            db_timing_var.reset(timing_token)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request; a GET or HEAD may read from the read replica, and one the
        replica could not answer (ReplicaUnusable: lost, or the request had to write) before
        anything was sent is answered again on the primary."""
        reads = scope.get("method") in ("GET", "HEAD")
        token = replica_reads_var.set(reads)
        begun = False

        async def tracked(message: Message) -> None:
            nonlocal begun
            begun = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ReplicaUnusable as unusable:
            if begun:
                raise
            REPLICA_READS.labels(outcome=unusable.outcome).inc()
            replica_reads_var.set(False)
            await self.app(scope, _again(receive), send)
        finally:
            replica_reads_var.reset(token)


def _again(receive: Receive) -> Receive:
    """`receive` for answering a GET again: its (empty) body first, as the first answer may
    have taken it, then whatever comes (a disconnect)."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return again


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _count(scope: Scope, status: int, seconds: float) -> None:
    """Count the request for /metrics under its route's template (never its path: ids and
    unknown paths would make a series each), "-" when no route answered it."""
    route = getattr(scope.get("route"), "path", None) or "-"
    method = scope.get("method", "")
    if method not in _METHODS:
        method = "other"
    REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    LATENCY.labels(method=method, route=route).observe(seconds)
    if status >= 500:
        SERVER_ERRORS.labels(route=route).inc()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _control_in_query(query: bytes) -> str | None:
    """The name of a query parameter holding a control character (NUL and the like reach no
    handler: the database would refuse them with an error that cannot name the field)."""
    if not query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if _CONTROL.search(key) or _CONTROL.search(value):
            return _CONTROL.sub("?", key)[:50] or "query"
    return None


async def _refuse(send: Send, status: int, body: dict[str, Any]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(
        send,
        413,
        error_body(
            "payload_too_large",
            f"the request body is larger than the limit of {limit} bytes",
            {"limit_bytes": limit},
        ),
    )
