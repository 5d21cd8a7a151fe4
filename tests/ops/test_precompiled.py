"""A Precompiled statement (service/core/db.py) — what every request's credential check and a
feature by id run, beside SQLAlchemy's execution — answers as SQLAlchemy does, fails as
SQLAlchemy does, and gives up a connection the database lost."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Boolean,
    Integer,
    Text,
    bindparam,
    cast,
    event,
    exc,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session

from service.core.db import Precompiled, make_engine
from service.core.settings import Settings

# typed values both ways: a processed bind (Boolean), the statement's own values, an array
# and a moment out, a setting made by the same statement
STATEMENT = select(
    bindparam("n", type_=Integer).label("n"),
    (bindparam("n", type_=Integer) * literal(2)).label("twice"),
    bindparam("flag", type_=Boolean).label("flag"),
    literal("司法所").label("word"),
    cast(array([bindparam("kind", type_=Text), literal("b")]), ARRAY(Text)).label("kinds"),
    func.now().label("at"),
    func.set_config("app.probe", bindparam("probe", type_=Text), True).label("probe"),
)
VALUES = {"n": 21, "flag": True, "kind": "a", "probe": "x"}


def test_rows_are_sqlalchemy_s_rows(session: Session) -> None:
    expected = session.execute(STATEMENT, VALUES).one()
    got = Precompiled(STATEMENT).one_or_none(session, VALUES)
    assert got._fields == tuple(expected._mapping.keys())
    assert tuple(got) == tuple(expected)
    assert (got.n, got.twice, got.flag, got.word, got.kinds) == (21, 42, True, "司法所", ["a", "b"])
    assert session.scalar(text("SELECT current_setting('app.probe')")) == "x"


def test_no_row_and_several_rows(session: Session) -> None:
    numbers = select(func.generate_series(1, bindparam("last", type_=Integer)).label("i"))
    assert Precompiled(numbers).one_or_none(session, {"last": 0}) is None
    assert [r.i for r in Precompiled(numbers).all(session, {"last": 3})] == [1, 2, 3]
    with pytest.raises(exc.MultipleResultsFound):
        Precompiled(numbers).one_or_none(session, {"last": 2})


def test_a_missing_value_is_refused_before_anything_is_sent(session: Session) -> None:
    sent: list[str] = []
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", lambda *a: sent.append(a[2]))
    with pytest.raises(exc.InvalidRequestError, match="probe"):
        Precompiled(STATEMENT).all(session, {"n": 1, "flag": False, "kind": "a"})
    assert sent == []
    Precompiled(STATEMENT).all(session, VALUES)
    assert len(sent) == 1  # (the engine's cursor events see what is sent: Server-Timing)


def test_an_expanding_parameter_is_left_to_sqlalchemy(session: Session) -> None:
    among = select(literal(2).in_(bindparam("some", expanding=True)).label("found"))
    assert Precompiled(among).one_or_none(session, {"some": [1, 2, 3]}).found is True


def test_a_database_error_is_sqlalchemy_s_of_the_same_kind(session: Session) -> None:
    ratio = select((literal(1) / bindparam("d", type_=Integer)).label("r"))
    with pytest.raises(exc.DataError) as raised, session.begin_nested():
        Precompiled(ratio).all(session, {"d": 0})
    assert raised.value.orig.sqlstate == "22012"  # division_by_zero
    assert raised.value.connection_invalidated is False
    assert Precompiled(ratio).one_or_none(session, {"d": 1}).r == 1  # the session goes on


def test_a_lost_connection_is_invalidated_not_pooled(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1)
    other = make_engine(settings.database_url, pool_size=1)
    pid = select(func.pg_backend_pid().label("pid"))
    try:
        with Session(engine) as session:
            first = Precompiled(pid).one_or_none(session, {}).pid
            with other.begin() as conn:  # the database drops it mid-transaction
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            with pytest.raises(exc.OperationalError) as raised:
                Precompiled(pid).all(session, {})
            assert raised.value.connection_invalidated is True
        with Session(engine) as session:  # the next one is a new connection, not the dead one
            assert Precompiled(pid).one_or_none(session, {}).pid != first
    finally:
        engine.dispose()
        other.dispose()


def test_the_statement_s_own_values_are_written_in_its_text(session: Session) -> None:
    """Its own strings, numbers and booleans go in the SQL as literals (a quote and a percent
    sign escaped), not as parameters adapted at every run; the caller's stay parameters."""
    own = select(
        literal("50% o'clock, %(n)s").label("text"),
        literal("4101%").label("pattern"),
        (literal("410102001").like(literal("4101%"))).label("matches"),
        (bindparam("n", type_=Integer) + literal(7)).label("sum"),
        literal(True, Boolean).label("yes"),
    )
    sent: list[tuple[str, dict[str, object]]] = []
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    got = Precompiled(own).one_or_none(session, {"n": 1})
    assert tuple(got) == tuple(session.execute(own, {"n": 1}).one())
    assert tuple(got) == ("50% o'clock, %(n)s", "4101%", True, 8, True)
    sql, params = sent[0]
    assert params == {"n": 1}
    assert "'50%% o''clock, %%(n)s'" in sql and "'4101%%'" in sql
