"""Bulk paths obey the rules of the single-item API: a roster import by a county bureau cannot
reach an office outside its county, by 编号 or by name, in a dry run or for real, and says
nothing about that office; staff numbers follow a staff list; points are checked and
converted as the API does; a spreadsheet that would inflate past its limits is refused by
arithmetic, before anything is inflated."""

from __future__ import annotations

import pytest
from factories import xlsx_bytes
from hostile_files import lying_zip, xlsx_bomb
from office_records import OfficeSpec, register, township_office_name, township_point
from sqlalchemy import text

from geo.crs import transformer_to_wgs84
from service.offices.roster import COLUMNS

URL = "/api/v1/offices/import"
HEADERS = [header for header, _ in COLUMNS.values()]
OWN = "410184101"  # 新郑市, the importing county
FOREIGN = "410222101"  # 通许县 (开封, city 4102)


def roster(*rows: dict) -> bytes:  # type: ignore[type-arg]
    return xlsx_bytes([HEADERS, *[[values.get(key) for key in COLUMNS] for values in rows]])


def own_row(code: str = OWN, **values) -> dict:  # type: ignore[no-untyped-def, type-arg]
    lon, lat = township_point(code)
    return {
        "name": township_office_name(code),
        "division_code": code,
        "lon": lon,
        "lat": lat,
        **values,
    }


def upload(client, headers, content: bytes, **form):  # type: ignore[no-untyped-def]
    return client.post(URL, files={"file": ("roster.xlsx", content)}, data=form, headers=headers)


@pytest.fixture
def foreign_office(client, auth, session) -> int:  # type: ignore[no-untyped-def]
    """An office of 开封 with a 编号, registered by the province."""
    office = register(client, auth("henan_admin"), FOREIGN, OfficeSpec(staff=[]))
    session.execute(text("UPDATE offices SET external_id = 'KF-1' WHERE id = :o"), {"o": office})
    return office


def snapshot(session, office: int) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    return session.execute(
        text(
            "SELECT name, division_code, located_code, version, ST_AsText(geom), staff_total"
            " FROM offices WHERE id = :o"
        ),
        {"o": office},
    ).one()


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_roster_cannot_take_over_an_office_outside_the_region(
    client, auth, session, foreign_office, dry_run
):
    before = snapshot(session, foreign_office)
    r = upload(
        client,
        auth("xinzheng_county"),
        roster(own_row(external_id="KF-1", name="新郑市司法局新村司法所")),
        dry_run=dry_run,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["updated"]) == (0, 0)
    assert [(m["row"], m["column"]) for m in report["malformed"]] == [(2, "编号")]
    # neither the office (its id, name) nor its region
    assert report["malformed"][0]["problem"] == (
        "KF-1: this 编号 belongs to an office you cannot change; use another"
    )
    for secret in ("410222", "4102", "通许", "开封", "office_id"):
        assert secret not in r.text, secret
    assert report["violations"] == []
    assert snapshot(session, foreign_office) == before
    # 开封 still has its office
    assert (
        client.get(f"/api/v1/offices/{foreign_office}", headers=auth("henan_admin")).status_code
        == 200
    )


def test_nor_one_standing_in_the_region_or_closed(client, auth, session, foreign_office):
    """An office registered elsewhere whose point stands in the county is visible to it in the
    coverage reports, but not its to change; a closed one elsewhere says nothing either."""
    lon, lat = township_point(OWN)
    session.execute(
        text(
            "UPDATE offices SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326),"
            " located_code = d.code, located_division_id = d.id FROM divisions d"
            " WHERE d.code = :c AND d.valid_to IS NULL AND offices.id = :o"
        ),
        {"x": lon, "y": lat, "c": OWN, "o": foreign_office},
    )
    before = snapshot(session, foreign_office)
    r = upload(client, auth("xinzheng_county"), roster(own_row(external_id="KF-1")))
    assert r.json()["malformed"][0]["column"] == "编号" and r.json()["updated"] == 0
    assert snapshot(session, foreign_office) == before
    session.execute(
        text("UPDATE offices SET closed_at = now(), closed_reason = '撤并' WHERE id = :o"),
        {"o": foreign_office},
    )
    closed = upload(client, auth("xinzheng_county"), roster(own_row(external_id="KF-1")))
    assert closed.json()["malformed"][0]["problem"] == r.json()["malformed"][0]["problem"]


def test_a_roster_updates_offices_inside_the_region(client, auth, session):
    first = upload(client, auth("xinzheng_county"), roster(own_row(external_id="XZ-1")))
    assert first.json()["created"] == 1, first.text
    again = upload(
        client, auth("xinzheng_county"), roster(own_row(external_id="XZ-1", address="新址"))
    )
    assert (again.json()["created"], again.json()["updated"]) == (0, 1)


def test_staff_numbers_follow_the_staff_list_in_a_roster(client, auth, session):
    office = register(client, auth("xinzheng_county"), OWN, OfficeSpec())  # 5 staff
    session.execute(text("UPDATE offices SET external_id = 'XZ-9' WHERE id = :o"), {"o": office})
    wrong = upload(
        client, auth("xinzheng_county"), roster(own_row(external_id="XZ-9", staff_total=9))
    )
    assert [(m["column"], m["row"]) for m in wrong.json()["malformed"]] == [("在岗人数", 2)]
    assert "staff list" in wrong.json()["malformed"][0]["problem"]
    assert snapshot(session, office)[5] == 5
    same = upload(
        client,
        auth("xinzheng_county"),
        roster(own_row(external_id="XZ-9", staff_total=5, address="新址")),
    )
    assert same.json()["updated"] == 1 and same.json()["malformed"] == []
    assert snapshot(session, office)[5] == 5


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "fragment"),
    [
        (1e308, 34.4, None, "within ±180"),
        (999, -999, None, "within ±180"),
        (34.43, 113.7, None, "swapped"),
        ("nan", 34.4, None, "finite"),
        (1e308, 1e308, "EPSG:4547", "finite"),
        (113.7, 34.4, "EPSG:4547", "outside China"),
    ],
)
def test_roster_points_are_checked_as_the_api_checks_them(
    client, auth, session, lon, lat, crs, fragment
):
    r = upload(client, auth("xinzheng_county"), roster(own_row(lon=lon, lat=lat, crs=crs)))
    assert r.status_code == 200, r.text
    (bad,) = r.json()["malformed"]
    assert bad["column"] == "经度" and fragment in bad["problem"], bad
    assert r.json()["created"] == 0


def test_roster_takes_gauss_krueger_points(client, auth, session):
    lon, lat = township_point(OWN)
    # EPSG:4547: CGCS2000 3-degree Gauss-Krüger CM 114E, no zone prefix
    x, y = transformer_to_wgs84(4547).transform(lon, lat, direction="INVERSE")
    r = upload(
        client,
        auth("xinzheng_county"),
        roster(own_row(lon=x, lat=y, crs="EPSG:4547", external_id="GK-1")),
    )
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    assert r.json()["malformed"] == [] and r.json()["violations"] == []
    located = session.scalar(text("SELECT located_code FROM offices WHERE external_id = 'GK-1'"))
    assert located == OWN


def test_a_decompression_bomb_is_refused_before_it_inflates(client, auth, session):
    bomb = xlsx_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # well under a megabyte on the wire
    r = upload(client, auth("xinzheng_county"), bomb)
    assert r.status_code == 422 and r.json()["code"] == "import_rejected"
    assert "compression ratio" in r.json()["message"] or "inflate" in r.json()["message"]


def test_an_entry_that_lies_about_its_size_is_read_no_further(client, auth, session):
    bomb = lying_zip(xlsx_bomb(60 * 1024 * 1024), "xl/sharedStrings.xml", 2000)
    r = upload(client, auth("xinzheng_county"), bomb)
    assert r.status_code == 422 and r.json()["code"] == "import_rejected", r.text


def test_too_many_rows_are_refused_whole(client, auth, session):
    lines = ["司法所名称,乡镇(街道)代码,经度,纬度"]
    lines += [f"新郑市司法局新村司法所,{OWN},113.7,34.4"] * 50_001
    r = upload(client, auth("xinzheng_county"), "\n".join(lines).encode())
    assert r.status_code == 422 and "more than 50000 rows" in r.json()["message"]
