"""The level of an imported feature follows from its code as written and the file's
structure; a code that could denote a division of another level is refused, never read as
one it may not be."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from division_imports import versions_of
from factories import mini_features, write_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected
from service.divisions.importer import ImportReport, import_divisions
from service.tenants.service import get_tenant

LATER = date(2025, 6, 1)
XINZHENG, XINCUN = "410184", "410184101"


def geom(code: str) -> shapely.Geometry:
    ((g, _),) = mini_features("mini_henan", lambda c: c == code)
    return g


def run(session: Session, tmp_path: Path, features: list[tuple], **kw) -> ImportReport:  # type: ignore[no-untyped-def]
    path = write_geojson(tmp_path / "levels.geojson", features)
    return import_divisions(
        session=session,
        tenant=get_tenant(session=session, code="41"),
        path=path,
        valid_from=kw.pop("valid_from", LATER),
        **kw,
    )


def rows(session: Session, code: str) -> list[tuple]:
    return versions_of(session, code, "level, name, parent_code, valid_from, valid_to")


def refusal(session: Session, tmp_path: Path, features: list[tuple]) -> list[dict]:
    before = session.execute(text("SELECT count(*), max(id) FROM divisions")).one()
    with pytest.raises(ImportRejected) as err:
        run(session, tmp_path, features)
    assert session.execute(text("SELECT count(*), max(id) FROM divisions")).one() == before
    return err.value.details["problems"]  # type: ignore[no-any-return]


def test_a_nine_digit_code_ending_in_000_is_a_township(session: Session, tmp_path: Path):
    """410184000 is a township-level unit (as 金门县's 350527000 is), not the county 410184:
    the county keeps its only version, name and polygon."""
    county_before = rows(session, XINZHENG)
    report = run(session, tmp_path, [(geom(XINCUN), {"code": "410184000", "name": "测试农场"})])
    assert report.by_level == {"township": 1}
    assert (report.created, report.changed, report.unchanged) == (1, 0, 0)
    assert rows(session, "410184000") == [("township", "测试农场", XINZHENG, LATER, None)]
    assert rows(session, XINZHENG) == county_before
    assert len(county_before) == 1 and county_before[0][1] == "新郑市"


def test_a_padded_code_in_a_layer_of_the_other_level_is_refused(session: Session, tmp_path):
    """Townships of 中牟县 in 12 digits, and 410184000000: in a township layer that is the
    township 410184000 as much as the county 410184; refused, the county untouched."""
    county_before = rows(session, XINZHENG)
    problems = refusal(
        session,
        tmp_path,
        [
            (geom("410122101"), {"code": "410122101000", "name": "韩寺镇"}),
            (geom("410122102"), {"code": "410122102000", "name": "官渡镇"}),
            (geom(XINCUN), {"code": "410184000000", "name": "测试农场"}),
        ],
    )
    assert [(p["index"], p["code"]) for p in problems] == [(2, "410184000000")]
    message = problems[0]["problem"]
    assert "ambiguous" in message and "county 410184" in message and "township 410184000" in message
    assert "level" in message
    assert rows(session, XINZHENG) == county_before


def test_a_padded_code_is_refused_when_the_registry_holds_its_other_reading(
    session: Session, tmp_path: Path
):
    run(session, tmp_path, [(geom(XINCUN), {"code": "410184000", "name": "测试农场"})])
    county_before = rows(session, XINZHENG)
    problems = refusal(
        session, tmp_path, [(geom(XINCUN), {"code": "410184000000", "name": "测试农场"})]
    )
    assert [(p["index"], p["code"]) for p in problems] == [(0, "410184000000")]
    assert "the registry holds township 410184000" in problems[0]["problem"]
    assert rows(session, XINZHENG) == county_before


def test_a_padded_code_that_repeats_another_feature_names_the_code_as_written(
    session: Session, tmp_path: Path
):
    problems = refusal(
        session,
        tmp_path,
        [
            (geom(XINZHENG), {"code": XINZHENG, "name": "新郑市"}),
            (geom(XINCUN), {"code": "410184000000", "name": "测试农场"}),
        ],
    )
    assert [(p["index"], p["code"]) for p in problems] == [(1, "410184000000")]
    assert "feature #0 (410184) is county 410184" in problems[0]["problem"]


def test_a_padded_city_among_counties_of_other_cities_is_refused(session: Session, tmp_path):
    """410100 among counties of 开封 only: the county-level unit 410100 of a city without
    districts (as 东莞 441900) as much as the city 4101."""
    problems = refusal(
        session,
        tmp_path,
        [
            (geom("4101"), {"code": "410100", "name": "郑州市"}),
            (geom("410222"), {"code": "410222", "name": "通许县"}),
        ],
    )
    assert [(p["index"], p["code"]) for p in problems] == [(0, "410100")]
    assert "city 4101" in problems[0]["problem"] and "county 410100" in problems[0]["problem"]


def test_the_file_structure_settles_padded_codes(session: Session, tmp_path: Path):
    """A province file in 12 digits: province, city, county and townships, each read as the
    statistical convention says; and a padded city with its counties."""
    feats = mini_features("mini_henan", lambda c: c in ("41", "4101") or c.startswith(XINZHENG))
    twelve = [(g, {**p, "code": p["code"].ljust(12, "0")}) for g, p in feats]
    report = run(session, tmp_path, twelve)
    assert report.by_level == {"province": 1, "city": 1, "county": 1, "township": 15}
    assert (report.created, report.changed, report.unchanged) == (0, 0, 18)
    padded = [
        (geom("4101"), {"code": "410100", "name": "郑州市"}),
        (geom(XINZHENG), {"code": XINZHENG, "name": "新郑市"}),
        (geom("410122"), {"code": "410122", "name": "中牟县"}),
    ]
    assert run(session, tmp_path, padded).unchanged == 3


def test_a_level_column_decides(session: Session, tmp_path: Path):
    report = run(
        session,
        tmp_path,
        [
            (geom("410122101"), {"code": "410122101000", "name": "韩寺镇", "level": "乡镇"}),
            (geom(XINCUN), {"code": "410184000000", "name": "测试农场", "level": "township"}),
        ],
    )
    assert report.by_level == {"township": 2}
    assert (report.created, report.unchanged) == (1, 1)
    assert rows(session, "410184000")[0][0] == "township"


def test_a_level_that_does_not_fit_the_code_is_refused(session: Session, tmp_path: Path):
    problems = refusal(
        session,
        tmp_path,
        [(geom(XINCUN), {"code": "410184000", "name": "测试农场", "level": "county"})],
    )
    assert [(p["index"], p["code"]) for p in problems] == [(0, "410184000")]
    assert "level county does not fit code 410184000" in problems[0]["problem"]
