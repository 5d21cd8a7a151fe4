"""The pool pings a connection only when it has been idle a while (service/core/db.py): a
connection the database dropped meanwhile is replaced without failing the request, and one
in steady use costs no extra round trip."""

from __future__ import annotations

import time

from sqlalchemy import text

from service.core import db as db_module
from service.core.db import make_engine
from service.core.settings import Settings


def test_an_idle_connection_the_database_dropped_is_replaced(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1)
    other = make_engine(settings.database_url, pool_size=1)  # (the same role may end it)
    try:
        with engine.connect() as conn:
            first_pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as conn:  # at once: no ping, the same connection
            assert conn.scalar(text("SELECT pg_backend_pid()")) == first_pid
        with other.begin() as conn:  # the database drops it
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        # as if it had been idle for longer than PING_AFTER_IDLE_S
        record = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
        record.info["idle_since"] = time.monotonic() - db_module.PING_AFTER_IDLE_S - 1
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_backend_pid()")) != first_pid
    finally:
        engine.dispose()
        other.dispose()


def test_a_connection_in_steady_use_is_not_pinged(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1)
    pings = 0
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:  # type: ignore[no-untyped-def]
        nonlocal pings
        pings += 1
        return real_ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        for _ in range(5):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == 0
        record = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
        record.info["idle_since"] -= db_module.PING_AFTER_IDLE_S + 1
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert pings == 1
    finally:
        engine.dispose()


def test_a_long_statement_is_converted_once(settings: Settings) -> None:
    """psycopg keeps the conversion of a statement's placeholders only for short statements
    unless service/core/db.py raises its limits: a report's statement (20,000 characters, 60
    parameters) would be parsed again on every execution."""
    import psycopg._queries as queries

    engine = make_engine(settings.database_url, pool_size=1)
    columns = ", ".join(f"%(p{i})s::int + {i} AS c{i}" for i in range(80))
    sql = f"SELECT {columns} /* {'x' * 20_000} */"
    params = {f"p{i}": i for i in range(80)}
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(sql, params).one()[79] == 79 + 79
            before = queries._query2pg.cache_info()
            for _ in range(2):
                assert conn.exec_driver_sql(sql, params).one()[79] == 79 + 79
            after = queries._query2pg.cache_info()
        assert (after.misses - before.misses, after.hits - before.hits) == (0, 2)
    finally:
        engine.dispose()


def test_a_burst_beyond_the_pool_and_the_threads_waits_its_turn(
    settings, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Far more requests at once than the worker has connections (4) and threads (40): each
    is answered, none waits out the pool's timeout (service/core/admission.py). Without the
    admission, the threads filled with requests waiting for a connection while the requests
    holding the connections waited for a thread to finish: 503s after the pool's timeout."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from service.main import create_app

    monkeypatch.setattr(db_module, "POOL_TIMEOUT_S", 3.0)  # (a deadlock would end in 3 s)
    app = create_app(settings.model_copy(update={"db_pool_size": 2}))
    headers = auth("henan_admin")
    with TestClient(app, raise_server_exceptions=False) as client:

        def ask(_: int) -> int:
            return client.get("/api/v1/me", headers=headers).status_code

        with ThreadPoolExecutor(120) as clients:
            statuses = list(clients.map(ask, range(360)))
    # A request that waited out the pool's timeout is a 503: all 200 is the proof, not the
    # burst's wall time (which a busy machine stretched past 3 s with every request answered).
    assert statuses.count(200) == 360, {s: statuses.count(s) for s in set(statuses)}
