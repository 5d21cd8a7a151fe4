"""Diagnoses of misplaced offices through the API (issue 15 #4): a county typed from 高德 is
named gcj02 with its evidence; offices truly standing across a border, which a GCJ-02
correction would also bring home, are not; a roster is judged as one batch; the exports
carry the confidence and the evidence."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import shapely
from factories import mini_features, xlsx_bytes
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

from geo.chinacoords import wgs84_to_bd09, wgs84_to_gcj02
from service.offices.roster import COLUMNS

MISPLACED = "/api/v1/coverage/misplaced"
WEIXIAN = "410222"  # 尉氏县, 13 townships
XINZHENG = "410184"  # 新郑市, 15 townships


def townships(county: str) -> dict[str, BaseGeometry]:
    return dict(
        (props["code"], geom)
        for geom, props in mini_features("mini_henan", lambda c: len(c) == 9 and c[:6] == county)
    )


Vector = Callable[[float, float], tuple[float, float]]


def gcj02_shift(x: float, y: float) -> tuple[float, float]:
    """The local GCJ-02 offset, in degrees."""
    gx, gy = wgs84_to_gcj02(x, y)
    return gx - x, gy - y


def bd09_overshoot(x: float, y: float) -> tuple[float, float]:
    """How much further than GCJ-02 a BD-09 correction moves a point, in degrees."""
    gx, gy = wgs84_to_gcj02(x, y)
    bx, by = wgs84_to_bd09(x, y)
    return bx - gx, by - gy


def border_points(
    township: BaseGeometry, vector: Vector, inside: float, outside: float
) -> Iterator[tuple[float, float]]:
    """Points b + inside·v, for the township's boundary vertices b and the vector v there,
    that lie in the township at least ~50 m deep while b + outside·v lies outside it."""
    for bx, by in shapely.get_coordinates(township.boundary):
        dx, dy = vector(bx, by)
        p = shapely.Point(bx + inside * dx, by + inside * dy)
        q = shapely.Point(bx + outside * dx, by + outside * dy)
        if (
            township.contains(p)
            and not township.contains(q)
            and township.boundary.distance(p) > 0.0005
        ):
            yield p.x, p.y


def across_the_border(township: BaseGeometry, others: list[BaseGeometry]) -> tuple[float, float]:
    """A point half a GCJ-02 shift across the border, in a neighbouring township, that the
    GCJ-02 correction carries back inside."""
    for bx, by in shapely.get_coordinates(township.boundary):
        dx, dy = gcj02_shift(bx, by)
        there = shapely.Point(bx + 0.5 * dx, by + 0.5 * dy)
        home = shapely.Point(bx - 0.5 * dx, by - 0.5 * dy)
        if (
            township.contains(home)
            and not township.contains(there)
            and any(o.contains(there) for o in others)
        ):
            return there.x, there.y
    raise AssertionError("no border faces the shift")


def true_points(county: str) -> dict[str, tuple[float, float]]:
    """Where the county's offices stand, as a list typed from 高德 would hold them: three near a
    border the GCJ-02 shift crosses, three near one a BD-09 correction would overshoot, the
    rest inside their townships."""
    out = {}
    for i, (code, geom) in enumerate(sorted(townships(county).items())):
        if i < 3:
            out[code] = next(border_points(geom, gcj02_shift, -0.4, 0.6))
        elif i < 6:
            out[code] = next(border_points(geom, bd09_overshoot, 0.3, -0.7))
        else:
            out[code] = shapely.point_on_surface(geom).coords[0]
    return out


def offset_county(world, county: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Store every office of `county` as the GCJ-02 point of its true place; returns the codes
    of the offices that end up misplaced."""
    for code, p in true_points(county).items():
        world.move(world.office_of(code), *wgs84_to_gcj02(*p))
    world.session.commit()
    return set(
        world.session.scalars(
            text(
                "SELECT division_code FROM offices WHERE starts_with(division_code, :county)"
                " AND closed_at IS NULL AND located_code IS DISTINCT FROM division_code"
            ),
            {"county": county},
        )
    )


def roster_xlsx(rows: list[dict[str, Any]]) -> bytes:
    return xlsx_bytes(
        [
            [header for header, _ in COLUMNS.values()],
            *[[r.get(key) for key in COLUMNS] for r in rows],
        ]
    )


def roster_upload(client, headers, content: bytes, **form):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/offices/import",
        files={"file": ("roster.xlsx", content)},
        data=form,
        headers=headers,
    )


def test_a_county_typed_from_gaode_is_named_gcj02_with_its_evidence(client, auth, world):
    misplaced = offset_county(world, WEIXIAN)
    assert misplaced == set(sorted(townships(WEIXIAN))[:3])  # those near a border it crosses
    h = auth("henan_planner")
    items = client.get(MISPLACED, params={"region": WEIXIAN}, headers=h).json()["items"]
    assert {i["registered_code"] for i in items} == misplaced
    for item in items:
        assert item["diagnosis"] == "gcj02", item
        assert item["diagnosis_zh"].startswith("坐标疑似为GCJ-02")
        assert item["diagnosis_confidence"] >= 0.9
        evidence = item["evidence"]
        assert evidence["correction"] == "gcj02" and evidence["offset_matches"] is True
        assert 250 < evidence["shift_m"] < 700 and evidence["depth_m"] > 0
        assert evidence["batch"] == {
            "scope": "county",
            "code": WEIXIAN,
            "offices": 13,
            "misplaced": len(misplaced),
            "explained": len(misplaced),
            "broken": 0,
        }
    named = client.get(MISPLACED, params={"diagnosis": "gcj02"}, headers=h).json()
    assert named["total"] == len(misplaced)
    # the same in the CSV export: the confidence and the evidence have their columns
    raw = client.get(MISPLACED, params={"region": WEIXIAN, "format": "csv"}, headers=h).content
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = table[0]
    assert header[-8:] == [
        "可能原因",
        "可信度",
        "候选原因",
        "候选原因可信度",
        "换算位移(米)",
        "换算点深入登记乡镇(米)",
        "同县错位司法所中同一换算可解释的",
        "同县位置正确的司法所中换算后移出的",
    ]
    row = dict(zip(header, table[1], strict=True))
    assert row["候选原因"] == "GCJ-02坐标未转换" and row["可信度"].endswith("%")
    assert row["同县错位司法所中同一换算可解释的"] == f"{len(misplaced)}(共{len(misplaced)})"
    assert row["同县位置正确的司法所中换算后移出的"] == "0"


def test_the_batch_sees_a_township_corrected_in_place(client, auth, world):
    """The batch's other offices are remembered between requests (service/coverage/
    diagnosis.py); a boundary corrected in place, keeping its version's id, must still count:
    once one right office's township is cut down to 100 m around it, the GCJ-02 correction
    carries that office out, and the county's evidence says so."""
    misplaced = offset_county(world, WEIXIAN)
    h = auth("henan_planner")

    def batch() -> dict[str, Any]:
        items = client.get(MISPLACED, params={"region": WEIXIAN}, headers=h).json()["items"]
        return items[0]["evidence"]["batch"]

    assert batch()["broken"] == 0
    home = sorted(set(townships(WEIXIAN)) - misplaced)[0]
    world.session.execute(
        text(
            "UPDATE divisions d SET geom = ST_Multi(ST_Buffer(o.geom::geography, 100)::geometry)"
            "  FROM offices o WHERE o.id = :o AND d.code = o.division_code AND d.valid_to IS NULL"
        ),
        {"o": world.office_of(home)},
    )
    world.session.commit()
    assert batch()["broken"] == 1


def test_offices_truly_across_the_border_are_not_named_gcj02(client, auth, world):
    """Three offices stand half a GCJ-02 shift across their border, where the correction
    brings each home — the rule before named all three gcj02. The county's points are right:
    three others stand near borders the correction would carry them over."""
    cells = townships(XINZHENG)
    codes = sorted(cells)
    across, near = codes[:3], codes[3:6]
    for code in across:
        others = [g for c, g in cells.items() if c != code]
        world.move(world.office_of(code), *across_the_border(cells[code], others))
    for code in near:  # right, but the correction (−v) would carry them out
        right = next(border_points(cells[code], gcj02_shift, 0.3, -0.7))
        world.move(world.office_of(code), *right)
    world.session.commit()
    h = auth("henan_planner")
    items = client.get(MISPLACED, params={"region": XINZHENG}, headers=h).json()["items"]
    assert sorted(i["registered_code"] for i in items) == across
    for item in items:
        assert item["diagnosis"] == "unknown", item
        assert item["diagnosis_zh"].startswith("原因不明")
        assert item["diagnosis_confidence"] is None
        evidence = item["evidence"]
        assert "gcj02" in (evidence["correction"], *evidence["also"])  # (the rule before)
        assert evidence["confidence"] < 0.9
    assert client.get(MISPLACED, params={"diagnosis": "gcj02"}, headers=h).json()["total"] == 0


def test_a_roster_is_judged_as_one_batch(client, auth, session):
    """A county bureau's roster typed from 高德 but declared WGS-84: the rows the shift carried
    across a border are flagged with the gcj02 diagnosis, judged with the roster's other rows;
    the same point in a roster that is otherwise right is 'unknown'."""
    places = true_points(XINZHENG)
    codes = sorted(places)

    def roster(offset: set[str]) -> list[dict]:
        rows = []
        for i, code in enumerate(codes):
            x, y = wgs84_to_gcj02(*places[code]) if code in offset else places[code]
            name = f"新郑市司法局测试{i}司法所"
            rows.append(
                {"external_id": f"R{i}", "name": name, "division_code": code, "lon": x, "lat": y}
            )
        return rows

    h = auth("xinzheng_county")
    whole = roster_upload(client, h, roster_xlsx(roster(set(codes))), dry_run="true").json()
    flagged = [v for v in whole["violations"] if v["kind"] in ("misplaced", "outside_townships")]
    # rows 2-4 stand near a border the shift crosses; row 7's township is small enough that
    # the shift carries its point out too
    assert [v["row"] for v in flagged] == [2, 3, 4, 7]
    for v in flagged:
        assert v["diagnosis"] == "gcj02" and v["diagnosis_confidence"] >= 0.9, v
        assert "(gcj02, confidence" in v["problem"] and "可信度" in v["problem_zh"]
        assert v["evidence"]["batch"]["scope"] == "roster"
    alone = roster_upload(client, h, roster_xlsx(roster({codes[0]})), dry_run="true").json()
    (one,) = [v for v in alone["violations"] if v["kind"] in ("misplaced", "outside_townships")]
    assert (one["row"], one["diagnosis"], one["diagnosis_confidence"]) == (2, "unknown", None)
    evidence = one["evidence"]
    assert "gcj02" in (evidence["correction"], *evidence["also"])
    assert evidence["confidence"] < 0.9
    # the roster's other rows are right, and three of them either correction would carry out
    assert evidence["batch"] == {
        "scope": "roster",
        "code": XINZHENG,
        "offices": 15,
        "misplaced": 1,
        "explained": 1,
        "broken": 3,
    }
