"""Re-importing: identical features are left alone whatever the date, and a dry run reports
exactly what the import would do — its counts and its refusals."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
import shapely
from division_imports import all_versions, gongyi_features, import_henan
from factories import mini_features, write_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected
from service.divisions.importer import ImportReport

BASE_DATE = date(2023, 1, 1)  # the fixture's versions open on this day (conftest)
XINCUN = "410184101"


def counts(report: ImportReport) -> tuple[int, int, int]:
    return report.created, report.changed, report.unchanged


def test_identical_file_twice_on_the_same_day(session: Session, tmp_path: Path):
    """Imports the same file twice today: the second import changes nothing and says so."""
    path = write_geojson(tmp_path / "gongyi.geojson", gongyi_features())
    assert counts(import_henan(session, path)) == (4, 0, 0)
    before = all_versions(session)
    again = import_henan(session, path)
    assert counts(again) == (0, 0, 4)
    assert all_versions(session) == before


@pytest.mark.parametrize("day", [BASE_DATE, date(2020, 1, 1)])
def test_identical_features_are_unchanged_on_any_date(session: Session, tmp_path: Path, day):
    """On the day the current versions opened, or before it: nothing to close, nothing refused."""
    feats = mini_features("mini_henan", lambda code: code.startswith("410184"))
    path = write_geojson(tmp_path / "same.geojson", feats)
    before = all_versions(session)
    assert counts(import_henan(session, path, valid_from=day)) == (0, 0, 16)
    assert all_versions(session) == before


def test_only_changed_features_must_follow_their_version(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code.startswith("410184"))
    at = next(i for i, (_, p) in enumerate(feats) if p["code"] == XINCUN)
    feats[at] = (shapely.affinity.scale(feats[at][0], 0.9, 0.9), feats[at][1])
    path = write_geojson(tmp_path / "one_changed.geojson", feats)
    before = all_versions(session)
    with pytest.raises(ImportRejected, match="1 of 16 features would close a version") as err:
        import_henan(session, path, valid_from=BASE_DATE)
    assert [(p["index"], p["code"]) for p in err.value.details["problems"]] == [(at, XINCUN)]
    assert all_versions(session) == before


# -- dry run -------------------------------------------------------------------------------


def plant_office(session: Session, code: str) -> tuple[int, shapely.Point]:
    """An office registered to and located in township `code`, at an interior point."""
    ((geom, _),) = mini_features("mini_henan", lambda c: c == code)
    point = shapely.point_on_surface(geom)
    office_id = session.scalar(
        text(
            "INSERT INTO offices (tenant_id, name, division_id, division_code,"
            " located_division_id, located_code, geom)"
            " SELECT tenant_id, '测试司法所', id, code, id, code,"
            " ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
            " FROM divisions WHERE code = :c AND valid_to IS NULL RETURNING id"
        ),
        {"c": code, "x": point.x, "y": point.y},
    )
    return int(office_id), point


def office_relation(session: Session, office_id: int) -> tuple:
    return session.execute(
        text(
            "SELECT o.division_id, o.located_division_id, o.located_code FROM offices o"
            " WHERE o.id = :i"
        ),
        {"i": office_id},
    ).one()


def comparable(report: ImportReport) -> dict:
    return {k: v for k, v in asdict(report).items() if k not in ("dry_run", "seconds")}


def test_dry_run_reports_what_the_import_does(session: Session, tmp_path: Path):
    """New codes, a changed township holding an office, an unchanged one: the dry run gives
    the very report of the import, and leaves divisions and offices as they were."""
    office_id, point = plant_office(session, XINCUN)
    ((xincun, xincun_props),) = mini_features("mini_henan", lambda c: c == XINCUN)
    holed = shapely.difference(xincun, point.buffer(0.001))  # the office's spot leaves it
    assert holed.is_valid and len(shapely.get_interior_ring(holed, 0).coords) > 0
    unchanged = mini_features("mini_henan", lambda c: c == "410184102")
    path = write_geojson(
        tmp_path / "mixed.geojson", [*gongyi_features(), (holed, xincun_props), *unchanged]
    )
    before = (all_versions(session), office_relation(session, office_id))

    dry = import_henan(session, path, valid_from=date(2025, 6, 1), dry_run=True)
    assert (all_versions(session), office_relation(session, office_id)) == before

    real = import_henan(session, path, valid_from=date(2025, 6, 1))
    assert counts(real) == (4, 1, 1)
    assert (real.offices_relinked, real.offices_relocated) == (1, 1)
    assert office_relation(session, office_id)[1:] == (None, None)
    assert dry.dry_run is True and real.dry_run is False
    assert comparable(dry) == comparable(real)


def test_dry_run_predicts_the_refusal(session: Session, tmp_path: Path):
    feats = mini_features("mini_henan", lambda code: code == XINCUN)
    path = write_geojson(
        tmp_path / "early.geojson", [(shapely.affinity.scale(feats[0][0], 0.9, 0.9), feats[0][1])]
    )
    with pytest.raises(ImportRejected) as real:
        import_henan(session, path, valid_from=BASE_DATE)
    with pytest.raises(ImportRejected) as dry:
        import_henan(session, path, valid_from=BASE_DATE, dry_run=True)
    assert dry.value.message == real.value.message
    assert dry.value.details == real.value.details
    assert real.value.details["count"] == 1
