"""Division import, second half: write a checked batch set-based, with versioning.

Rows are COPYed into a temporary staging table (COPY FROM is not allowed into a table under
row-level security), then inserted set-based: new codes at once; codes that exist are
compared in SQL — unchanged ones are left alone, changed ones close the current version
(valid_to) and open a new one. Offices registered to a closed version follow the code to its new version,
and the township containing each affected office's point is recomputed, so that the stored
office → division relations stay true after boundary changes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.divisions.batch import DivisionBatch, ImportReport, Problem, Progress, rejection
from service.errors import ImportRejected
from service.tenants.models import Tenant

_COPY_COLUMNS = "tenant_id, code, name, kind, level, parent_code, valid_from, geom, source"
_COPY_TYPES = ["int4", "varchar", "text", "varchar", "varchar", "varchar", "date", "bytea", "text"]
_PROGRESS_EVERY = 2000


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


_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS division_stage (tenant_id int, code varchar(9),"
    " name text, kind varchar(24), level varchar(12), parent_code varchar(9),"
    " valid_from date, geom geometry(MultiPolygon, 4326) COMPRESSION lz4, source text,"
    " fresh boolean)"
    " ON COMMIT DROP"
)


def _stage_rows(session: Session, rows: list[tuple[Any, ...]], progress: Progress | None) -> None:
    """COPY the rows (fresh = the code is new) into a private temporary table."""
    session.execute(text(_STAGE))
    session.execute(text("TRUNCATE division_stage"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY division_stage ({_COPY_COLUMNS}, fresh) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types([*_COPY_TYPES, "bool"])
        for n, row in enumerate(rows, 1):
            copy.write_row(row)
            if progress and n % _PROGRESS_EVERY == 0:
                progress("write", n, len(rows))


def write_batch(
    *,
    session: Session,
    tenant: Tenant,
    batch: DivisionBatch,
    valid_from: date,
    source: str,
    report: ImportReport,
    verify: Callable[[], list[Problem]] = list,
    progress: Progress | None = None,
) -> None:
    """Insert new codes, version changed ones, relink and relocate offices; fill `report`.

    `verify` (the expensive, database-free checks) runs in a second thread meanwhile. All
    writing happens in a savepoint: if anything fails, or `verify` finds a problem, it is
    rolled back and ImportRejected names the problems — whatever the caller does next.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-verify") as pool:
        checking = pool.submit(verify)
        try:
            with session.begin_nested():
                _write(session, tenant, batch, valid_from, source, report, progress)
                problems = checking.result()
                if problems:
                    raise rejection(problems, len(batch))
        except Exception as exc:
            if isinstance(exc, ImportRejected):
                raise
            problems = checking.result()
            if problems:  # the checks explain a database error better than the database
                raise rejection(problems, len(batch)) from None
            raise


def _write(
    session: Session,
    tenant: Tenant,
    batch: DivisionBatch,
    valid_from: date,
    source: str,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    advisory_lock(session, "divisions-import", tenant.id)
    current = {
        row.code: row.valid_from
        for row in session.execute(
            text(
                "SELECT code, valid_from FROM divisions WHERE tenant_id = :t"
                " AND valid_to IS NULL AND code = ANY(:codes)"
            ),
            {"t": tenant.id, "codes": batch.codes},
        )
    }
    too_early = [
        Problem(i, c, f"a version valid from {current[c]} exists; valid_from must be later")
        for i, c in enumerate(batch.codes)
        if c in current and current[c] >= valid_from
    ]
    if too_early:
        raise rejection(too_early, len(batch), "would close a version before it opened")
    rows = [
        (tenant.id, c, n, k, lv, p, valid_from, g, source, c not in current)
        for c, n, k, lv, p, g in zip(
            batch.codes,
            batch.names,
            batch.kinds,
            batch.levels,
            batch.parents,
            batch.ewkb(),
            strict=True,
        )
    ]
    new_rows = [r for r in rows if r[-1]]
    if progress:
        progress("write", 0, len(rows))
    _stage_rows(session, rows, progress)
    session.execute(
        text(
            f"INSERT INTO divisions ({_COPY_COLUMNS})"
            f" SELECT {_COPY_COLUMNS} FROM division_stage WHERE fresh"
        )
    )
    report.created = len(new_rows)

    closed_ids: list[int] = []
    new_township_ids: list[int] = []
    if len(new_rows) < len(rows):
        closed_ids, new_township_ids = _version_existing(session, tenant, valid_from)
        report.changed = len(closed_ids)
        report.unchanged = len(rows) - len(new_rows) - len(closed_ids)
    if progress:
        progress("write", len(rows), len(rows))
    if report.created + report.changed >= ANALYZE_AFTER_ROWS:
        refresh_statistics(session, "divisions")  # before relocating offices against them

    if new_rows and _tenant_has_offices(session, tenant):
        new_township_ids.extend(
            session.scalars(
                text(
                    "SELECT id FROM divisions WHERE tenant_id = :t AND valid_to IS NULL"
                    " AND level = 'township' AND code = ANY(:codes)"
                ),
                {"t": tenant.id, "codes": [r[1] for r in new_rows if r[4] == "township"]},
            )
        )
    if closed_ids or new_township_ids:
        report.offices_relinked = _relink_offices(session, tenant, closed_ids)
        report.offices_relocated = relocate_offices(
            session=session, tenant_id=tenant.id, closed_ids=closed_ids, new_ids=new_township_ids
        )


def _tenant_has_offices(session: Session, tenant: Tenant) -> bool:
    return bool(
        session.scalar(
            text("SELECT EXISTS (SELECT 1 FROM offices WHERE tenant_id = :t)"), {"t": tenant.id}
        )
    )


def _version_existing(
    session: Session, tenant: Tenant, valid_from: date
) -> tuple[list[int], list[int]]:
    """For staged codes that exist: drop the unchanged, close and replace the changed.
    Returns (closed version ids, new township version ids)."""
    session.execute(text("DELETE FROM division_stage WHERE fresh"))
    params = {"t": tenant.id, "vf": valid_from}
    session.execute(
        text(
            "DELETE FROM division_stage s USING divisions d"
            " WHERE d.tenant_id = :t AND d.valid_to IS NULL AND d.code = s.code"
            " AND d.name = s.name AND d.kind = s.kind AND d.geom = s.geom"
        ),
        params,
    )
    closed = (
        session.execute(
            text(
                "UPDATE divisions d SET valid_to = :vf FROM division_stage s"
                " WHERE d.tenant_id = :t AND d.valid_to IS NULL AND d.code = s.code"
                " RETURNING d.id"
            ),
            params,
        )
        .scalars()
        .all()
    )
    inserted = session.execute(
        text(
            f"INSERT INTO divisions ({_COPY_COLUMNS})"
            f" SELECT {_COPY_COLUMNS} FROM division_stage RETURNING id, level"
        )
    ).all()
    return list(closed), [r.id for r in inserted if r.level == "township"]


def _relink_offices(session: Session, tenant: Tenant, closed_ids: list[int]) -> int:
    """Offices registered to a closed version now point at the current version of that code."""
    if not closed_ids:
        return 0
    result = session.execute(
        text(
            "UPDATE offices o SET division_id = n.id FROM divisions n"
            " WHERE o.tenant_id = :t AND n.tenant_id = :t AND n.valid_to IS NULL"
            " AND n.code = o.division_code AND o.division_id = ANY(:closed)"
        ),
        {"t": tenant.id, "closed": closed_ids},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


LOCATE_SQL = """
    SELECT d.id, d.code FROM divisions d
    WHERE d.tenant_id = {tenant} AND d.level = 'township' AND d.valid_to IS NULL
      AND d.geom ~ {point} AND ST_Covers(d.geom, {point})
    ORDER BY (d.code = {registered}) DESC, d.code
    LIMIT 1
"""


def relocate_offices(
    *, session: Session, tenant_id: int, closed_ids: list[int], new_ids: list[int]
) -> int:
    """Recompute the containing township of offices touched by a boundary change."""
    locate = LOCATE_SQL.format(tenant="o.tenant_id", point="o.geom", registered="o.division_code")
    result = session.execute(
        text(
            f"""
            UPDATE offices o
               SET (located_division_id, located_code) = (SELECT l.id, l.code FROM ({locate}) l)
             WHERE o.tenant_id = :t
               AND (o.located_division_id = ANY(:closed)
                    OR o.located_division_id IS NULL
                    OR EXISTS (SELECT 1 FROM divisions n
                                WHERE n.tenant_id = :t AND n.id = ANY(:new)
                                  AND n.geom ~ o.geom AND ST_Covers(n.geom, o.geom)))
            """
        ),
        {"t": tenant_id, "closed": closed_ids, "new": new_ids},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
