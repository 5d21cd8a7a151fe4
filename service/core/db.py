"""Database plumbing: the declarative Base with a naming convention, the engine and sessions."""

from __future__ import annotations

import logging
import re
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any, TypeVar

import psycopg._queries as _psycopg_queries
from sqlalchemy import (
    ColumnElement,
    MetaData,
    Select,
    Text,
    bindparam,
    create_engine,
    event,
    exc,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn

from service.core.admission import Admission
from service.core.context import db_timing_var, replica_reads_var
from service.core.metrics import DB_CONNECTIONS, REPLICA_LAG, REPLICA_LAG_BYTES, REPLICA_READS
from service.core.settings import Settings

log = logging.getLogger("registry.db")
T = TypeVar("T")

# psycopg turns a statement's %(name)s placeholders into $n and keeps the result — but only
# for statements of up to 4,096 characters and 50 parameters; a longer one is parsed again on
# every execution. Our report and feature statements are longer (an office's compliance score
# is 20,000 characters and 60 parameters): parsing it took 2.3 ms of each 8.5 ms request. The
# limits are module constants of psycopg (no public setting); tests/ops/test_pool.py checks
# that a long statement's conversion is kept, so an upgrade that moves them is noticed. The
# cache stays psycopg's LRU of 128 statements: at most 128 × 64 KB of statement text (a CQL2
# filter changes a statement's shape, never puts its values in the text).
_psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = max(
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH, 1 << 16
)
_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 1 << 12
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A pooled connection idle for longer than this is pinged before it is used again.
PING_AFTER_IDLE_S = 5.0
# How long a request waits for a connection before it is answered 503 (SQLAlchemy's default)
POOL_TIMEOUT_S = 30.0


def pool_capacity(pool_size: int) -> int:
    """The connections an engine's pool opens at most: `pool_size` kept, as many more while
    they are needed."""
    return 2 * pool_size


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    name: str = "primary",
    prepared_statements: bool = True,
    on_loop: bool = False,
) -> Engine:
    """A psycopg 3 engine whose pool pings a connection that has been idle a while, so a
    restarted database does not fail the first request. Its connections, open and in use,
    are counted for /metrics under `name` (the database it reaches).

    psycopg prepares a statement a connection has run five times (the server keeps its
    plan). Behind a pooler in transaction mode a client connection meets several server
    connections and the prepared name is missing, or taken, on the next one: PgBouncer
    before 1.21 keeps no prepared statements, so `prepared_statements=False` turns it off
    (REGISTRY_DB_PREPARED_STATEMENTS; tests/ops/test_pooler.py shows both through one).
    Everything else the service binds to a connection is per transaction already: the
    tenant and user (set_config(..., true)), SET LOCAL, advisory transaction locks,
    temporary tables dropped on commit.

    `on_loop`: the engine of the event loop's lane (`Database.session`), on psycopg's
    AsyncConnection: its sessions are used as any other, inside `run_on_loop`."""
    if not url:
        raise ValueError("no database URL: set DATABASE_URL (scripts/run sets it for you)")
    connect_args: dict[str, Any] = {"application_name": "registry", "connect_timeout": 5}
    if not prepared_statements:
        connect_args["prepare_threshold"] = None
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_capacity(pool_size) - pool_size,
        "pool_timeout": POOL_TIMEOUT_S,
        "echo": echo,
        "connect_args": connect_args,
    }
    # (the sync face of an asyncio engine: what its events and sessions take)
    engine = (
        create_async_engine(url, **options).sync_engine
        if on_loop
        else create_engine(url, **options)
    )
    event.listen(engine, "checkin", _idle_from_now)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    event.listen(engine, "before_cursor_execute", _started)
    event.listen(engine, "after_cursor_execute", _finished)
    _count_connections(engine, name)
    return engine


def engine_for(settings: Settings, *, owner: bool = False, pool_size: int = 1) -> Engine:
    """The engine of the service role (or, with `owner`, the schema owner's) as `settings`
    say to reach it: what the operator's commands use (the app sizes its own pool)."""
    url = settings.migration_database_url if owner else settings.database_url
    return make_engine(
        url, pool_size=pool_size, prepared_statements=settings.db_prepared_statements
    )


def _count_connections(engine: Engine, name: str) -> None:
    """Keep the pool's gauges (service/core/metrics.py) as its connections open, close, are
    lent and come back."""
    opened = DB_CONNECTIONS.labels(database=name, state="open")
    in_use = DB_CONNECTIONS.labels(database=name, state="in_use")
    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "close_detached", lambda *_: opened.dec())
    event.listen(engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine, "checkin", lambda *_: in_use.dec())


def _idle_from_now(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, Any, Any], None]:
    """A checkout hook: ping (one round trip) a connection idle for PING_AFTER_IDLE_S or more;
    one that failed is replaced by a new one. SQLAlchemy's pool_pre_ping would ping on every
    checkout — a round trip on every request, when a connection in steady use has just
    proved itself. A connection that the database dropped within the last seconds fails its
    request; the pool is then discarded whole (SQLAlchemy does so on a disconnect)."""

    def ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection failed its ping: {error}") from error

    return ping


def _started(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
    conn.info["query_started"] = time.perf_counter()


def _finished(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
    """Add the round trip to the request's database time (reported as Server-Timing)."""
    timing = db_timing_var.get()
    started = conn.info.pop("query_started", None)
    if timing is not None and started is not None:
        timing.queries += 1
        timing.seconds += time.perf_counter() - started


class Precompiled:
    """A SELECT that every request runs (the credential check, a feature by id), compiled
    once and run on the session's own psycopg connection, in its transaction.

    SQLAlchemy's execution (cache key, parameter processing, result metadata from the
    cursor's description) cost these statements ≈0.15 ms each, a fifth of a request.
    Here parameters are processed as SQLAlchemy would (the statement's own values once,
    the caller's at each run) and rows come back as named tuples of the statement's
    columns. What SQLAlchemy's execution does besides is kept: the engine's cursor events
    fire (Server-Timing counts the round trip; a test may watch what is sent), a driver
    error is raised as SQLAlchemy's DBAPIError of the same kind (service/http/errors.py
    maps it) and a lost connection is invalidated, not returned to the pool."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        # by dialect (one per kind of engine); None: one SQLAlchemy must expand at each run
        self._compiled: dict[int, _Compiled | None] = {}

    def all(self, session: Session, params: Mapping[str, Any]) -> list[Any]:
        connection = session.connection()
        key = id(connection.dialect)
        if key not in self._compiled:
            self._compiled[key] = _Compiled.of(self.statement, connection.dialect)
        compiled = self._compiled[key]
        if compiled is None:
            return list(session.execute(self.statement, params).all())
        return compiled.run(connection, params)

    def one_or_none(self, session: Session, params: Mapping[str, Any]) -> Any:
        rows = self.all(session, params)
        if len(rows) > 1:
            raise exc.MultipleResultsFound("more than one row where one or none was expected")
        return rows[0] if rows else None


# a parameter of the driver's style (%(name)s), or an escaped % (a literal of the text)
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")


class _Compiled:
    """A Precompiled statement for one dialect: its SQL, its own parameters processed, and
    how to process the caller's and the rows'."""

    @classmethod
    def of(cls, statement: Select[Any], dialect: Any) -> _Compiled | None:
        compiled = statement.compile(dialect=dialect)
        if (
            compiled.positional
            or compiled.escaped_bind_names
            or compiled.post_compile_params
            or compiled.literal_execute_params
        ):
            return None  # (an expanding IN, a parameter name to escape: SQLAlchemy's to run)
        return cls(compiled, dialect)

    def __init__(self, compiled: Any, dialect: Any) -> None:
        self.sql = compiled.string
        self.bind_processors = dict(compiled._bind_processors)
        self.required = frozenset(n for b, n in compiled.bind_names.items() if b.required)
        self.own = {
            name: self._bound(name, value)
            for name, value in compiled.construct_params(_check=False).items()
            if name not in self.required
        }
        # the statement's own strings and numbers, written in its text
        literals = {name: self._literal(compiled.binds[name], dialect) for name in self.own}
        self.sql = _PLACEHOLDER.sub(lambda m: literals.get(m[1] or "") or m[0], self.sql)
        self.own = {name: value for name, value in self.own.items() if literals[name] is None}
        self.columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [c.keyname for c in self.columns])  # type: ignore[misc]
        # (column, processor) where SQLAlchemy would process a value; learnt from the first
        # run's column types (a number's processing depends on the type the database sends)
        self.result_processors: list[tuple[int, Any]] | None = None
        self.dialect = dialect
        self.dbapi_error = dialect.loaded_dbapi.Error

    @staticmethod
    def _literal(bind: Any, dialect: Any) -> str | None:
        """A value of the statement's own as SQL, as SQLAlchemy writes a literal of its type
        (escaped), or None to send it as a parameter. The credential check has 20 such values
        (setting names, `true`…) beside its 4 parameters, a feature 36 beside 4: sent as
        parameters, psycopg adapted each of them at every run and the database parsed it:
        ≈0.02–0.04 ms of the app's CPU and ≈0.01 ms of the database's per feature by id
        (measured in-process over 4,000 requests)."""
        value = bind.effective_value
        process = bind.type.literal_processor(dialect)
        if process is None or type(value) not in (str, int, bool):
            return None
        return str(process(value))  # (with % doubled: SQLAlchemy writes for the driver's style)

    def _bound(self, name: str, value: Any) -> Any:
        processor = self.bind_processors.get(name)
        return value if processor is None or value is None else processor(value)

    def _result_processors(self, description: Any) -> list[tuple[int, Any]]:
        processors = (
            (i, c.type._cached_result_processor(self.dialect, d.type_code))
            for i, (c, d) in enumerate(zip(self.columns, description, strict=True))
        )
        return [(i, p) for i, p in processors if p is not None]

    def run(self, connection: Any, values: Mapping[str, Any]) -> list[Any]:
        if not self.required <= values.keys():
            missing = ", ".join(sorted(self.required - values.keys()))
            raise exc.InvalidRequestError(f"a value is required for parameter(s) {missing}")
        params = {**self.own, **{k: self._bound(k, v) for k, v in values.items()}}
        dbapi_connection = connection.connection.dbapi_connection  # (the loop lane's: its adapter)
        events = connection.dispatch
        try:
            with dbapi_connection.cursor() as cursor:
                for listener in events.before_cursor_execute:
                    listener(connection, cursor, self.sql, params, None, False)
                cursor.execute(self.sql, params)
                rows = cursor.fetchall()
                if self.result_processors is None:
                    self.result_processors = self._result_processors(cursor.description)
                for listener in events.after_cursor_execute:
                    listener(connection, cursor, self.sql, params, None, False)
        except self.dbapi_error as error:
            lost = connection.dialect.is_disconnect(error, dbapi_connection, None)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql,
                params,
                error,
                self.dbapi_error,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from error
        if self.result_processors:
            rows = [list(row) for row in rows]
            for row in rows:
                for i, processor in self.result_processors:
                    row[i] = processor(row[i])
        return [self.row._make(row) for row in rows]


class ReplicaUnusable(Exception):
    """The replica cannot answer this request: it was lost in the middle of it, or the request
    must write. Nothing was answered yet: the middleware (service/http/middleware.py) answers
    the request again, on the primary."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a write on a standby
RECOVERY_CONFLICT_SQLSTATE = "40001"  # a standby cancelled a read that replay needed gone
REPLICA_WAIT_MS = 200  # how long a read waits for the replica to replay the primary's writes
REPLICA_RETRY_S = 5.0  # after losing the replica, how long reads go to the primary
# after the replica lagged further than REPLICA_WAIT_MS, how long reads go to the primary
# without waiting for it (a lagging replica must not hold every read for the whole wait)
REPLICA_LAG_BACKOFF_S = 1.0
# The primary's WAL position a read waits for: every commit that has returned is in it. With
# synchronous commit (the default) that is the flushed position: a commit returns once its WAL
# is flushed, while what the background writer and vacuum add to WAL may wait in memory for
# seconds (the WAL writer sleeps when idle), and the replica cannot replay that before it is
# flushed — a read that waited for it would fall back to the primary for nothing. With
# synchronous_commit = off a commit returns before its flush: only the inserted position holds it.
_PRIMARY_POSITION = text(
    "SELECT (CASE current_setting('synchronous_commit') WHEN 'off'"
    " THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_flush_lsn() END)::text"
)
_REPLAYED = text("SELECT registry_replayed(CAST(:lsn AS pg_lsn), :wait_ms)")


class Lane:
    """The sessions of one way of waiting for the database: in a thread of the pool (plain
    psycopg connections) or on the event loop (psycopg's AsyncConnection): the primary's,
    the replica's if there is one, and the primary's WAL position asked outside a
    transaction."""

    def __init__(self, engine: Engine, read_engine: Engine | None) -> None:
        self.engine, self.read_engine = engine, read_engine
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self.read_sessions = (
            sessionmaker(bind=read_engine, expire_on_commit=False, autoflush=False)
            if read_engine is not None
            else None
        )
        self.positions = engine.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


class Database:
    """Engine plus session factory; one per app (kept on app.state.db). With a `read_engine`
    (DATABASE_READ_URL: a streaming replica), the sessions of requests that may read there
    (`replica_reads_var`) are the replica's once it has replayed every write the primary had
    made when the session began — a write is seen by the next read, whoever makes it — and
    the primary's when it lags further than REPLICA_WAIT_MS or is unreachable.

    `counters` is the engine of the attempt counters (service/accounts/throttle.py), which
    commit on connections of their own while a request may hold one of `engine`'s: a password
    change counts its attempt after its credential check took a connection. On `engine`'s pool
    as many password changes at once as it had connections each waited for a second one, until
    the pool's timeout, and every request of the worker behind them. With a pool of its own
    (`counters_engine`, served apps: service/main.py) a counter's short transaction never
    waits for a request's connection, so both always move on.

    `loop_engine` and `loop_read_engine` (made with `make_engine(..., on_loop=True)`) are the
    same databases for the event loop's lane (`run_on_loop`): its sessions are routed between
    them as the thread pool's are between `engine` and `read_engine`, with the same state of
    the replica. One admission gate (sized to `engine`'s pool) holds the requests of both."""

    def __init__(
        self,
        engine: Engine,
        read_engine: Engine | None = None,
        counters_engine: Engine | None = None,
        *,
        loop_engine: Engine | None = None,
        loop_read_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.counters = counters_engine or engine
        self.read_engine = read_engine
        self.lanes = {False: Lane(engine, read_engine)}
        if loop_engine is not None:
            self.lanes[True] = Lane(loop_engine, loop_read_engine)
        self.sessionmaker = self.lanes[False].sessions
        self._replica_down_until = self._replica_lagging_until = 0.0

    @property
    def has_loop_lane(self) -> bool:
        """Whether requests may do their database work on the event loop (`run_on_loop`)."""
        return True in self.lanes

    @cached_property
    def admission(self) -> Admission:
        """The gate of the requests to this database: as many at once as the primary's pool
        has connections (service/core/admission.py)."""
        pool = self.engine.pool  # (make_engine's is a QueuePool; another holds one at most)
        size = pool.size() if isinstance(pool, QueuePool) else 1
        return Admission(pool_capacity(size), POOL_TIMEOUT_S)

    def dispose(self) -> None:
        """Close the pools' connections (the loop lane's: `dispose_loop_lane`)."""
        self.engine.dispose()
        if self.counters is not self.engine:
            self.counters.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()

    async def dispose_loop_lane(self) -> None:
        """Close the loop lane's connections (closing one is a coroutine of psycopg's)."""
        lane = self.lanes.get(True)
        if lane is not None:
            await greenlet_spawn(lane.dispose)

    @contextmanager
    def session(self, *, on_loop: bool = False) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back otherwise (then its
        `after_rollback` callbacks run): the replica's when this request may read there and
        it is current, else the primary's. `on_loop`: of the loop lane (inside `run_on_loop`
        only)."""
        lane = self.lanes[on_loop]
        replica = self._replica_session(lane) if replica_reads_var.get() else None
        if replica is None:
            with lane.sessions() as session:
                yield from _committed(session)
            return
        with replica:
            try:
                yield from _committed(replica)
            except exc.DBAPIError as error:
                lost = _lost(error)
                if lost:
                    self._replica_down_until = time.monotonic() + REPLICA_RETRY_S
                state = getattr(error.orig, "sqlstate", None)
                if lost or state == RECOVERY_CONFLICT_SQLSTATE:
                    raise ReplicaUnusable("primary_down") from error
                if state == READ_ONLY_SQLSTATE:
                    raise ReplicaUnusable("primary_write") from error
                raise
        REPLICA_READS.labels(outcome="replica").inc()

    async def run_on_loop(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on the event loop, where its sessions of the loop lane
        (`session(on_loop=True)`) wait for the database without blocking it: a request's
        whole transaction without a trip to the thread pool and back (service/http/hop.py).
        SQLAlchemy's asyncio bridge runs `work` in a greenlet that yields to the loop at
        each of psycopg's waits; the context variables are the request's."""
        return await greenlet_spawn(work, *args)

    def begins_with_io(self) -> bool:
        """Whether `session()` asks a database before its block runs (for a read that may
        go to the replica); else beginning one only makes a Session object."""
        return self.read_engine is not None and replica_reads_var.get()

    def _replica_session(self, lane: Lane) -> Session | None:
        """A session on the replica once it has replayed all the primary had written when
        asked (None: read from the primary; counted why)."""
        if lane.read_sessions is None:
            return None
        if time.monotonic() < self._replica_down_until:
            REPLICA_READS.labels(outcome="primary_down").inc()
            return None
        if time.monotonic() < self._replica_lagging_until:
            REPLICA_READS.labels(outcome="primary_lagging").inc()
            return None
        with lane.positions.connect() as conn:
            position = conn.scalar(_PRIMARY_POSITION)
        session = lane.read_sessions()
        try:
            current = session.scalar(_REPLAYED, {"lsn": position, "wait_ms": REPLICA_WAIT_MS})
        except exc.DBAPIError as error:
            session.close()
            if not _lost(error) and not isinstance(error, exc.OperationalError):
                raise
            log.warning("the read replica is unreachable, reading from the primary: %s", error)
            self._replica_down_until = time.monotonic() + REPLICA_RETRY_S
            REPLICA_READS.labels(outcome="primary_down").inc()
            return None
        if not current:
            session.close()
            self._replica_lagging_until = time.monotonic() + REPLICA_LAG_BACKOFF_S
            REPLICA_READS.labels(outcome="primary_lagging").inc()
            return None
        return session

    def measure_replica_lag(self) -> None:
        """Set the replica-lag gauges (/metrics) from the primary's WAL position and the
        replica's replay: seconds since the last transaction it replayed when it is behind,
        else 0; NaN when either cannot be asked."""
        if self.read_engine is None:
            return
        try:
            with self.lanes[False].positions.connect() as conn:
                position = _lsn(conn.scalar(_PRIMARY_POSITION))
            with self.read_engine.connect() as conn:
                replayed, behind_s = conn.execute(_REPLAY_STATE).one()
            behind = max(0, position - _lsn(replayed)) if replayed else None
        except exc.DBAPIError as error:
            log.warning("replica lag: cannot ask: %s", error)
            behind = None
        if behind is None:
            REPLICA_LAG.set(float("nan"))
            REPLICA_LAG_BYTES.set(float("nan"))
            return
        REPLICA_LAG_BYTES.set(behind)
        REPLICA_LAG.set(float(behind_s or 0.0) if behind > 0 else 0.0)


# a server gone or going: connection exceptions; admin, crash shutdown; cannot connect now
_LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _lost(error: exc.DBAPIError) -> bool:
    """Whether `error` says the server was lost (not that a statement failed)."""
    state = getattr(error.orig, "sqlstate", None) or ""
    return error.connection_invalidated or state.startswith(_LOST_SQLSTATES)


_REPLAY_STATE = text(
    "SELECT pg_last_wal_replay_lsn()::text,"
    " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
)


def _lsn(text_lsn: str) -> int:
    """A WAL position ('16/B374D848') as a byte offset."""
    high, _, low = text_lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _committed(session: Session) -> Iterator[Session]:
    """Yield `session`; commit it when the block ends normally, roll it back otherwise."""
    try:
        yield session
        session.commit()
    except BaseException:
        try:
            session.rollback()
        finally:
            _run_after_rollback(session)
        raise


_AFTER_ROLLBACK = "after_rollback"


def after_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` if `Database.session()` rolls this session back (the request failed,
    its commit included): to undo what the transaction did outside the database, such as a
    file written for a row that was never stored. It runs after the rollback, so a callback
    that uses the session starts a new transaction and must end it itself. Its errors are
    logged, never raised: the request's own error is the one to report."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(callback)


def _run_after_rollback(session: Session) -> None:
    for callback in session.info.pop(_AFTER_ROLLBACK, []):
        try:
            callback()
        except Exception:
            log.exception("after-rollback callback %r failed", callback)


# What a transaction's context is made of: who it serves and who acts in which request,
# each a transaction-local setting app.<name> (row-level security and the audit triggers
# read them).
CONTEXT = ("tenant_id", "region", "user_id", "username", "role", "request_id")


def context_settings(values: Mapping[str, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """set_config('app.<name>', value, true) for every setting of the context: the columns of
    a statement that binds the transaction (values may be parameters or a looked-up row's
    columns, as the credential check does: service/accounts/credentials.py)."""
    return [
        func.set_config(f"app.{name}", values[name], True).label(f"app_{name}") for name in CONTEXT
    ]


_BIND = select(*context_settings({name: bindparam(name, type_=Text) for name in CONTEXT}))
# the same, and then SET TRANSACTION READ ONLY (the setting it sets, in the same round trip):
# from here on the transaction cannot write, whatever a route tries
_MAKE_READ_ONLY = func.set_config("transaction_read_only", "on", True)
_BIND_READ_ONLY = _BIND.add_columns(_MAKE_READ_ONLY)
_READ_ONLY_NOW = select(_MAKE_READ_ONLY)


WHOLE_TENANT = "*"


def bind_context(
    session: Session,
    *,
    tenant_id: int,
    region: str | None,
    user_id: int | None = None,
    username: str | None = None,
    role: str | None = None,
    request_id: str | None = None,
    read_only: bool = False,
) -> None:
    """Scope the current transaction to one tenant and one region of it, and say who acts and
    in which request (the audit triggers read the rest); `read_only` ends its writing.

    Row-level security reads `app.tenant_id` and `app.region`: `region` is a division-code
    prefix, WHOLE_TENANT for all of the tenant, or None for none of its offices and their
    records (a transaction that has not yet learnt whom it serves).
    """
    if region is not None and region != WHOLE_TENANT and not region.isdigit():
        raise ValueError(f"not a region to bind: {region!r}")
    session.execute(
        _BIND_READ_ONLY if read_only else _BIND,
        {
            "tenant_id": str(tenant_id),
            "region": region or "",
            "user_id": "" if user_id is None else str(user_id),
            "username": username or "",
            "role": role or "",
            "request_id": request_id or "",
        },
    )


def make_read_only(session: Session) -> None:
    """End the transaction's writing: from here on it cannot write, whatever a route tries."""
    session.execute(_READ_ONLY_NOW)


_READ_ONLY = text("SELECT current_setting('transaction_read_only') = 'on'")


def read_only(session: Session) -> bool:
    """Whether the transaction may not write (a read-only access token's request)."""
    return bool(session.scalar(_READ_ONLY))


_PLAN_FOR_VALUES = text("SET LOCAL plan_cache_mode = force_custom_plan")


def plan_for_values(session: Session) -> None:
    """Plan this transaction's statements for their actual parameters.

    psycopg prepares a statement it has run five times, and PostgreSQL may then settle on a
    generic plan. For region-scoped reads that is wrong: a prefix matches one county or the
    whole nation, and the generic plan ran the national plan for a county, 4x slower. Point
    lookups and writes keep the cached plans (planning a spatial predicate for its values
    reads the geometry statistics each time, which would cost office writes ~2 ms).
    """
    session.execute(_PLAN_FOR_VALUES)


def fetch_dicts(
    session: Session, sql: str | Executable, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows of a query as dicts (one zip per row: reports return thousands)."""
    result = session.execute(text(sql) if isinstance(sql, str) else sql, params)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def advisory_lock(session: Session, namespace: str, key: int) -> None:
    """Serialise writers of one kind per tenant for the rest of the transaction."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:ns, :key))"),
        {"ns": namespace, "key": key},
    )


# Bulk writes of at least this many rows refresh the table's planner statistics at once.
ANALYZE_AFTER_ROWS = 1000


def refresh_statistics(session: Session, table: str) -> None:
    """ANALYZE `table` (divisions or offices) through the owner's narrow definer function:
    reports are planned for their parameters and need the new rows' statistics now."""
    session.execute(text("SELECT registry_analyze(:table)"), {"table": table})
