"""Storing a parsed roster: set-based upsert, then the rule violations of what was stored.

A row is matched to an office by its 编号 (external_id) or, without one, by township and
name among active offices; matched offices are updated, the rest inserted. Everything is
written in a savepoint, so a dry run shows the same report and then leaves no trace.

Raw SQL by design (docs/architecture.md): the writes are bulk INSERT/UPDATE from unnest()ed
arrays — whole statements over constant fragments (the rows, the locating rule), no filter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.points import points_to_wgs84
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.db import ANALYZE_AFTER_ROWS, refresh_statistics
from service.core.errors import ImportRejected
from service.coverage.diagnosis import cause_text, diagnose
from service.coverage.query import CoverageFilter
from service.offices.naming import expected_name, name_matches
from service.offices.roster import RosterRow, UnreadableRoster, parse_roster
from service.records.service import staff_list_counts

CODE_COLUMN = "乡镇(街道)代码"
_FIELDS = (
    "name",
    "address",
    "phone",
    "staff_total",
    "staff_formal",
    "staff_civil_servants",
    "area_m2",
    "opened_on",
)
# The township a row's point stands in: the declared one when it covers the point (most rows:
# one polygon test), else the lowest code that does — as divisions/service.py locate_township
# decides a point on a shared boundary.
_LOCATE = """CASE WHEN reg.geom ~ p.pt AND ST_Covers(reg.geom, p.pt) THEN reg.id
              ELSE (SELECT d.id FROM divisions d WHERE d.tenant_id = :t AND d.level = 'township'
                       AND d.valid_to IS NULL AND d.geom ~ p.pt AND ST_Covers(d.geom, p.pt)
                     ORDER BY d.code LIMIT 1) END"""


@dataclass
class RosterReport:
    rows: int
    created: int = 0
    updated: int = 0
    malformed: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)


def _wgs84(rows: list[RosterRow], report: RosterReport) -> list[RosterRow]:
    """Convert each row's point to WGS-84 in place, by the API's conversion and check
    (geo/points.py); a point that cannot be a place in China makes its row malformed."""
    by_crs: dict[str, list[RosterRow]] = {}
    for r in rows:
        by_crs.setdefault(r.values["crs"], []).append(r)
    kept = []
    for crs, group in by_crs.items():
        converted = points_to_wgs84(
            crs,
            np.array([r.values["lon"] for r in group]),
            np.array([r.values["lat"] for r in group]),
        )
        for r, x, y, problem in zip(
            group, converted.lon, converted.lat, converted.problems, strict=True
        ):
            if problem:
                report.malformed.append({"row": r.row, "column": "经度", "problem": problem})
            else:
                r.values["lon"], r.values["lat"] = float(x), float(y)
                kept.append(r)
    return sorted(kept, key=lambda r: r.row)


def _townships(
    session: Session, scope: Scope, rows: list[RosterRow], report: RosterReport
) -> list[RosterRow]:
    """Keep rows whose township exists (current) and lies in the caller's region."""
    codes = sorted({r.values["division_code"] for r in rows})
    known = {
        row.code: row
        for row in session.execute(
            text(
                "SELECT t.code, t.name, t.kind, coalesce(c.name, '') AS county FROM divisions t"
                " LEFT JOIN divisions c ON c.tenant_id = t.tenant_id AND c.code = t.parent_code"
                "  AND c.valid_to IS NULL"
                " WHERE t.tenant_id = :t AND t.level = 'township' AND t.valid_to IS NULL"
                " AND t.code = ANY(:codes)"
            ),
            {"t": scope.tenant_id, "codes": codes},
        )
    }
    kept = []
    for r in rows:
        code = r.values["division_code"]
        if code not in known:
            report.malformed.append(
                {"row": r.row, "column": CODE_COLUMN, "problem": f"{code}: no such township"}
            )
        elif not scope.covers(code):
            report.malformed.append(
                {
                    "row": r.row,
                    "column": CODE_COLUMN,
                    "problem": f"{code}: outside your region {scope.region_code}",
                }
            )
        else:
            t = known[code]
            r.expected_name = expected_name(t.county, t.name, t.kind)
            r.name_ok = name_matches(r.values["name"], t.county, t.name, t.kind)
            kept.append(r)
    return kept


def _match(
    session: Session, scope: Scope, rows: list[RosterRow], report: RosterReport
) -> list[RosterRow]:
    """Find the office each row updates (by 编号, else township + name) among the offices the
    caller may change — those registered in their region; a 编号 of any other office makes
    the row malformed, without saying whose it is or where. Drop clashes."""
    exts = [r.values["external_id"] for r in rows if r.values["external_id"]]
    existing = session.execute(
        text(
            "SELECT id, external_id, division_code, name, closed_at IS NOT NULL AS closed"
            " FROM offices WHERE tenant_id = :t AND (external_id = ANY(:ext)"
            "  OR (closed_at IS NULL AND division_code = ANY(:codes)))"
        ),
        {"t": scope.tenant_id, "ext": exts, "codes": [r.values["division_code"] for r in rows]},
    ).all()
    mine = [e for e in existing if scope.covers(e.division_code)]
    by_ext = {e.external_id: e for e in mine if e.external_id}
    # row-level security hides most offices outside the region: ask which 编号 are taken
    taken = set(session.scalars(text("SELECT registry_taken_external_ids(:ext)"), {"ext": exts}))
    by_place: dict[tuple[str, str], Any] = {}
    for e in sorted(mine, key=lambda e: e.id):
        if not e.closed:
            by_place.setdefault((e.division_code, e.name), e)
    kept, seen = [], set()
    for r in rows:
        ext = r.values["external_id"]
        hit = (
            by_ext.get(ext) if ext else by_place.get((r.values["division_code"], r.values["name"]))
        )
        if ext and hit is None and ext in taken:
            report.malformed.append(
                {
                    "row": r.row,
                    "column": "编号",
                    "problem": f"{ext}: this 编号 belongs to an office you cannot change; "
                    "use another",
                }
            )
            continue
        if hit is not None and hit.closed:
            report.malformed.append(
                {"row": r.row, "column": "编号", "problem": f"{ext}: belongs to a closed office"}
            )
            continue
        identity = ext or (r.values["division_code"], r.values["name"])
        if identity in seen:
            report.malformed.append(
                {
                    "row": r.row,
                    "column": "编号",
                    "problem": "the same office appears twice in the file",
                }
            )
            continue
        seen.add(identity)
        r.office_id = hit.id if hit is not None else None
        kept.append(r)
    return _staff_lists(session, scope, kept, report)


STAFF_COLUMNS = {
    "staff_total": "在岗人数",
    "staff_formal": "在编人数",
    "staff_civil_servants": "公务员人数",
}


def _staff_lists(
    session: Session, scope: Scope, rows: list[RosterRow], report: RosterReport
) -> list[RosterRow]:
    """An office with a staff list takes its numbers from the list (as the API says, 409): a
    row giving other numbers for it is malformed; the list's own numbers pass."""
    ids = [r.office_id for r in rows if r.office_id is not None]
    listed = staff_list_counts(session=session, tenant_id=scope.tenant_id, office_ids=ids)
    kept = []
    for r in rows:
        counts = listed.get(r.office_id) if r.office_id is not None else None
        wrong = [
            key
            for key, count in zip(STAFF_COLUMNS, counts or (), strict=False)
            if r.values[key] is not None and r.values[key] != count
        ]
        if counts is not None and wrong:
            report.malformed.append(
                {
                    "row": r.row,
                    "column": STAFF_COLUMNS[wrong[0]],
                    "problem": "this office keeps a staff list, and its numbers follow the list "
                    f"({counts[0]}/{counts[1]}/{counts[2]}); change the list instead",
                }
            )
            continue
        if counts is not None:  # numbers left empty keep the list's
            r.values.update(zip(STAFF_COLUMNS, counts, strict=True))
        kept.append(r)
    return kept


def _arrays(rows: list[RosterRow]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {k: [r.values[k] for r in rows] for k in _FIELDS}
    out.update(
        {
            "rows": [r.row for r in rows],
            "ids": [r.office_id for r in rows],
            "codes": [r.values["division_code"] for r in rows],
            "xs": [r.values["lon"] for r in rows],
            "ys": [r.values["lat"] for r in rows],
            "exts": [r.values["external_id"] for r in rows],
        }
    )
    return out


_UNNEST = """unnest(CAST(:rows AS int[]), CAST(:ids AS bigint[]), CAST(:codes AS text[]),
                    CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:exts AS text[]),
                    CAST(:name AS text[]), CAST(:address AS text[]), CAST(:phone AS text[]),
                    CAST(:staff_total AS int[]), CAST(:staff_formal AS int[]),
                    CAST(:staff_civil_servants AS int[]), CAST(:area_m2 AS numeric[]),
                    CAST(:opened_on AS date[]))
             AS u(row_no, id, division_code, x, y, external_id, name, address, phone, staff_total,
                  staff_formal, staff_civil_servants, area_m2, opened_on)"""


def _write(
    session: Session, scope: Scope, rows: list[RosterRow]
) -> tuple[dict[int, int], int, int]:
    """Insert and update set-based; returns (spreadsheet row → office id, created, updated)."""
    new = [r for r in rows if r.office_id is None]
    old = [r for r in rows if r.office_id is not None]
    office_of: dict[int, int] = {}
    if new:
        inserted = session.execute(
            text(
                f"""INSERT INTO offices (tenant_id, name, division_id, division_code,
                        located_division_id, located_code, geom, address, phone, staff_total,
                        staff_formal, staff_civil_servants, area_m2, opened_on, external_id)
                    SELECT :t, u.name, reg.id, reg.code, loc.id, loc.code, p.pt, u.address, u.phone,
                           u.staff_total, u.staff_formal, u.staff_civil_servants, u.area_m2,
                           coalesce(u.opened_on, current_date), u.external_id
                      FROM {_UNNEST}
                     CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS pt) p
                      JOIN divisions reg ON reg.tenant_id = :t AND reg.code = u.division_code
                                        AND reg.valid_to IS NULL
                      LEFT JOIN divisions loc ON loc.tenant_id = :t AND loc.id = {_LOCATE}
                    RETURNING id, name, division_code, external_id"""
            ),
            {"t": scope.tenant_id, **_arrays(new)},
        ).all()
        keys = {(r.external_id, r.division_code, r.name): r.id for r in inserted}
        for r in new:
            office_of[r.row] = keys[
                (r.values["external_id"], r.values["division_code"], r.values["name"])
            ]
    if old:
        session.execute(
            text(
                f"""UPDATE offices o SET name = u.name, division_id = reg.id,
                        division_code = reg.code, located_division_id = loc.id,
                        located_code = loc.code, geom = p.pt, address = u.address, phone = u.phone,
                        staff_total = u.staff_total, staff_formal = u.staff_formal,
                        staff_civil_servants = u.staff_civil_servants, area_m2 = u.area_m2,
                        opened_on = coalesce(u.opened_on, o.opened_on),
                        external_id = coalesce(u.external_id, o.external_id),
                        version = o.version + 1, updated_at = now()
                      FROM {_UNNEST}
                     CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS pt) p
                      JOIN divisions reg ON reg.tenant_id = :t AND reg.code = u.division_code
                                        AND reg.valid_to IS NULL
                      LEFT JOIN divisions loc ON loc.tenant_id = :t AND loc.id = {_LOCATE}
                     WHERE o.tenant_id = :t AND o.id = u.id"""
            ),
            {"t": scope.tenant_id, **_arrays(old)},
        )
        office_of.update({r.row: r.office_id for r in old if r.office_id is not None})
    return office_of, len(new), len(old)


@dataclass(frozen=True, slots=True)
class Astray:
    """An office of the roster whose point is not in its registered township."""

    office_id: int
    registered_code: str
    located_code: str | None
    lon: float
    lat: float


def _violations(
    session: Session, scope: Scope, rows: list[RosterRow], office_of: dict[int, int]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    row_of = {office: row for row, office in office_of.items()}
    for r in rows:
        if not r.name_ok:
            out.append(
                {
                    "row": r.row,
                    "office_id": office_of[r.row],
                    "kind": "name",
                    "problem": f"name does not follow the convention; expected {r.expected_name}",
                    "problem_zh": f"名称不符合规范,应为“{r.expected_name}”",
                }
            )
    f = CoverageFilter(tenant_id=scope.tenant_id, region=scope.region_prefix)
    astray = [
        Astray(**m)
        for m in session.execute(
            text(
                "SELECT o.id AS office_id, o.division_code AS registered_code, o.located_code,"
                " ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat FROM offices o"
                " WHERE o.tenant_id = :t AND o.id = ANY(:ids)"
                " AND o.located_code IS DISTINCT FROM o.division_code"
            ),
            {"t": scope.tenant_id, "ids": list(office_of.values())},
        ).mappings()
    ]
    diagnoses = diagnose(session, f, astray, roster_ids=list(office_of.values()))
    for m in astray:
        d = diagnoses[m.office_id]
        cause, cause_zh = cause_text(d)
        out.append(
            {
                "row": row_of[m.office_id],
                "office_id": m.office_id,
                "kind": "outside_townships" if m.located_code is None else "misplaced",
                "problem": f"the point lies in {m.located_code or 'no township'}, "
                f"not in {m.registered_code}{cause}",
                "problem_zh": f"坐标不在登记的乡镇(街道)内{cause_zh}",
                "diagnosis": d.label,
                "diagnosis_confidence": d.confidence,
                "evidence": asdict(d.evidence) if d.evidence else None,
            }
        )
    # by the codes the file names (an index lookup each), not by a join through the rows
    # just written, which the planner's statistics do not know yet
    crowded = session.execute(
        text(
            "SELECT o.id, o.division_code, count(*) OVER (PARTITION BY o.division_code) AS n"
            " FROM offices o WHERE o.tenant_id = :t AND o.closed_at IS NULL"
            " AND o.division_code = ANY(:codes)"
        ),
        {"t": scope.tenant_id, "codes": sorted({r.values["division_code"] for r in rows})},
    ).all()
    for c in crowded:
        if c.n > 1 and c.id in row_of:
            out.append(
                {
                    "row": row_of[c.id],
                    "office_id": c.id,
                    # counted by the township the rows declare, as the API's 409 counts;
                    # the conflicts report counts where the points stand (its own word)
                    "kind": "registered_twice",
                    "problem": f"township {c.division_code} has {c.n} active offices "
                    "registered to it",
                    "problem_zh": f"该乡镇(街道)登记有{c.n}个司法所,违反一乡(镇)一所"
                    "(按登记的乡镇计)",
                }
            )
    return sorted(out, key=lambda v: (v["row"], v["kind"]))


def import_roster(
    *, session: Session, scope: Scope, path: Path, dry_run: bool = False
) -> RosterReport:
    """Read, check and store a roster; the report lists malformed rows and violations."""
    scope.require(Action.create_office)
    try:
        parsed = parse_roster(path)
    except UnreadableRoster as exc:
        raise ImportRejected(
            f"the file was refused: {exc}",
            {"problems": [{"row": None, "column": None, "problem": str(exc)}], "count": 1},
        ) from exc
    report = RosterReport(
        rows=len(parsed.rows) + len({m["row"] for m in parsed.malformed}), dry_run=dry_run
    )
    report.malformed.extend(parsed.malformed)
    rows = _townships(session, scope, parsed.rows, report)
    rows = _wgs84(rows, report)
    rows = _match(session, scope, rows, report)
    savepoint = session.begin_nested()
    try:
        office_of, report.created, report.updated = _write(session, scope, rows)
        # The violation queries below read what was just written, before the planner's
        # statistics know of it: each is a lookup by the batch's ids or codes, with no join
        # whose plan a stale row count could turn into a nested loop over the tenant.
        report.violations = _violations(session, scope, rows, office_of)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()  # (statistics taken now would be rolled back with it)
    else:
        savepoint.commit()
        if report.created + report.updated >= ANALYZE_AFTER_ROWS:
            refresh_statistics(session, "offices")  # for the reports that read them next
    report.malformed.sort(key=lambda m: (m["row"], m["column"] or ""))
    return report
