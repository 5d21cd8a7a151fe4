"""Database sessions for operator tools (the CLI, the demo loader).

Tenants are created and listed as the schema owner (the service role cannot see a tenant
before it is bound to one); everything else goes through the service's own role, bound to
the tenant like a request, so row-level security and the audit trail apply to operators too.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.orm import Session

from service.core.db import WHOLE_TENANT, Database, bind_context, engine_for
from service.core.settings import Settings


class _Tenant(Protocol):
    id: int


def operator_name() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def owner_session(settings: Settings) -> Iterator[Session]:
    """A committed-on-success session as the schema owner (bypasses row-level security)."""
    database = Database(engine_for(settings, owner=True))
    try:
        with database.session() as session:
            yield session
    finally:
        database.engine.dispose()


def bind_operator(session: Session, tenant_id: int) -> None:
    """Bind a transaction to a whole tenant, acting as the operator at this terminal."""
    bind_context(
        session,
        tenant_id=tenant_id,
        region=WHOLE_TENANT,
        username=operator_name(),
        role="operator",
    )


@contextmanager
def tenant_session(
    settings: Settings, tenant: _Tenant, *, database: Database | None = None
) -> Iterator[Session]:
    """A session of the service role bound to `tenant`, acting as the operator."""
    own = database is None
    db = database or Database(engine_for(settings))
    try:
        with db.session() as session:
            bind_operator(session, tenant.id)
            yield session
    finally:
        if own:
            db.engine.dispose()
