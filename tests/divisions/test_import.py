"""Division import: formats, CRSs, all-or-nothing validation, versioning on re-import."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from division_imports import gongyi_features, projected, write_features
from factories import write_geojson, zip_shapefile
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected
from service.divisions.importer import import_divisions
from service.tenants.service import get_tenant


def count_divisions(session: Session, tenant_id: int) -> int:
    return int(
        session.scalar(
            text("SELECT count(*) FROM divisions WHERE tenant_id = :t"), {"t": tenant_id}
        )
    )


def henan(session: Session):  # type: ignore[no-untyped-def]
    return get_tenant(session=session, code="41")


def test_geojson_import_creates_levels_kinds_parents(session: Session, tmp_path: Path):
    path = write_geojson(tmp_path / "gongyi.geojson", gongyi_features(n=5))
    report = import_divisions(
        session=session, tenant=henan(session), path=path, valid_from=date(2024, 1, 1)
    )
    assert (report.features, report.created, report.changed, report.unchanged) == (6, 6, 0, 0)
    assert report.by_level == {"county": 1, "township": 5}
    rows = session.execute(
        text(
            "SELECT code, level, kind, parent_code, valid_from, ST_GeometryType(geom) AS gtype"
            " FROM divisions WHERE tenant_id = :t AND code LIKE '410181%' ORDER BY code"
        ),
        {"t": henan(session).id},
    ).all()
    assert [(r.code, r.level, r.kind, r.parent_code) for r in rows] == [
        ("410181", "county", "county_city", "4101"),
        ("410181001", "township", "town", "410181"),
        ("410181002", "township", "town", "410181"),
        ("410181003", "township", "street", "410181"),
        ("410181004", "township", "town", "410181"),
        ("410181005", "township", "township", "410181"),
    ]
    assert {r.gtype for r in rows} == {"ST_MultiPolygon"}
    assert {r.valid_from for r in rows} == {date(2024, 1, 1)}


def test_kind_from_property_overrides_suffix(session: Session, tmp_path: Path):
    feats = gongyi_features(n=2)
    feats[1][1]["kind"] = "农场"
    feats[2][1]["kind"] = "development_zone"
    path = write_geojson(tmp_path / "k.geojson", feats)
    import_divisions(session=session, tenant=henan(session), path=path)
    kinds = dict(
        session.execute(
            text("SELECT code, kind FROM divisions WHERE code IN ('410181001', '410181002')")
        ).all()
    )
    assert kinds == {"410181001": "farm", "410181002": "development_zone"}


def _roundtrip_error(session: Session, code: str, expected: shapely.Geometry) -> float:
    wkb = session.scalar(
        text("SELECT ST_AsBinary(geom) FROM divisions WHERE code = :c"), {"c": code}
    )
    got = shapely.from_wkb(bytes(wkb))
    return float(shapely.hausdorff_distance(got, expected))


@pytest.mark.parametrize(
    ("driver", "suffix"), [("GeoJSON", ".geojson"), ("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")]
)
def test_every_format(session: Session, tmp_path: Path, driver: str, suffix: str):
    feats = gongyi_features(n=3)
    path = write_features(
        tmp_path / f"layer{suffix}",
        feats,
        driver=driver,
        crs="EPSG:4490",
    )
    if driver == "ESRI Shapefile":
        path = zip_shapefile(path, tmp_path / "layer.zip")
    report = import_divisions(session=session, tenant=henan(session), path=path)
    assert report.created == 4
    assert report.source_crs == "EPSG:4490"
    assert _roundtrip_error(session, "410181001", feats[1][0]) < 1e-9


def test_shapefile_in_gbk_without_cpg(session: Session, tmp_path: Path):
    feats = gongyi_features(n=2)
    shp = write_features(
        tmp_path / "gbk.shp",
        feats,
        driver="ESRI Shapefile",
        encoding="GBK",
    )
    path = zip_shapefile(shp, tmp_path / "gbk.zip", drop=(".cpg",))
    report = import_divisions(session=session, tenant=henan(session), path=path)
    assert any("gb18030" in w for w in report.warnings)
    names = session.scalars(
        text("SELECT name FROM divisions WHERE code LIKE '410181%' ORDER BY code")
    ).all()
    assert names == ["巩义市", "站街镇", "米河镇"]


@pytest.mark.parametrize("epsg", [3857, 4547, 4526, 4508])
def test_projected_crs_is_reprojected(session: Session, tmp_path: Path, epsg: int):
    feats = gongyi_features(n=2)
    path = write_features(
        tmp_path / "proj.gpkg",
        projected(feats, epsg),
        driver="GPKG",
        crs=f"EPSG:{epsg}",
    )
    report = import_divisions(session=session, tenant=henan(session), path=path)
    assert report.source_crs == f"EPSG:{epsg}"
    assert _roundtrip_error(session, "410181002", feats[2][0]) < 1e-7  # ≈1 cm


def in_gauss_krueger_metres(path: Path, **layer: Any) -> Path:
    """巩义市 and two townships in EPSG:4547 metres, written with the driver and the CRS label
    (none, or a wrong one) in `layer`."""
    return write_features(path, projected(gongyi_features(n=2), 4547), **layer)


def test_crs_parameter_for_a_file_without_one(session: Session, tmp_path: Path):
    shp = in_gauss_krueger_metres(tmp_path / "noprj.shp", driver="ESRI Shapefile", crs=None)
    path = zip_shapefile(shp, tmp_path / "noprj.zip")
    with pytest.raises(ImportRejected, match="no usable CRS"):
        import_divisions(session=session, tenant=henan(session), path=path)
    report = import_divisions(session=session, tenant=henan(session), path=path, crs="EPSG:4547")
    assert report.created == 3


def test_wrong_crs_is_caught(session: Session, tmp_path: Path):
    """Gauss-Krüger metres labelled as degrees: every feature is reported, nothing stored."""
    path = in_gauss_krueger_metres(tmp_path / "lie.gpkg", driver="GPKG", crs="EPSG:4326")
    before = count_divisions(session, henan(session).id)
    with pytest.raises(ImportRejected) as err:
        import_divisions(session=session, tenant=henan(session), path=path)
    problems = err.value.details["problems"]
    assert [p["index"] for p in problems] == [0, 1, 2]
    assert all("not longitude/latitude" in p["problem"] for p in problems)
    assert count_divisions(session, henan(session).id) == before
