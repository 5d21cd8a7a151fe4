"""Fixtures of the security tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_conn(engine, base_data):  # type: ignore[no-untyped-def]
    """A plain connection of the service's role, rolled back afterwards."""
    with engine.connect() as conn:
        conn.begin()
        yield conn
        conn.rollback()
