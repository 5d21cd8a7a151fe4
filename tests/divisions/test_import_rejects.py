"""Every validation failure rejects the whole file, names each bad feature, stores nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import shapely
from factories import county_polygon, township_cells, write_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected
from service.divisions.importer import import_divisions
from service.tenants.service import get_tenant

GONGYI = "410181"


def snapshot(session: Session) -> list[tuple]:
    """Everything an import could touch, to compare before and after."""
    return session.execute(
        text(
            "SELECT tenant_id, code, valid_from, valid_to, md5(ST_AsBinary(geom)) FROM divisions"
            " ORDER BY tenant_id, code, valid_from"
        )
    ).all()


def good_features() -> list[list]:
    cells = township_cells(GONGYI, 3)
    return [
        [county_polygon(GONGYI), {"code": GONGYI, "name": "巩义市"}],
        [cells[0], {"code": "410181001", "name": "站街镇"}],
        [cells[1], {"code": "410181002", "name": "米河镇"}],
        [cells[2], {"code": "410181003", "name": "孝义街道"}],
    ]


BOWTIE = shapely.from_wkt("POLYGON((113.0 34.7, 113.1 34.8, 113.1 34.7, 113.0 34.8, 113.0 34.7))")


def _break(feats: list[list], fault: str) -> str:
    """Plant one fault in feature 2; return a fragment the problem text must contain."""
    geom, props = feats[2]
    if fault == "self_intersection":
        feats[2][0] = BOWTIE
        return "Self-intersection"
    if fault == "empty":
        feats[2][0] = shapely.from_wkt("POLYGON EMPTY")
        return "empty polygon"
    if fault == "point":
        feats[2][0] = shapely.Point(113.0, 34.7)
        return "Point is not a polygon"
    if fault == "missing_geometry":
        feats[2][0] = None
        return "missing geometry"
    if fault == "overlapping_collection":
        # valid as a collection, but stored as a MultiPolygon whose parts overlap
        feats[2][0] = shapely.GeometryCollection(
            [shapely.box(113.0, 34.7, 113.1, 34.8), shapely.box(113.05, 34.75, 113.15, 34.85)]
        )
        return "invalid polygon: Self-intersection[113.05 34.8]"
    if fault == "mixed_collection":
        feats[2][0] = shapely.GeometryCollection([geom, shapely.Point(113.0, 34.7)])
        return "mixed geometry types"
    if fault == "bad_code":
        props["code"] = "41018X002"
        return "is not a 2-, 4-, 6- or 9-digit division code"
    if fault == "duplicate_code":
        props["code"] = "410181001"
        return "appears 2 times"
    if fault == "orphan_township":
        props["code"] = "410182002"  # 荥阳市 is neither in the file nor in the registry
        return "its county 410182 is neither in the file nor in the registry"
    if fault == "other_province":
        props["code"] = "140181002"
        return "is not in province 41"
    if fault == "outside_province":
        feats[2][0] = shapely.affinity.translate(geom, xoff=-8.0)  # into Shaanxi/Sichuan
        return "outside the province boundary of 41"
    if fault == "swapped":
        feats[2][0] = shapely.transform(geom, lambda c: c[:, ::-1])
        return "swapped"
    if fault == "empty_name":
        props["name"] = "  "
        return "name is empty"
    if fault == "control_chars":
        props["name"] = "米河\x1b镇"
        return "control or invisible characters"
    if fault == "long_name":
        props["name"] = "镇" * 101
        return "longer than 100"
    if fault == "unknown_kind":
        props["kind"] = "castle"
        return "unknown kind"
    if fault == "kind_level":
        props["kind"] = "county"
        return "does not fit a township-level division"
    raise AssertionError(fault)


FAULTS = [
    "self_intersection",
    "empty",
    "point",
    "missing_geometry",
    "mixed_collection",
    "overlapping_collection",
    "bad_code",
    "duplicate_code",
    "orphan_township",
    "other_province",
    "outside_province",
    "swapped",
    "empty_name",
    "control_chars",
    "long_name",
    "unknown_kind",
    "kind_level",
]


@pytest.mark.parametrize("fault", FAULTS)
def test_one_bad_feature_rejects_the_file(session: Session, tmp_path: Path, fault: str):
    feats = good_features()
    fragment = _break(feats, fault)
    path = write_geojson(tmp_path / "bad.geojson", [tuple(f) for f in feats])
    before = snapshot(session)
    with pytest.raises(ImportRejected) as err:
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)
    problems = err.value.details["problems"]
    assert any(p["index"] == 2 and fragment in p["problem"] for p in problems), problems
    assert {p["index"] for p in problems} <= {1, 2}  # duplicate code also names its twin
    assert err.value.status == 422
    assert snapshot(session) == before


def test_nul_characters_refuse_the_file(session: Session, tmp_path: Path):
    """GDAL would silently cut "米河\\0镇" to "米河": the file is refused instead."""
    feats = good_features()
    feats[2][1]["name"] = "米河\x00镇"
    path = write_geojson(tmp_path / "nul.geojson", [tuple(f) for f in feats])
    with pytest.raises(ImportRejected, match="NUL"):
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)


def test_every_bad_feature_is_listed(session: Session, tmp_path: Path):
    feats = good_features()
    feats[1][0] = BOWTIE
    feats[2][1]["code"] = "abc"
    feats[3][1]["name"] = ""
    path = write_geojson(tmp_path / "bad.geojson", [tuple(f) for f in feats])
    with pytest.raises(ImportRejected) as err:
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)
    assert err.value.details["count"] == 3
    assert [p["index"] for p in err.value.details["problems"]] == [1, 2, 3]
    assert err.value.details["problems"][1]["code"] == "abc"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "unrecognised content"),
        (b"\x00\x01garbage", "unrecognised content"),
        (b'{"type": "FeatureCollection", "features": [', "cannot read the file"),
        (b"PK\x03\x04truncated", "broken zip"),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_unreadable_files_are_refused_whole(
    session: Session, tmp_path: Path, content: bytes, fragment: str
):
    path = tmp_path / "upload.geojson"
    path.write_bytes(content)
    before = snapshot(session)
    with pytest.raises(ImportRejected, match=fragment):
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)
    assert snapshot(session) == before


def test_zip_bomb_is_refused_without_inflating(session: Session, tmp_path: Path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, ~300 KB zipped
        zf.writestr("a.shx", b"\0" * 100)
        zf.writestr("a.dbf", b"\0" * 100)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ImportRejected, match="compression ratio"):
        import_divisions(session=session, tenant=get_tenant(session=session, code="41"), path=path)


def test_zip_with_path_tricks_or_nested_archives(session: Session, tmp_path: Path):
    for name, payload in (("../../etc/a.shp", b"x"), ("inner.zip", b"x")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, payload)
        path = tmp_path / "trick.zip"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ImportRejected, match=r"unsafe path|nested archive"):
            import_divisions(
                session=session, tenant=get_tenant(session=session, code="41"), path=path
            )
