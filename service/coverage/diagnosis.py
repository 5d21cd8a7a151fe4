"""Why an office's point is not in its registered township, where a cause can be seen.

Candidates are computed for the points (vectorised) and tested in SQL, one query for all:
the point is really GCJ-02 (高德/腾讯) or BD-09 (百度) stored as WGS-84 — converting it lands
in the registered township; longitude and latitude are swapped — swapping them does; or the
point lies outside the province altogether.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.chinacoords import bd09_to_wgs84, gcj02_to_wgs84
from service.coverage.query import CoverageFilter, valid

LABELS_ZH = {
    "gcj02": "坐标疑似为GCJ-02(高德/腾讯)坐标,未转换为WGS-84",
    "bd09": "坐标疑似为BD-09(百度)坐标,未转换为WGS-84",
    "swapped": "经度与纬度疑似颠倒",
    "outside_province": "坐标位于本省边界之外",
    "outside_townships": "坐标不在任何乡镇(街道)范围内",
}
ORDER = ("gcj02", "bd09", "swapped")


def diagnose(session: Session, f: CoverageFilter, rows: list[dict[str, Any]]) -> None:
    """Set `diagnosis` (a key of LABELS_ZH or None) and `diagnosis_zh` on misplaced rows."""
    for r in rows:
        r["diagnosis"] = None
    if not rows:
        return
    ids = np.array([r["office_id"] for r in rows], dtype=np.int64)
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    candidates = {
        "gcj02": gcj02_to_wgs84(lon, lat),
        "bd09": bd09_to_wgs84(lon, lat),
        "swapped": (lat, lon),
    }
    kinds, xs, ys, owners = [], [], [], []
    for kind in ORDER:
        cx, cy = candidates[kind]
        kinds += [kind] * len(ids)
        xs += list(map(float, cx))
        ys += list(map(float, cy))
        owners += list(map(int, ids))
    hits = session.execute(
        text(
            f"""SELECT u.id, u.kind FROM unnest(CAST(:ids AS bigint[]), CAST(:kinds AS text[]),
                        CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS u(id, kind, x, y)
                  JOIN offices o ON o.tenant_id = :t AND o.id = u.id
                  JOIN divisions reg ON reg.tenant_id = :t AND reg.code = o.division_code
                                    AND {valid("reg", f)}
                 WHERE abs(u.y) <= 90 AND abs(u.x) <= 180
                   AND reg.geom ~ ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)
                   AND ST_Covers(reg.geom, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326))"""
        ),
        {**f.params(), "ids": owners, "kinds": kinds, "xs": xs, "ys": ys},
    ).all()
    found: dict[int, str] = {}
    for office_id, kind in hits:
        if office_id not in found or ORDER.index(kind) < ORDER.index(found[office_id]):
            found[office_id] = kind
    # A point standing in a township of another province is outside its own; only points in
    # no township at all need the (large) province polygon.
    outside = {
        int(r["office_id"])
        for r in rows
        if r["located_code"] is not None
        and str(r["located_code"])[:2] != str(r["registered_code"])[:2]
    }
    nowhere = [r for r in rows if r["located_code"] is None]
    if nowhere:
        outside |= set(
            session.scalars(
                text(
                    f"""SELECT o.id FROM offices o
                     JOIN divisions p ON p.tenant_id = :t AND p.code = ANY(CAST(:provinces AS text[]))
                                     AND starts_with(o.division_code, p.code) AND {valid("p", f)}
                    WHERE o.tenant_id = :t AND o.id = ANY(CAST(:ids AS bigint[]))
                      AND NOT (p.geom ~ o.geom AND ST_Covers(p.geom, o.geom))"""
                ),
                {
                    **f.params(),
                    "ids": [int(r["office_id"]) for r in nowhere],
                    "provinces": sorted({str(r["registered_code"])[:2] for r in nowhere}),
                },
            )
        )
    for r in rows:
        oid = int(r["office_id"])
        if oid in found:
            r["diagnosis"] = found[oid]
        elif oid in outside:
            r["diagnosis"] = "outside_province"
        elif r["located_code"] is None:
            r["diagnosis"] = "outside_townships"
        r["diagnosis_zh"] = LABELS_ZH.get(r["diagnosis"] or "")
