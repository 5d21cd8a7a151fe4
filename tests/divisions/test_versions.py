"""Re-importing a code with a new boundary closes the old version and opens a new one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import shapely
from division_imports import versions_of
from factories import mini_features, write_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected
from service.divisions.importer import import_divisions
from service.tenants.service import get_tenant

XINCUN = "410184101"  # 新村镇 in 新郑市, from the mini fixture


def versions(session: Session, code: str) -> list[tuple]:
    return versions_of(session, code, "valid_from, valid_to")


def test_reimport_unchanged_creates_no_version(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code.startswith("410184"))
    path = write_geojson(tmp_path / "same.geojson", feats)
    report = import_divisions(
        session=session,
        tenant=get_tenant(session=session, code="41"),
        path=path,
        valid_from=date(2025, 1, 1),
    )
    assert (report.created, report.changed, report.unchanged) == (0, 0, len(feats))
    assert len(versions(session, XINCUN)) == 1


def test_new_boundary_closes_old_version(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code == XINCUN)
    old = feats[0][0]
    new = shapely.affinity.scale(old, 0.9, 0.9)
    path = write_geojson(tmp_path / "new.geojson", [(new, feats[0][1])])
    report = import_divisions(
        session=session,
        tenant=get_tenant(session=session, code="41"),
        path=path,
        valid_from=date(2025, 6, 1),
    )
    assert (report.created, report.changed, report.unchanged) == (0, 1, 0)
    history = versions(session, XINCUN)
    assert len(history) == 2
    assert history[0].valid_to == date(2025, 6, 1)
    assert history[1] == (date(2025, 6, 1), None)
    # as of a date before the change, the old boundary is the valid one
    area_then, area_now = session.execute(
        text(
            "SELECT"
            " (SELECT ST_Area(geom) FROM divisions WHERE code = :c AND valid_from <= '2025-01-01'"
            "    AND (valid_to IS NULL OR valid_to > '2025-01-01')),"
            " (SELECT ST_Area(geom) FROM divisions WHERE code = :c AND valid_to IS NULL)"
        ),
        {"c": XINCUN},
    ).one()
    assert area_then == pytest.approx(old.area, rel=1e-9)
    assert area_now == pytest.approx(new.area, rel=1e-9)


def test_rename_is_a_new_version(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code == XINCUN)
    geom, props = feats[0]
    path = write_geojson(tmp_path / "rename.geojson", [(geom, {**props, "name": "新村街道"})])
    report = import_divisions(
        session=session,
        tenant=get_tenant(session=session, code="41"),
        path=path,
        valid_from=date(2025, 6, 1),
    )
    assert report.changed == 1
    kind = session.scalar(
        text("SELECT kind FROM divisions WHERE code = :c AND valid_to IS NULL"), {"c": XINCUN}
    )
    assert kind == "street"


def test_valid_from_must_follow_the_current_version(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code == XINCUN)
    geom, props = feats[0]
    path = write_geojson(
        tmp_path / "early.geojson", [(shapely.affinity.scale(geom, 0.9, 0.9), props)]
    )
    with pytest.raises(ImportRejected, match="close a version before it opened"):
        import_divisions(
            session=session,
            tenant=get_tenant(session=session, code="41"),
            path=path,
            valid_from=date(2020, 1, 1),
        )
    assert len(versions(session, XINCUN)) == 1


def test_fixture_is_what_the_tests_assume():
    data = json.loads(
        (Path(__file__).parent.parent / "fixtures" / "mini_henan.geojson").read_text()
    )
    codes = {f["properties"]["code"] for f in data["features"]}
    assert {"41", "4101", "410184", "410122", XINCUN} <= codes
