"""A corpus of bad inputs: each gets a 4xx that names the problem, and leaves the database
exactly as it was (compared row by row before and after)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from factories import mini_features
from hostile_files import snapshot, zip_bomb
from pyproj import Transformer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XINCUN = "410184101"
GOOD_NAME = "新郑市司法局新村司法所"


def cell(code: str = XINCUN) -> shapely.Geometry:
    ((geom, _),) = mini_features("mini_henan", lambda c: c == code)
    return geom


def point() -> tuple[float, float]:
    p = shapely.point_on_surface(cell())
    return p.x, p.y


def feature_file(geometry: Any, **props: Any) -> bytes:
    geom = (
        json.loads(shapely.to_geojson(geometry))
        if isinstance(geometry, shapely.Geometry)
        else geometry
    )
    properties = {"code": XINCUN, "name": "新村镇", **props}
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": properties, "geometry": geom}],
    }
    return json.dumps(fc, ensure_ascii=False).encode()


def office(**over: Any) -> dict[str, Any]:
    lon, lat = point()
    return {"name": GOOD_NAME, "location": {"lon": lon, "lat": lat}, **over}


def truncated_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>" * 2000)
        zf.writestr("xl/worksheets/sheet1.xml", "<sheetData/>" * 2000)
    return buf.getvalue()[: len(buf.getvalue()) // 2]


def gauss_kruger_as_degrees() -> bytes:
    fwd = Transformer.from_crs(4326, 4547, always_xy=True)
    projected = shapely.transform(
        cell(), lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1]))
    )
    return feature_file(projected)


Send = Callable[[Any, dict[str, str]], Any]


def post_json(path: str, body: Any) -> Send:
    return lambda client, h: client.post(path, json=body, headers=h)


def post_raw(path: str, raw: bytes, content_type: str = "application/json") -> Send:
    return lambda client, h: client.post(
        path, content=raw, headers={**h, "Content-Type": content_type}
    )


def upload(content: bytes | Callable[[], bytes], name: str = "d.geojson", **form: str) -> Send:
    def send(client, h):  # type: ignore[no-untyped-def]
        data = content() if callable(content) else content
        return client.post(
            "/api/v1/divisions/import", files={"file": (name, data)}, data=form, headers=h
        )

    return send


def get(path: str, **params: Any) -> Send:
    return lambda client, h: client.get(path, params=params, headers=h)


SEA = (123.5, 27.0)  # East China Sea: inside China's envelope, in no township
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[113.7, 34.4], [113.8, 34.5], [113.8, 34.4], [113.7, 34.5], [113.7, 34.4]]],
}
CORPUS: list[tuple[str, Send, int, str]] = [
    ("malformed JSON", post_raw("/api/v1/offices", b'{"name": "x", "location": {'), 422, "JSON"),
    (
        "JSON that is not an object",
        post_raw("/api/v1/offices", b"[1, 2, 3]"),
        422,
        "invalid request",
    ),
    ("wrong types", post_json("/api/v1/offices", {"name": 123, "location": "here"}), 422, "name"),
    ("missing location", post_json("/api/v1/offices", {"name": GOOD_NAME}), 422, "location"),
    (
        "NaN and Infinity",
        post_raw("/api/v1/offices", b'{"name": "x", "location": {"lon": NaN, "lat": Infinity}}'),
        422,
        "location.lon",
    ),
    (
        "lat/lon swapped",
        post_json("/api/v1/offices", office(location={"lon": 34.45, "lat": 113.73})),
        422,
        "swapped",
    ),
    (
        "a point in the sea",
        post_json("/api/v1/offices", office(location={"lon": SEA[0], "lat": SEA[1]})),
        422,
        "outside every township",
    ),
    (
        "a point abroad",
        post_json("/api/v1/offices", office(location={"lon": 2.35, "lat": 48.85})),
        422,
        "outside China",
    ),
    (
        "unknown CRS for a point",
        post_json("/api/v1/offices", office(location={"lon": 1, "lat": 1, "crs": "EPSG:9999"})),
        422,
        "crs",
    ),
    (
        "10 MB name",
        post_json("/api/v1/offices", office(name="司" * (10 * 1024 * 1024 // 3))),
        413,
        "limit",
    ),
    ("overlong name", post_json("/api/v1/offices", office(name="司" * 150)), 422, "name"),
    (
        "control characters in a name",
        post_json("/api/v1/offices", office(name="新郑市司法局新村\u0007司法所")),
        422,
        "control",
    ),
    (
        "NUL in a name",
        post_json("/api/v1/offices", office(name="新郑市司法局新村\u0000司法所")),
        422,
        "control",
    ),
    (
        "SQL metacharacters in a name",
        post_json(
            "/api/v1/offices", office(name="新郑市司法局新村'; DROP TABLE offices; --司法所")
        ),
        422,
        "expected",
    ),
    ("SQL in a region filter", get("/api/v1/offices", region="41' OR '1'='1"), 422, "region"),
    ("NUL in a search", get("/api/v1/offices", q="新村\x00"), 422, '"field": "q"'),
    ("a control character in a map filter", get("/maps/coverage", kind="town\x1b"), 422, "kind"),
    # a map page's tile: its address and its filters, checked as the page's and the OGC's
    ("a map tile beyond the matrix", get("/maps/coverage/tiles/17/0/0"), 404, "tileMatrix"),
    ("a map tile's row out of range", get("/maps/coverage/tiles/3/8/0"), 404, "tileRow"),
    ("a map tile's negative column", get("/maps/coverage/tiles/3/0/-1"), 404, "tileCol"),
    ("a map tile that is not a number", get("/maps/coverage/tiles/z/0/0"), 422, "z"),
    ("an unknown kind in a map tile", get("/maps/coverage/tiles/3/0/0", kind="moon"), 422, "kind"),
    (
        "SQL in a map tile's region",
        get("/maps/coverage/tiles/3/0/0", region="41'--"),
        422,
        "region",
    ),
    ("the aggregates as a map tile", get("/maps/aggregates/tiles/3/0/0"), 422, "theme"),
    ("negative staff", post_json("/api/v1/offices", office(staff_total=-3)), 422, "staff_total"),
    ("unknown field", post_json("/api/v1/offices", office(colour="red")), 422, "colour"),
    (
        "another tenant's township",
        post_json("/api/v1/offices", office(division_code="140105100")),
        422,
        "not a current township",
    ),
    ("absurd id", get("/api/v1/offices/" + "9" * 30), 422, "office_id"),
    ("absurd offset", get("/api/v1/offices", offset=10**12), 422, "offset"),
    (
        "impossible date",
        upload(lambda: feature_file(cell()), valid_from="2024-13-45"),
        422,
        "valid_from",
    ),
    ("self-intersecting polygon", upload(lambda: feature_file(BOWTIE)), 422, "Self-intersection"),
    (
        "empty polygon",
        upload(lambda: feature_file({"type": "Polygon", "coordinates": []})),
        422,
        "empty",
    ),
    (
        "mixed geometry types",
        upload(
            lambda: feature_file(
                {
                    "type": "GeometryCollection",
                    "geometries": [
                        json.loads(shapely.to_geojson(cell())),
                        {"type": "Point", "coordinates": [113.7, 34.4]},
                    ],
                }
            )
        ),
        422,
        "mixed geometry types",
    ),
    (
        "a point for a boundary",
        upload(lambda: feature_file({"type": "Point", "coordinates": [113.7, 34.4]})),
        422,
        "not a polygon",
    ),
    (
        "wrong CRS (metres labelled degrees)",
        upload(gauss_kruger_as_degrees),
        422,
        "not longitude/latitude",
    ),
    (
        "unknown CRS parameter",
        upload(lambda: feature_file(cell()), crs="EPSG:32650"),
        422,
        "not supported",
    ),
    ("truncated XLSX", upload(truncated_xlsx, name="roster.xlsx"), 422, "broken zip"),
    *[
        (
            f"opened_on {day}",
            post_json("/api/v1/offices", office(opened_on=day)),
            422,
            "opened_on: Value error, " + f"{day} is outside 1949-10-01..2100-12-31",
        )
        for day in ("0001-01-01", "9999-12-31")
    ],
    (
        "a short exception reason (characters, not items)",
        post_json("/api/v1/offices", office(exception_reason="abc")),
        422,
        "String should have at least 4 characters",
    ),
    *[
        (f"{path} as_of {day}", get(path, as_of=day), 422, "as_of")
        for path in ("/maps/coverage", "/api/v1/progress", "/api/v1/coverage/gaps")
        for day in ("0001-01-01", "9999-12-31")
    ],
    ("shapefile zip bomb", upload(zip_bomb, name="bomb.zip"), 422, "compression ratio"),
    (
        "not a geodata file",
        upload(b"%PDF-1.7 not geodata", name="x.pdf"),
        422,
        "unrecognised content",
    ),
    (
        "township outside its province",
        upload(lambda: feature_file(shapely.affinity.translate(cell(), xoff=-8))),
        422,
        "outside the province",
    ),
]


@pytest.mark.parametrize(("what", "send", "status", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_is_refused_and_changes_nothing(
    client, auth, session, what, send, status, fragment
):
    before = snapshot(session)
    response = send(client, auth("henan_admin"))
    assert response.status_code == status, f"{what}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert fragment in json.dumps(body, ensure_ascii=False), f"{what}: {body}"
    assert snapshot(session) == before, f"{what} changed the database"


def test_corpus_size_is_recorded():
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bad_inputs.json").write_text(json.dumps({"inputs": len(CORPUS)}))
    assert len(CORPUS) >= 30
