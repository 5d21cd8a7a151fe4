"""Legacy roster import (XLSX, CSV): rows stored as they are with violations flagged;
malformed rows reported by row and column and not stored; unreadable files refused whole."""

from __future__ import annotations

import io
import zipfile

import pytest
import shapely
from factories import mini_features, xlsx_bytes
from sqlalchemy import text

from geo.chinacoords import wgs84_to_gcj02
from service.offices.roster import COLUMNS, parse_roster

URL = "/api/v1/offices/import"
HEADERS = [header for header, _ in COLUMNS.values()]


def point(code: str) -> tuple[float, float]:
    ((geom, _),) = mini_features("mini_henan", lambda c: c == code)
    p = shapely.point_on_surface(geom)
    return round(p.x, 7), round(p.y, 7)


def row(**values) -> list:  # type: ignore[no-untyped-def]
    return [values.get(key) for key in COLUMNS]


def roster_rows() -> list[list]:
    x1, y1 = point("410184101")
    x2, y2 = point("410184103")
    gx, gy = wgs84_to_gcj02(*point("410184104"))
    return [
        row(
            external_id="A1",
            name="新郑市司法局新村司法所",
            division_code="410184101",
            lon=x1,
            lat=y1,
            staff_total=4,
        ),
        row(
            external_id="A2",
            name="新郑市司法局辛店司法所",
            division_code="410184102",
            lon=x2,
            lat=y2,
        ),  # point in 103
        row(
            external_id="A3",
            name="新郑市司法局新村司法所",
            division_code="410184101",
            lon=x1,
            lat=y1,
        ),  # 2nd in 101
        row(
            external_id="A4", name="辛店司法所", division_code="410184103", lon=x2, lat=y2
        ),  # name off convention
        row(
            external_id="A5",
            name="新郑市司法局梨河司法所",
            division_code="410184104",
            lon="abc",
            lat=y2,
        ),
        row(
            external_id="A6", name="新郑市司法局某司法所", division_code="410184999", lon=x1, lat=y1
        ),
        row(external_id="A7", name=None, division_code="410184105", lon=x1, lat=y1),
        row(
            external_id="A8",
            name="新郑市司法局梨河司法所",
            division_code=410184104,
            lon=gx,
            lat=gy,
            crs="GCJ02",
        ),
        row(
            external_id="A9",
            name="中牟县司法局韩寺司法所",
            division_code="410122101",
            lon=x1,
            lat=y1,
        ),
    ]


def xlsx(rows: list[list]) -> bytes:
    # a title row above the header, as bureaus do
    return xlsx_bytes([["新郑市司法所名册(2024年)"], HEADERS, *rows])


def upload(client, headers, content: bytes, name: str = "roster.xlsx", **form):  # type: ignore[no-untyped-def]
    return client.post(URL, files={"file": (name, content)}, data=form, headers=headers)


def stored(session) -> list[tuple]:  # type: ignore[no-untyped-def]
    return session.execute(
        text(
            "SELECT external_id, division_code, located_code FROM offices WHERE external_id LIKE 'A%' ORDER BY 1"
        )
    ).all()


def test_rows_stored_as_they_are_with_violations_flagged(client, auth, session):
    r = upload(client, auth("xinzheng_county"), xlsx(roster_rows()))
    assert r.status_code == 200, r.text
    report = r.json()
    # spreadsheet rows: title on 1, header on 2, data from 3
    assert report["rows"] == 9 and (report["created"], report["updated"]) == (5, 0)
    malformed = {(m["row"], m["column"]) for m in report["malformed"]}
    assert malformed == {
        (7, "经度"),
        (8, "乡镇(街道)代码"),
        (9, "司法所名称"),
        (11, "乡镇(街道)代码"),
    }
    assert any("outside your region" in m["problem"] for m in report["malformed"] if m["row"] == 11)
    kinds = {(v["row"], v["kind"]) for v in report["violations"]}
    assert kinds == {
        (3, "registered_twice"),
        (4, "misplaced"),
        (5, "registered_twice"),
        (6, "name"),
    }
    name = next(v for v in report["violations"] if v["kind"] == "name")
    assert (
        "新郑市司法局新烟司法所" in name["problem_zh"]
        or "新郑市司法局观音寺司法所" in name["problem_zh"]
    )
    assert [s[0] for s in stored(session)] == ["A1", "A2", "A3", "A4", "A8"]
    a2 = next(s for s in stored(session) if s[0] == "A2")
    assert (a2.division_code, a2.located_code) == ("410184102", "410184103")  # kept as given
    a8 = next(s for s in stored(session) if s[0] == "A8")
    assert a8.located_code == "410184104"  # the GCJ-02 point was converted
    # the planner sees the flagged rows in the coverage reports too
    misplaced = client.get("/api/v1/coverage/misplaced", headers=auth("henan_planner")).json()
    assert [m["registered_code"] for m in misplaced["items"]] == ["410184102"]


def test_reimport_updates_instead_of_duplicating(client, auth, session):
    content = xlsx(roster_rows())
    upload(client, auth("xinzheng_county"), content)
    again = upload(client, auth("xinzheng_county"), content).json()
    assert (again["created"], again["updated"]) == (0, 5)
    assert len(stored(session)) == 5
    version = session.scalar(text("SELECT version FROM offices WHERE external_id = 'A1'"))
    assert version == 2


def test_dry_run_stores_nothing(client, auth, session):
    report = upload(client, auth("xinzheng_county"), xlsx(roster_rows()), dry_run="true").json()
    assert report["dry_run"] is True and report["created"] == 5 and len(report["violations"]) == 4
    assert stored(session) == []


def test_csv_in_gbk_as_excel_saves_it(client, auth, session):
    lines = [",".join(HEADERS)]
    x, y = point("410184101")
    lines.append(
        f"B1,新郑市司法局新村司法所,410184101,新村镇,{x},{y},WGS84,新村镇政府,,3,2,1,120,2001/5/1"
    )
    content = "\r\n".join(lines).encode("gbk")
    r = upload(client, auth("xinzheng_county"), content, name="名册.csv")
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1 and r.json()["malformed"] == []
    row = session.execute(
        text("SELECT name, area_m2, opened_on FROM offices WHERE external_id = 'B1'")
    ).one()
    assert (
        row.name == "新郑市司法局新村司法所"
        and float(row.area_m2) == 120
        and str(row.opened_on) == "2001-05-01"
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"%PDF-1.7", "header"),
        (b"PK\x03\x04broken", "XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        ("名称,地址\r\n新村,某地".encode(), "header"),
    ],
)
def test_unreadable_files_are_refused_whole(client, auth, session, content, fragment):
    r = upload(client, auth("xinzheng_county"), content, name="x.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "import_rejected"
    assert fragment in r.json()["message"]
    assert stored(session) == []


def test_truncated_xlsx_is_refused(client, auth, session):
    content = xlsx(roster_rows())
    r = upload(client, auth("xinzheng_county"), content[: len(content) // 2])
    assert r.status_code == 422 and r.json()["code"] == "import_rejected"


def test_only_writers_import(client, auth):
    for who in ("henan_viewer", "zhengzhou_city", "xincun_staff"):
        assert upload(client, auth(who), xlsx(roster_rows())).status_code == 403


def test_template_reads_back(client, auth, tmp_path):
    r = client.get(f"{URL}/template", headers=auth("xinzheng_county"))
    assert r.status_code == 200
    path = tmp_path / "template.xlsx"
    path.write_bytes(r.content)
    parsed = parse_roster(path)
    assert parsed.malformed == [] and len(parsed.rows) == 1
    assert parsed.rows[0].values["name"] == "新郑市司法局新村司法所"
    csv_template = client.get(
        f"{URL}/template", params={"format": "csv"}, headers=auth("xinzheng_county")
    )
    assert csv_template.content.startswith(b"\xef\xbb\xbf")


def test_zip_that_is_not_a_workbook(client, auth):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    r = upload(client, auth("xinzheng_county"), buf.getvalue())
    assert r.status_code == 422 and "not an XLSX" in r.json()["message"]
