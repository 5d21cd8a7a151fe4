"""What the OGC API says about a collection beyond its features: the extent of the caller's
region (the bounding box of the region's own division, so one row is read, not every
feature) and the first day of data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from service.core.binds import REGION, T
from service.coverage.predicates import divisions_as


@dataclass(frozen=True)
class Extent:
    bbox: tuple[float, float, float, float] | None  # CRS84
    first_day: date | None


@cache
def _extent() -> Select:
    d = divisions_as("d")
    top = select(
        func.ST_XMin(func.ST_Extent(d.c.geom)).label("x1"),
        func.ST_YMin(func.ST_Extent(d.c.geom)).label("y1"),
        func.ST_XMax(func.ST_Extent(d.c.geom)).label("x2"),
        func.ST_YMax(func.ST_Extent(d.c.geom)).label("y2"),
    ).where(
        d.c.tenant_id == T,
        d.c.valid_to.is_(None),
        # the region's own division; the whole tenant: its provinces
        or_(and_(REGION != "", d.c.code == REGION), and_(REGION == "", d.c.level == "province")),
    )
    first = (
        select(func.min(d.c.valid_from))
        .where(d.c.tenant_id == T, func.starts_with(d.c.code, REGION))
        .scalar_subquery()
    )
    return top.add_columns(first.label("first_day"))


def region_extent(session: Session, tenant_id: int, region: str) -> Extent:
    row = session.execute(_extent(), {"t": tenant_id, "region": region}).one()
    bbox = None if row.x1 is None else (row.x1, row.y1, row.x2, row.y2)
    return Extent(bbox, row.first_day)
