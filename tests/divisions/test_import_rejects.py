"""Every validation failure rejects the whole file, names each bad feature, stores nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from division_imports import all_versions, gongyi_features, import_henan
from factories import write_geojson
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected


def good_features() -> list[list]:
    return [list(f) for f in gongyi_features()]


BOWTIE = shapely.from_wkt("POLYGON((113.0 34.7, 113.1 34.8, 113.1 34.7, 113.0 34.8, 113.0 34.7))")


def reshape(make: Callable[[Any], Any]) -> Callable[[list], None]:
    """A fault that replaces the feature's geometry with make(its geometry)."""

    def plant(feature: list) -> None:
        feature[0] = make(feature[0])

    return plant


def set_property(key: str, value: str) -> Callable[[list], None]:
    """A fault that sets one property of the feature."""

    def plant(feature: list) -> None:
        feature[1][key] = value

    return plant


# fault → (how it is planted in feature 2, a fragment the problem text must contain)
FAULTS: dict[str, tuple[Callable[[list], None], str]] = {
    "self_intersection": (reshape(lambda g: BOWTIE), "Self-intersection"),
    "empty": (reshape(lambda g: shapely.from_wkt("POLYGON EMPTY")), "empty polygon"),
    "point": (reshape(lambda g: shapely.Point(113.0, 34.7)), "Point is not a polygon"),
    "missing_geometry": (reshape(lambda g: None), "missing geometry"),
    "mixed_collection": (
        reshape(lambda g: shapely.GeometryCollection([g, shapely.Point(113.0, 34.7)])),
        "mixed geometry types",
    ),
    # valid as a collection, but stored as a MultiPolygon whose parts overlap
    "overlapping_collection": (
        reshape(
            lambda g: shapely.GeometryCollection(
                [shapely.box(113.0, 34.7, 113.1, 34.8), shapely.box(113.05, 34.75, 113.15, 34.85)]
            )
        ),
        "invalid polygon: Self-intersection[113.05 34.8]",
    ),
    "bad_code": (
        set_property("code", "41018X002"),
        "is not a 2-, 4-, 6- or 9-digit division code",
    ),
    "duplicate_code": (set_property("code", "410181001"), "appears 2 times"),
    "orphan_township": (  # 荥阳市 is neither in the file nor in the registry
        set_property("code", "410182002"),
        "its county 410182 is neither in the file nor in the registry",
    ),
    "other_province": (set_property("code", "140181002"), "is not in province 41"),
    "outside_province": (  # into Shaanxi/Sichuan
        reshape(lambda g: shapely.affinity.translate(g, xoff=-8.0)),
        "outside the province boundary of 41",
    ),
    "swapped": (reshape(lambda g: shapely.transform(g, lambda c: c[:, ::-1])), "swapped"),
    "empty_name": (set_property("name", "  "), "name is empty"),
    "control_chars": (set_property("name", "米河\x1b镇"), "control or invisible characters"),
    "long_name": (set_property("name", "镇" * 101), "longer than 100"),
    "unknown_kind": (set_property("kind", "castle"), "unknown kind"),
    "kind_level": (set_property("kind", "county"), "does not fit a township-level division"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_one_bad_feature_rejects_the_file(session: Session, tmp_path: Path, fault: str):
    feats = good_features()
    plant, fragment = FAULTS[fault]
    plant(feats[2])
    path = write_geojson(tmp_path / "bad.geojson", [tuple(f) for f in feats])
    before = all_versions(session)
    with pytest.raises(ImportRejected) as err:
        import_henan(session, path)
    problems = err.value.details["problems"]
    assert any(p["index"] == 2 and fragment in p["problem"] for p in problems), problems
    assert {p["index"] for p in problems} <= {1, 2}  # duplicate code also names its twin
    assert err.value.status == 422
    assert all_versions(session) == before


def test_nul_characters_refuse_the_file(session: Session, tmp_path: Path):
    """GDAL would silently cut "米河\\0镇" to "米河": the file is refused instead."""
    feats = good_features()
    feats[2][1]["name"] = "米河\x00镇"
    path = write_geojson(tmp_path / "nul.geojson", [tuple(f) for f in feats])
    with pytest.raises(ImportRejected, match="NUL"):
        import_henan(session, path)


def test_every_bad_feature_is_listed(session: Session, tmp_path: Path):
    feats = good_features()
    feats[1][0] = BOWTIE
    feats[2][1]["code"] = "abc"
    feats[3][1]["name"] = ""
    path = write_geojson(tmp_path / "bad.geojson", [tuple(f) for f in feats])
    with pytest.raises(ImportRejected) as err:
        import_henan(session, path)
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
    before = all_versions(session)
    with pytest.raises(ImportRejected, match=fragment):
        import_henan(session, path)
    assert all_versions(session) == before


def test_zip_bomb_is_refused_without_inflating(session: Session, tmp_path: Path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, ~300 KB zipped
        zf.writestr("a.shx", b"\0" * 100)
        zf.writestr("a.dbf", b"\0" * 100)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ImportRejected, match="compression ratio"):
        import_henan(session, path)


def test_zip_with_path_tricks_or_nested_archives(session: Session, tmp_path: Path):
    for name, payload in (("../../etc/a.shp", b"x"), ("inner.zip", b"x")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, payload)
        path = tmp_path / "trick.zip"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ImportRejected, match=r"unsafe path|nested archive"):
            import_henan(session, path)
