"""Results derived from a tenant's boundaries, kept until the boundaries change: stored
under a key with the fingerprint of the tenant's divisions (any import changes it), so a
second look at unchanged boundaries is instant. The boundary checks (boundaries.py) and the
maps' simplified geometry (service/maps/geometry.py) keep theirs here. These are the only
writes a GET makes; a read-only transaction skips them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.db import read_only


def fingerprint(session: Session, tenant_id: int) -> str:
    """Changes whenever divisions are imported (new versions, closed versions)."""
    row = session.execute(
        text(
            "SELECT count(*), coalesce(max(id), 0), count(valid_to) FROM divisions"
            " WHERE tenant_id = :t"
        ),
        {"t": tenant_id},
    ).one()
    return f"{row[0]}:{row[1]}:{row[2]}"


def cached(session: Session, tenant_id: int, key: str) -> tuple[str, Any] | None:
    """(fingerprint, result) stored under `key`, if any."""
    row = session.execute(
        text("SELECT fingerprint, result FROM boundary_qa_cache WHERE tenant_id = :t AND key = :k"),
        {"t": tenant_id, "k": key},
    ).one_or_none()
    return None if row is None else (row.fingerprint, row.result)


def store(
    session: Session, tenant_id: int, key: str, stamp: str, seconds: float, result: Any
) -> None:
    """Keep a computed result under `key` for the boundary version `stamp` — unless the
    transaction is read-only (a read-only access token's GET): the result is answered all the
    same, and kept by the next request that may write."""
    if read_only(session):
        return
    session.execute(
        text(
            "INSERT INTO boundary_qa_cache (tenant_id, key, fingerprint, seconds, result)"
            " VALUES (:t, :k, :fp, :s, CAST(:r AS jsonb)) ON CONFLICT (tenant_id, key) DO UPDATE"
            " SET fingerprint = excluded.fingerprint, seconds = excluded.seconds,"
            " result = excluded.result, computed_at = now()"
        ),
        {"t": tenant_id, "k": key, "fp": stamp, "s": seconds, "r": json.dumps(result, default=str)},
    )
