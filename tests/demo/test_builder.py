"""Demo division set builder (service.demo.builder): complete, nested, reproducible GeoPackages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from service.demo import builder
from service.demo.builder import (
    build_divisions,
    cached_build,
    plan_jobs,
    read_polygons,
    read_tables,
)

LEVEL_ORDER = {"province": 0, "city": 1, "county": 2, "township": 3}


def read_gpkg(path: Path) -> dict[str, tuple[str, str, shapely.Geometry]]:
    meta, _fids, wkb, (codes, names, levels) = pyogrio.raw.read(path, layer="divisions")
    assert meta["crs"] == "EPSG:4326"
    assert meta["geometry_type"] == "MultiPolygon"
    assert [LEVEL_ORDER[lv] for lv in levels] == sorted(LEVEL_ORDER[lv] for lv in levels)
    geoms = shapely.from_wkb(wkb)
    return {
        str(c): (str(n), str(lv), g)
        for c, n, lv, g in zip(codes, names, levels, geoms, strict=True)
    }


@pytest.fixture(scope="module")
def henan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str, shapely.Geometry]]:
    calls: list[tuple[int, int]] = []
    path = build_divisions(
        ["41"],
        tmp_path_factory.mktemp("henan") / "henan.gpkg",
        progress=lambda d, t: calls.append((d, t)),
    )
    total = calls[-1][1]
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert total == sum(1 for c in read_tables().counties if c[:2] == "41")
    assert sorted(p.name for p in path.parent.iterdir()) == ["henan.gpkg"]  # no temp file left
    return read_gpkg(path)


def test_every_henan_township_is_placed(
    henan: dict[str, tuple[str, str, shapely.Geometry]],
) -> None:
    tables = read_tables()
    want = {
        code: name
        for towns in tables.townships.values()
        for code, name in towns
        if code[:2] == "41"
    }
    got = {code: name for code, (name, level, _) in henan.items() if level == "township"}
    assert got == want
    assert len(got) == 2586
    counties = {c for c, (_, lv, _) in henan.items() if lv == "county"}
    assert counties == {c for c in tables.counties if c[:2] == "41"}
    levels = Counter(lv for _, lv, _ in henan.values())
    assert levels["province"] == 1
    assert levels["city"] == len({c[:4] for c in counties})


def test_geometries_valid_and_nested(henan: dict[str, tuple[str, str, shapely.Geometry]]) -> None:
    geoms = np.array([g for _, _, g in henan.values()], dtype=object)
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert (shapely.get_type_id(geoms) == 6).all()
    for code, (_, level, geom) in henan.items():
        if level in ("township", "county"):
            parent = henan[code[:6] if level == "township" else code[:4]][2]
            assert parent.buffer(1e-9).covers(geom), code


def test_townships_tile_their_county(henan: dict[str, tuple[str, str, shapely.Geometry]]) -> None:
    by_county: dict[str, list[shapely.Geometry]] = {}
    for code, (_, level, geom) in henan.items():
        if level == "township":
            by_county.setdefault(code[:6], []).append(geom)
    for county, cells in by_county.items():
        arr = np.array(cells, dtype=object)
        area = henan[county][2]
        assert shapely.coverage_is_valid(arr), county
        diff = shapely.symmetric_difference(shapely.coverage_union_all(arr), area).area
        assert diff / area.area < 1e-9, county


def test_vertex_density(henan: dict[str, tuple[str, str, shapely.Geometry]]) -> None:
    from geo.partition import count_vertices

    counts = [count_vertices(g) for _, lv, g in henan.values() if lv == "township"]
    assert np.median(counts) >= 150


def test_orphan_counties_are_carved_out(
    henan: dict[str, tuple[str, str, shapely.Geometry]],
) -> None:
    towns = read_tables().townships
    for code in ("410171", "410172", "410173", "411771"):
        _, level, geom = henan[code]
        assert level == "county"
        assert geom.area > 0
        placed = [c for c, (_, lv, _) in henan.items() if lv == "township" and c[:6] == code]
        assert sorted(placed) == [c for c, _ in towns[code]]
    assert henan["410173"][0] == "郑州航空港经济综合实验区"
    assert len([c for c in henan if c.startswith("410173") and len(c) == 9]) == 15
    # orphans and hosts do not overlap each other
    zhengzhou = [g for c, (_, lv, g) in henan.items() if lv == "county" and c[:4] == "4101"]
    arr = np.array(zhengzhou, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(arr[left[pairs]], arr[right[pairs]]))
    assert overlap.max() < 1e-12


def test_city_without_polygon_is_union_of_counties(
    henan: dict[str, tuple[str, str, shapely.Geometry]],
) -> None:
    _, level, geom = henan["4190"]
    assert level == "city"
    parts = [g for c, (_, lv, g) in henan.items() if lv == "county" and c[:4] == "4190"]
    assert parts
    assert shapely.symmetric_difference(geom, shapely.union_all(parts)).area < 1e-9 * geom.area


def test_renamed_and_hosted_counties_are_planned() -> None:
    tables, polygons = read_tables(), read_polygons("district")
    sources = {
        job.counties[0][0]: job
        for p in ("54", "62", "23", "46")
        for job in plan_jobs(tables, polygons, p)
    }
    # renamed: a spare polygon of the same province with the same name stem
    assert sources["540581"].polygon.equals(polygons["540530"][1])
    assert sources["540481"].polygon.equals(polygons["540422"][1])
    assert sources["620201"].polygon.equals(polygons["620200"][1])
    hosted = {c: job.counties[0][0] for job in sources.values() for c, _, _ in job.counties[1:]}
    # no 区 with a polygon in 大兴安岭地区: hosted by its other counties
    assert {hosted[c][:4] for c in ("232761", "232762", "232763", "232764")} == {"2327"}
    assert hosted["460323"][:4] == "4603"
    assert hosted["620171"] == "620111"  # a 区 of 兰州市


def test_reproducible_and_worker_independent(tmp_path: Path) -> None:
    one = build_divisions(["64"], tmp_path / "one.gpkg")
    two = build_divisions(["64"], tmp_path / "two.gpkg", workers=2)
    assert one.read_bytes() == two.read_bytes()
    data = read_gpkg(one)
    want = {c for towns in read_tables().townships.values() for c, _ in towns if c[:2] == "64"}
    assert {c for c, (_, lv, _) in data.items() if lv == "township"} == want


def test_cached_build_reuses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cached_build(["64"], tmp_path)
    assert first.exists() and first.parent == tmp_path

    def fail(*args: object, **kwargs: object) -> Path:
        raise AssertionError("should have been cached")

    monkeypatch.setattr(builder, "build_divisions", fail)
    assert cached_build(["64"], tmp_path) == first
    assert builder.cache_key(["64"]) != builder.cache_key(["41", "64"])
    assert builder.cache_key(["64", "41"]) == builder.cache_key(["41", "64"])
    assert builder.cache_key(None) != builder.cache_key(["64"])


def test_unknown_province_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="99"):
        build_divisions(["99"], tmp_path / "x.gpkg")
    assert not list(tmp_path.iterdir())
