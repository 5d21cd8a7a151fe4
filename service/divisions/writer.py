"""Division import, second half: write a checked batch set-based, with versioning.

Rows are COPYed into a temporary staging table (COPY FROM is not allowed into a table under
row-level security) and classified in SQL against the current versions: new codes are
inserted at once; unchanged ones (same name, kind and geometry) are left alone whatever the
date; changed ones close the current version (valid_to) and open a new one. Offices
registered to a closed version follow the code to its new version, and the township
containing each affected office's point is recomputed, so that the stored office → division
relations stay true after boundary changes. A correction (`correction.py`) replaces the
changed codes' current versions in place instead. A dry run is the same write, rolled back.

Raw SQL by design (docs/architecture.md): COPY into a temporary stage and set-based writes
from it — whole statements, not composed; nothing here takes a filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.db import ANALYZE_AFTER_ROWS, advisory_lock, refresh_statistics
from service.core.errors import ImportRejected
from service.divisions.batch import DivisionBatch, ImportReport, Problem, Progress, rejection
from service.divisions.correction import correct_in_place
from service.tenants.models import Tenant

_COPY_COLUMNS = "tenant_id, code, name, kind, level, parent_code, valid_from, geom, source"
_COPY_TYPES = ["int4", "varchar", "text", "varchar", "varchar", "varchar", "date", "bytea", "text"]
_PROGRESS_EVERY = 2000


_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS division_stage (idx int, tenant_id int, code varchar(9),"
    " name text, kind varchar(24), level varchar(12), parent_code varchar(9),"
    " valid_from date, geom geometry(MultiPolygon, 4326) COMPRESSION lz4, source text,"
    " current_id bigint, current_from date, status varchar(9) NOT NULL DEFAULT 'new')"
    " ON COMMIT DROP"
)
# What the file does to each code, decided in SQL against the current versions: `new` (no
# current version), `unchanged` (same name, kind and geometry: left alone whatever the date),
# `changed` (a new version). The same classification serves the import and its dry run.
_CLASSIFY = (
    "UPDATE division_stage s SET current_id = d.id, current_from = d.valid_from,"
    " status = CASE WHEN d.name = s.name AND d.kind = s.kind AND d.geom = s.geom"
    " THEN 'unchanged' ELSE 'changed' END"
    " FROM divisions d WHERE d.tenant_id = :t AND d.valid_to IS NULL AND d.code = s.code"
)


def _stage_rows(session: Session, rows: list[tuple[Any, ...]], progress: Progress | None) -> None:
    """COPY the rows (idx = the feature's index in the file) into a private temporary table."""
    session.execute(text(_STAGE))
    session.execute(text("TRUNCATE division_stage"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY division_stage (idx, {_COPY_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", *_COPY_TYPES])
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
    dry_run: bool = False,
    correction_reason: str | None = None,
) -> None:
    """Insert new codes, version changed ones (or, with `correction_reason`, correct their
    current versions in place), relink and relocate offices; fill `report`.

    `verify` (the expensive, database-free checks) runs in a second thread meanwhile. All
    writing happens in a savepoint: if anything fails, or `verify` finds a problem, it is
    rolled back and ImportRejected names the problems — whatever the caller does next. A dry
    run writes exactly as the import would and always rolls back, so its report and its
    refusals are the import's by construction.
    """
    with _all_or_nothing(session, batch, verify, dry_run):
        advisory_lock(session, "divisions-import", tenant.id)
        rows = [
            (i, tenant.id, c, n, k, lv, p, valid_from, g, source)
            for i, (c, n, k, lv, p, g) in enumerate(
                zip(
                    batch.codes,
                    batch.names,
                    batch.kinds,
                    batch.levels,
                    batch.parents,
                    batch.ewkb(),
                    strict=True,
                )
            )
        ]
        if progress:
            progress("write", 0, len(rows))
        _stage_rows(session, rows, progress)
        params = {"t": tenant.id, "vf": valid_from}
        session.execute(text(_CLASSIFY), params)
        registered: list[int] = []
        if correction_reason is None:
            created, closed_ids, opened = _open_versions(session, batch, params)
            located_in = closed_ids
        else:
            _refuse_new_codes(session, batch)
            created, closed_ids = [], []
            opened = correct_in_place(
                session=session, tenant_id=tenant.id, reason=correction_reason
            )
            report.corrected = len(opened)
            # the same versions, new boundaries: offices registered to or located in them, and
            # offices their new boundaries now cover, have their located township recomputed
            located_in = registered = [r.id for r in opened]
        report.created, report.changed = len(created), len(closed_ids)
        report.unchanged = len(rows) - report.created - report.changed - report.corrected
        if progress:
            progress("write", len(rows), len(rows))
        written = report.created + report.changed + report.corrected
        if not dry_run and written >= ANALYZE_AFTER_ROWS:
            refresh_statistics(session, "divisions")  # before relocating offices against them

        new_township_ids = [r.id for r in (*created, *opened) if r.level == "township"]
        if located_in or (new_township_ids and _tenant_has_offices(session, tenant)):
            report.offices_relinked = _relink_offices(session, tenant, closed_ids)
            report.offices_relocated = relocate_offices(
                session=session,
                tenant_id=tenant.id,
                closed_ids=located_in,
                new_ids=new_township_ids,
                registered_ids=registered,
            )


@contextmanager
def _all_or_nothing(
    session: Session, batch: DivisionBatch, verify: Callable[[], list[Problem]], dry_run: bool
) -> Iterator[None]:
    """The writing of `batch` in a savepoint while `verify` runs in a second thread: if the
    writing fails, or `verify` finds a problem, the savepoint is rolled back and
    ImportRejected names the problems; a dry run is always rolled back."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-verify") as pool:
        checking = pool.submit(verify)
        savepoint = session.begin_nested()
        try:
            yield
            problems = checking.result()
            if problems:
                raise rejection(problems, len(batch))
        except Exception as exc:
            savepoint.rollback()
            if isinstance(exc, ImportRejected):
                raise
            problems = checking.result()
            if problems:  # the checks explain a database error better than the database
                raise rejection(problems, len(batch)) from None
            raise
        if dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()


def _open_versions(
    session: Session, batch: DivisionBatch, params: dict[str, Any]
) -> tuple[list[Any], list[int], list[Any]]:
    """Insert new codes; close the current version of changed ones and open their new one.
    Returns (inserted rows, closed version ids, opened rows); rows have id and level."""
    # Only a changed feature opens a version, and it cannot open one before the current one.
    too_early = [
        Problem(
            r.idx,
            batch.written[r.idx],
            f"a version valid from {r.current_from} exists; valid_from must be later (to fix"
            " that version's boundary, name or kind instead, import with correction)",
        )
        for r in session.execute(
            text(
                "SELECT idx, current_from FROM division_stage"
                " WHERE status = 'changed' AND current_from >= :vf ORDER BY idx"
            ),
            params,
        )
    ]
    if too_early:
        raise rejection(too_early, len(batch), "would close a version before it opened")
    created = session.execute(
        text(
            f"INSERT INTO divisions ({_COPY_COLUMNS})"
            f" SELECT {_COPY_COLUMNS} FROM division_stage WHERE status = 'new' RETURNING id, level"
        )
    ).all()
    closed_ids = list(
        session.scalars(
            text(
                "UPDATE divisions d SET valid_to = :vf FROM division_stage s"
                " WHERE s.status = 'changed' AND d.tenant_id = :t AND d.id = s.current_id"
                " RETURNING d.id"
            ),
            params,
        )
    )
    opened = session.execute(
        text(
            f"INSERT INTO divisions ({_COPY_COLUMNS})"
            f" SELECT {_COPY_COLUMNS} FROM division_stage WHERE status = 'changed'"
            " RETURNING id, level"
        )
    ).all()
    return list(created), closed_ids, list(opened)


def _refuse_new_codes(session: Session, batch: DivisionBatch) -> None:
    """A correction fixes current versions; it creates none."""
    new = [
        Problem(
            r.idx,
            batch.written[r.idx],
            f"{r.code} has no current version to correct; import it without correction",
        )
        for r in session.execute(
            text("SELECT idx, code FROM division_stage WHERE status = 'new' ORDER BY idx")
        )
    ]
    if new:
        raise rejection(new, len(batch), "have no current version to correct")


def _tenant_has_offices(session: Session, tenant: Tenant) -> bool:
    return bool(
        session.scalar(
            text("SELECT EXISTS (SELECT 1 FROM offices WHERE tenant_id = :t)"), {"t": tenant.id}
        )
    )


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


# The township each touched office stands in (the registered one first on a shared edge):
# one set-based UPDATE for every office a boundary change touches.
_RELOCATE = text("""
    UPDATE offices o
       SET (located_division_id, located_code) = (
             SELECT d.id, d.code FROM divisions d
              WHERE d.tenant_id = o.tenant_id AND d.level = 'township' AND d.valid_to IS NULL
                AND d.geom ~ o.geom AND ST_Covers(d.geom, o.geom)
              ORDER BY (d.code = o.division_code) DESC, d.code
              LIMIT 1)
     WHERE o.tenant_id = :t
       AND (o.located_division_id = ANY(:closed)
            OR o.division_id = ANY(:registered)
            OR o.located_division_id IS NULL
            OR EXISTS (SELECT 1 FROM divisions n
                        WHERE n.tenant_id = :t AND n.id = ANY(:new)
                          AND n.geom ~ o.geom AND ST_Covers(n.geom, o.geom)))
""")


def relocate_offices(
    *,
    session: Session,
    tenant_id: int,
    closed_ids: list[int],
    new_ids: list[int],
    registered_ids: list[int] | None = None,
) -> int:
    """Recompute the containing township of offices touched by a boundary change: located
    in `closed_ids`, not located, covered by `new_ids`, or registered to `registered_ids`."""
    result = session.execute(
        _RELOCATE,
        {"t": tenant_id, "closed": closed_ids, "new": new_ids, "registered": registered_ids or []},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
