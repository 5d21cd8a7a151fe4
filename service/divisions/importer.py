"""Division import: read a file, check every feature, write it — all or nothing.

Every problem of every feature is collected; if there is any, the whole file is rejected
with the list (index, code, problem) and nothing is written. The cheap checks run first;
the expensive geometry checks (validity, lon/lat, province) run in a second thread while
the rows are copied into the database inside the caller's transaction, and a problem found
there aborts the transaction. `checks.py` holds the checks, `writer.py` the writing.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path
from time import perf_counter

from sqlalchemy.orm import Session

from geo.crs import UnsupportedCRS, epsg_of, parse_epsg
from geo.readers import FeatureTable, UnreadableFile, ZipLimits, read_features
from service.audit import service as audit
from service.core.errors import Invalid
from service.core.text import PROBLEM, hidden_characters
from service.divisions.batch import (
    DivisionBatch,
    ImportReport,
    Problem,
    Progress,
    reject_file,
    rejection,
)
from service.divisions.checks import (
    check_hierarchy,
    geometry_checks,
    prepare,
    province_boundaries,
)
from service.divisions.service import current_codes
from service.tenants.models import Tenant

__all__ = ["DivisionBatch", "ImportReport", "Problem", "import_divisions"]


def source_epsg(table: FeatureTable, crs: str | None) -> tuple[int, list[str]]:
    """The CRS to read coordinates in: the `crs` parameter, else the file's own."""
    warnings: list[str] = []
    declared: int | None = None
    if table.crs:
        try:
            declared = epsg_of(table.crs)
        except UnsupportedCRS:
            declared = None
    if crs:
        try:
            epsg = parse_epsg(crs)
        except UnsupportedCRS as exc:
            raise Invalid(str(exc), [{"field": "crs", "problem": str(exc)}]) from exc
        if declared is not None and declared != epsg:
            warnings.append(f"the file declares EPSG:{declared}; read as EPSG:{epsg} as requested")
        return epsg, warnings
    if declared is None:
        raise reject_file(
            "the file declares no usable CRS; pass crs=EPSG:4326, EPSG:4490, EPSG:4491–4554 "
            "or EPSG:3857"
        )
    try:
        return parse_epsg(declared), warnings
    except UnsupportedCRS as exc:
        raise reject_file(str(exc)) from exc


MAX_REASON_LENGTH = 500


def clean_reason(reason: str | None, *, required: bool) -> str | None:
    """The reason recorded with an import; a correction must give one."""
    text = unicodedata.normalize("NFC", reason or "").strip()
    problem = None
    if not text and required:
        problem = "required for a correction: say what was wrong, and on whose authority"
    elif len(text) > MAX_REASON_LENGTH:
        problem = f"longer than {MAX_REASON_LENGTH} characters"
    elif hidden_characters(text, allow="\n\t"):
        problem = PROBLEM
    if problem:
        raise Invalid(f"reason: {problem}", [{"field": "reason", "problem": problem}])
    return text or None


def import_divisions(
    *,
    session: Session,
    tenant: Tenant,
    path: Path,
    crs: str | None = None,
    valid_from: date | None = None,
    source: str | None = None,
    dry_run: bool = False,
    correction: bool = False,
    reason: str | None = None,
    repair: bool = False,
    zip_limits: ZipLimits = ZipLimits(),
    progress: Progress | None = None,
) -> ImportReport:
    """Check a division file and write it as division versions — or, as a `correction`,
    replace the current versions in place (audited, with `reason`). With `repair`, invalid
    polygons are made valid instead of refused, and the report lists each repair. A dry run
    reports the same counts, repairs and refusals and leaves the database as it was."""
    from service.divisions.writer import write_batch

    why = clean_reason(reason, required=correction)
    if correction and valid_from is not None:
        problem = "not with a correction: the corrected versions keep their own valid_from"
        raise Invalid(f"valid_from: {problem}", [{"field": "valid_from", "problem": problem}])
    started = perf_counter()
    step = progress or (lambda stage, done, total: None)
    step("read", 0, 1)
    try:
        table = read_features(path, zip_limits=zip_limits)
    except UnreadableFile as exc:
        raise reject_file(str(exc)) from exc
    step("read", 1, 1)
    epsg, warnings = source_epsg(table, crs)
    step("check", 0, len(table))
    batch, problems = prepare(
        table,
        epsg,
        tenant,
        lambda codes: current_codes(session=session, tenant_id=tenant.id, codes=codes),
        repair=repair,
    )
    batch.warnings.extend(warnings)
    bad = {p.index for p in problems if p.index is not None}
    problems += check_hierarchy(session, tenant, batch, bad)
    skip = {p.index for p in problems if p.index is not None}
    boundaries = province_boundaries(session, tenant, batch, skip)

    def verify() -> list[Problem]:
        return geometry_checks(batch, boundaries, skip)

    report = ImportReport(
        features=len(batch),
        by_level=dict(Counter(batch.levels)),
        source_crs=f"EPSG:{batch.source_epsg}",
        valid_from=None if correction else valid_from or date.today(),
        dry_run=dry_run,
        correction=correction,
        reason=why,
        repair=repair,
        repaired=batch.repaired,
        warnings=batch.warnings,
    )
    if problems:
        problems += verify()
        step("check", len(table), len(table))
        raise rejection(problems, len(batch))
    # A dry run goes through the very same write and rolls it back: its counts and refusals
    # are the import's.
    write_batch(
        session=session,
        tenant=tenant,
        batch=batch,
        valid_from=report.valid_from or date.today(),
        source=source or path.name,
        report=report,
        verify=verify,
        progress=progress,
        dry_run=dry_run,
        correction_reason=why if correction else None,
    )
    step("check", len(table), len(table))
    if not dry_run:
        audit.record(
            session,
            tenant_id=tenant.id,
            action="correct" if correction else "import",
            entity_type="divisions",
            entity_id=source or path.name,
            region_code=tenant.code if tenant.code != "00" else "",
            # (with `repaired`: which features were repaired, why, and the area each changed)
            after={k: v for k, v in asdict(report).items() if k not in ("warnings", "seconds")},
        )
    report.seconds = round(perf_counter() - started, 3)
    return report
