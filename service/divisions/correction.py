"""Correcting current division versions in place, with an audit event per division.

A correction says the stored boundary, name or kind was wrong, not that the division changed:
the current version keeps its id and validity and takes the file's name, kind, geometry and
source. Each corrected division gets an audit event (who from the transaction's context, the
reason, and a before/after summary: name, kind, validity, source, area, vertices, bounding
box and a fingerprint of the geometry — not the geometry itself).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.audit import service as audit

_SUMMARY = (
    "jsonb_build_object('name', {d}.name, 'kind', {d}.kind, 'valid_from', {d}.valid_from,"
    " 'source', {d}.source, 'area_km2', round((ST_Area({d}.geom::geography) / 1e6)::numeric, 3),"
    " 'vertices', ST_NPoints({d}.geom), 'bbox', jsonb_build_array("
    "round(ST_XMin({d}.geom)::numeric, 5), round(ST_YMin({d}.geom)::numeric, 5),"
    " round(ST_XMax({d}.geom)::numeric, 5), round(ST_YMax({d}.geom)::numeric, 5)),"
    " 'geom_md5', md5(ST_AsEWKB({d}.geom)))"
)

# Both summaries in one statement: `was` reads the snapshot before the UPDATE, `fixed`
# returns the rows after it.
_CORRECT = f"""
    WITH was AS (
        SELECT d.id, {_SUMMARY.format(d="d")} AS summary
          FROM divisions d JOIN division_stage s ON s.current_id = d.id
         WHERE s.status = 'changed' AND d.tenant_id = :t
    ), fixed AS (
        UPDATE divisions d
           SET name = s.name, kind = s.kind, geom = s.geom, source = s.source
          FROM division_stage s
         WHERE s.status = 'changed' AND d.tenant_id = :t AND d.id = s.current_id
        RETURNING d.id, d.code, d.level, {_SUMMARY.format(d="d")} AS summary
    )
    SELECT f.id, f.code, f.level, w.summary AS before, f.summary AS after
      FROM fixed f JOIN was w USING (id)
     ORDER BY f.code
"""


def correct_in_place(*, session: Session, tenant_id: int, reason: str) -> list[Any]:
    """Replace the current versions of the staged changed codes; audit each one.

    Returns the corrected rows (id, code, level)."""
    rows = list(session.execute(text(_CORRECT), {"t": tenant_id}).all())
    audit.record_many(
        session,
        tenant_id=tenant_id,
        action="correct",
        entity_type="divisions",
        changes=[
            audit.Change(r.code, r.code, r.before, {**r.after, "reason": reason}) for r in rows
        ],
    )
    return rows
