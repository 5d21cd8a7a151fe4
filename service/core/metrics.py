"""What the service counts for Prometheus (prometheus-client): requests and their latency per
route, server errors, the database pool's connections, cache lookups and login failures.

Several worker processes (`registry serve --workers N`) each count their own: `serve` points
PROMETHEUS_MULTIPROC_DIR at an empty directory before the workers start, prometheus-client
then keeps each process's values in files there, and a scrape of any worker sums them all
(`exposition`). A worker that has died leaves its counts (they are totals) but not its
gauges (`forget_dead_workers`). Without that variable (one process, the tests) the values
live in the process.

Labels never carry what a client chose freely (a path's ids, a username): a route is its
template, so the number of series stays bounded whatever is asked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# a page costs tens of ms, an item a few, a national report or a printed map seconds
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "registry_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "registry_http_request_duration_seconds",
    "Time from a request's arrival to its answer's start, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
SERVER_ERRORS = Counter(
    "registry_http_server_errors",
    "Requests answered with a 5xx status (an unhandled error is answered 500), by route",
    ["route"],
)
DB_CONNECTIONS = Gauge(
    "registry_db_pool_connections",
    "Database connections of the workers' pools: open (in the pool or in use) and in_use",
    ["database", "state"],
    multiprocess_mode="livesum",
)
DB_WAITS = Counter(
    "registry_db_pool_timeouts",
    "Requests that could not get a database connection in time (the pool was exhausted)",
    ["database"],
)
CACHE_LOOKUPS = Counter(
    "registry_cache_lookups",
    "Lookups of a kept result (a vector tile by its ETag), by cache and hit or miss",
    ["cache", "result"],
)
CACHE_BYTES = Gauge(
    "registry_cache_bytes",
    "Bytes a cache of kept results holds, summed over the live workers (each is bounded by "
    "REGISTRY_TILE_CACHE_MB or REGISTRY_PAGE_CACHE_MB)",
    ["cache"],
    multiprocess_mode="livesum",
)
LOGIN_FAILURES = Counter(
    "registry_login_failures",
    "Password logins refused: wrong username or password, or too many attempts (throttled)",
    ["reason"],
)
REPLICA_LAG = Gauge(
    "registry_replica_lag_seconds",
    "How far the read replica's replay is behind the primary, as last measured (at a read "
    "sent to it, or a scrape): 0 when it has replayed all the primary has written",
    multiprocess_mode="max",
)
REPLICA_LAG_BYTES = Gauge(
    "registry_replica_lag_bytes",
    "WAL the read replica has yet to replay, as last measured (at a read or a scrape)",
    multiprocess_mode="max",
)
REPLICA_READS = Counter(
    "registry_replica_reads",
    "Requests that could read from the replica, by where they were answered: replica, "
    "primary_lagging (it had not replayed the primary's writes in time), primary_down (it was "
    "unreachable or lost mid-request), primary_write (the request had to write)",
    ["outcome"],
)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, summed over every worker process."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry), CONTENT_TYPE


_PID = re.compile(r"_(\d+)\.db$")


def forget_dead_workers() -> int:
    """Drop the gauges of worker processes that no longer run (a worker the process manager
    replaced); their counters stay, as totals. Returns how many processes were forgotten."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return 0
    pids = {
        int(m.group(1))
        for f in Path(directory).glob("gauge_*.db")
        if (m := _PID.search(f.name)) is not None
    }
    dead = [pid for pid in pids if not _alive(pid)]
    for pid in dead:
        multiprocess.mark_process_dead(pid, path=directory)
    return len(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (someone else's process under that pid: alive)
        return True
    return True
