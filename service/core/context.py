"""Per-request context shared by middleware, logging and the database binding."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)


class DbTiming:
    """Database round trips of one request and the time spent in them (Server-Timing, logs)."""

    __slots__ = ("queries", "seconds")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0


db_timing_var: ContextVar[DbTiming | None] = ContextVar("db_timing", default=None)


# whether this request's transactions may read from the read replica (a GET or HEAD not yet
# answered again on the primary: service/http/middleware.py, service/core/db.py)
replica_reads_var: ContextVar[bool] = ContextVar("replica_reads", default=False)
