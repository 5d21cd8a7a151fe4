"""Demo offices: one per township for most townships, with varied staff, area and acceptance
state, plus planted gaps, conflicts and misplaced points for the coverage reports to find.

Everything is derived deterministically from the division codes (md5-based), so loading twice
gives the same offices, and `external_id` (demo:<code>[:n]) makes the insert idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.chinacoords import wgs84_to_gcj02
from service.core.db import ANALYZE_AFTER_ROWS, refresh_statistics
from service.divisions.writer import relocate_offices
from service.offices.naming import expected_name

REQUIRED_KINDS = {"town", "township", "street"}
STATES = [  # (state, weight in %)
    ("not_applied", 24),
    ("self_checked", 10),
    ("applied", 10),
    ("rejected", 5),
    ("accepted", 30),
    ("filed", 12),
    ("recommended", 3),
    ("excellent", 5),
    ("revoked", 1),
]


def unit(code: str, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) for a code."""
    digest = hashlib.md5(f"{code}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class DemoOffice:
    external_id: str
    code: str
    name: str
    staff_total: int
    staff_formal: int
    staff_civil_servants: int
    area_m2: float
    state: str
    opened_on: date
    phone: str
    address: str
    seed: int
    exception_reason: str | None = None
    plant: str | None = None  # "neighbour", "gcj02", "swapped": a planted misplaced point


def _state(code: str) -> str:
    r = unit(code, "state") * 100
    for state, weight in STATES:
        if r < weight:
            return state
        r -= weight
    return "not_applied"


def plan_offices(townships: list[tuple[str, str, str, str]]) -> list[DemoOffice]:
    """Offices for (code, name, kind, county name) townships, with the planted cases."""
    offices: list[DemoOffice] = []
    for code, name, kind, county in townships:
        required = kind in REQUIRED_KINDS
        if unit(code, "office") < (0.025 if required else 0.45):
            continue  # a gap (or an optional unit without an office)
        staff = 1 + int(unit(code, "staff") * 7)
        formal = max(0, staff - int(unit(code, "formal") * 3))
        civil = min(formal, int(unit(code, "civil") * 4))
        street = kind == "street"
        area = round((50 if street else 70) + unit(code, "area") * (150 if street else 190), 1)
        opened = date(1985, 1, 1) + timedelta(days=int(unit(code, "opened") * 13500))
        office = DemoOffice(
            external_id=f"demo:{code}",
            code=code,
            name=expected_name(county, name, kind),
            staff_total=staff,
            staff_formal=formal,
            staff_civil_servants=civil,
            area_m2=area,
            state=_state(code),
            opened_on=opened,
            phone=f"0{300 + int(code[:2]) * 3}-{6000000 + int(unit(code, 'phone') * 999999)}",
            address=f"{county}{name}人民政府院内",
            seed=1 + int(unit(code, "seed") * 1_000_000),
        )
        plant = unit(code, "plant")
        if required and plant < 0.004:
            office.plant = "neighbour"
        elif required and plant < 0.006:
            office.plant = "gcj02"
        elif required and plant < 0.007:
            office.plant = "swapped"
        offices.append(office)
        if required and unit(code, "conflict") < 0.004:
            twin = DemoOffice(**{**office.__dict__, "external_id": f"demo:{code}:2", "plant": None})
            twin.seed += 1
            twin.state = "not_applied"
            if unit(code, "exception") < 0.5:
                twin.exception_reason = "辖区面积大、人口多，经省司法厅批准增设"
            offices.append(twin)
    return offices


_INSERT = """
INSERT INTO offices (tenant_id, name, division_id, division_code, geom, address, phone,
                     staff_total, staff_formal, staff_civil_servants, area_m2, acceptance_state,
                     exception_reason, external_id, opened_on)
SELECT :t, u.name, d.id, d.code,
       coalesce(ST_GeometryN(ST_GeneratePoints(d.geom, 1, u.seed), 1), ST_PointOnSurface(d.geom)),
       u.address, u.phone, u.staff, u.formal, u.civil, u.area, u.state, u.reason, u.ext, u.opened
  FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:seeds AS int[]),
              CAST(:addresses AS text[]), CAST(:phones AS text[]), CAST(:staff AS int[]),
              CAST(:formal AS int[]), CAST(:civil AS int[]), CAST(:area AS numeric[]),
              CAST(:states AS text[]), CAST(:reasons AS text[]), CAST(:exts AS text[]),
              CAST(:opened AS date[]))
       AS u(code, name, seed, address, phone, staff, formal, civil, area, state, reason, ext, opened)
  JOIN divisions d ON d.tenant_id = :t AND d.code = u.code AND d.valid_to IS NULL
ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
"""
# the arrays `_INSERT` unnests: bind name → the field of DemoOffice it carries
_ARRAYS = {
    "codes": "code",
    "names": "name",
    "seeds": "seed",
    "addresses": "address",
    "phones": "phone",
    "staff": "staff_total",
    "formal": "staff_formal",
    "civil": "staff_civil_servants",
    "area": "area_m2",
    "states": "state",
    "reasons": "exception_reason",
    "exts": "external_id",
    "opened": "opened_on",
}


def load_offices(*, session: Session, tenant_id: int) -> int:
    """Insert the demo offices of a tenant (idempotent); returns how many were new."""
    townships = session.execute(
        text(
            "SELECT t.code, t.name, t.kind, coalesce(c.name, '') AS county"
            "  FROM divisions t LEFT JOIN divisions c ON c.tenant_id = t.tenant_id"
            "   AND c.code = t.parent_code AND c.valid_to IS NULL"
            " WHERE t.tenant_id = :t AND t.level = 'township' AND t.valid_to IS NULL ORDER BY t.code"
        ),
        {"t": tenant_id},
    ).all()
    plan = plan_offices([(r.code, r.name, r.kind, r.county) for r in townships])
    result = session.execute(
        text(_INSERT),
        {"t": tenant_id, **{bind: [getattr(o, f) for o in plan] for bind, f in _ARRAYS.items()}},
    )
    created = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if created:
        _plant_misplaced(session, tenant_id, [o for o in plan if o.plant])
        relocate_offices(session=session, tenant_id=tenant_id, closed_ids=[], new_ids=[])
    if created >= ANALYZE_AFTER_ROWS:
        refresh_statistics(session, "offices")
    return created


def _plant_misplaced(session: Session, tenant_id: int, planted: list[DemoOffice]) -> None:
    """Move a few offices' points the way real rosters get them wrong: into a neighbouring
    township, shifted by an uncorrected GCJ-02 conversion, or with lon/lat swapped."""
    for office in planted:
        row = session.execute(
            text(
                "SELECT o.id, ST_X(o.geom) AS x, ST_Y(o.geom) AS y, ST_AsBinary(d.geom) AS township,"
                " (SELECT ST_AsBinary(ST_PointOnSurface(n.geom)) FROM divisions n"
                "   WHERE n.tenant_id = d.tenant_id AND n.level = 'township' AND n.valid_to IS NULL"
                "     AND n.code <> d.code AND n.geom && d.geom AND ST_Touches(n.geom, d.geom)"
                "   ORDER BY n.code LIMIT 1)"
                "   AS neighbour"
                " FROM offices o JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id"
                " WHERE o.tenant_id = :t AND o.external_id = :e"
            ),
            {"t": tenant_id, "e": office.external_id},
        ).one()
        if office.plant == "neighbour" and row.neighbour is not None:
            x, y = shapely.from_wkb(bytes(row.neighbour)).coords[0]
        elif office.plant == "gcj02":
            x, y = _gcj02_crossing(shapely.from_wkb(bytes(row.township)), (row.x, row.y))
        else:
            x, y = row.y, row.x
        session.execute(
            text(
                "UPDATE offices SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE tenant_id = :t AND id = :id"
            ),
            {"x": x, "y": y, "t": tenant_id, "id": row.id},
        )


def _gcj02_crossing(township: BaseGeometry, fallback: tuple[float, float]) -> tuple[float, float]:
    """A GCJ-02 shifted point, chosen so that the shift carries it out of its township."""
    centre = township.centroid
    for vx, vy in shapely.get_coordinates(township.boundary):
        # 40 m in from the boundary, towards the centre
        dx, dy = centre.x - vx, centre.y - vy
        scale = 0.0004 / max((dx * dx + dy * dy) ** 0.5, 1e-9)
        candidate = (vx + dx * scale, vy + dy * scale)
        shifted = wgs84_to_gcj02(*candidate)
        if township.contains(shapely.Point(candidate)) and not township.contains(
            shapely.Point(shifted)
        ):
            return shifted
    return wgs84_to_gcj02(*fallback)
