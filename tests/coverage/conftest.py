"""A clean world for the coverage tests: one office at an interior point of every township
of the mini 河南 fixture (inside the test's transaction), and helpers to plant errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.divisions.writer import relocate_offices


@dataclass
class World:
    session: Session
    tenant_id: int

    def office_of(self, code: str) -> int:
        return int(
            self.session.scalar(
                text("SELECT min(id) FROM offices WHERE division_code = :c AND closed_at IS NULL"),
                {"c": code},
            )
        )

    def move(self, office_id: int, x: float, y: float) -> None:
        self.session.execute(
            text("UPDATE offices SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :id"),
            {"x": x, "y": y, "id": office_id},
        )
        self.relocate()

    def point_in(self, code: str) -> tuple[float, float]:
        row = self.session.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM divisions"
                " WHERE code = :c AND valid_to IS NULL) q"
            ),
            {"c": code},
        ).one()
        return float(row[0]), float(row[1])

    def add_office(self, code: str, *, at: str | None = None, reason: str | None = None) -> int:
        x, y = self.point_in(at or code)
        office_id = self.session.scalar(
            text(
                "INSERT INTO offices (tenant_id, name, division_id, division_code, geom,"
                " exception_reason, opened_on)"
                " SELECT :t, '测试司法所', id, code, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :r,"
                " '2020-01-01' FROM divisions WHERE code = :c AND valid_to IS NULL RETURNING id"
            ),
            {"t": self.tenant_id, "c": code, "x": x, "y": y, "r": reason},
        )
        self.relocate()
        return int(office_id)

    def close(self, code: str) -> None:
        self.session.execute(
            text(
                "UPDATE offices SET closed_at = now(), closed_reason = 'test'"
                " WHERE division_code = :c AND closed_at IS NULL"
            ),
            {"c": code},
        )

    def relocate(self) -> None:
        relocate_offices(session=self.session, tenant_id=self.tenant_id, closed_ids=[], new_ids=[])
        self.session.execute(
            text(
                "UPDATE offices o SET (located_division_id, located_code) = (SELECT d.id, d.code"
                " FROM divisions d WHERE d.tenant_id = o.tenant_id AND d.level = 'township'"
                " AND d.valid_to IS NULL AND d.geom ~ o.geom AND ST_Covers(d.geom, o.geom)"
                " ORDER BY (d.code = o.division_code) DESC, d.code LIMIT 1)"
            )
        )


@pytest.fixture
def world(session, base_data) -> World:  # type: ignore[no-untyped-def]
    """Every township of 河南's mini fixture with exactly one office inside it."""
    session.execute(
        text(
            "INSERT INTO offices (tenant_id, name, division_id, division_code, geom, opened_on)"
            " SELECT :t, name || '司法所', id, code, ST_PointOnSurface(geom), '2020-01-01'"
            " FROM divisions WHERE level = 'township' AND valid_to IS NULL"
        ),
        {"t": base_data.henan_id},
    )
    w = World(session, base_data.henan_id)
    w.relocate()
    session.commit()
    return w
