"""GDAL's own OGC API - Features driver (Debian gdal-bin) against the running service:
ogrinfo lists the collections, ogr2ogr pages through `next` links into a GeoPackage in
EPSG:4490 with the database's count and coordinates; a city bureau's copy holds only its
city, also when it sends an access token as HTTP Basic credentials. Nothing here is written
by us but the checks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from live import live_app
from sqlalchemy import text

# (gdal-bin is installed by scripts/test: a missing ogr2ogr fails here, it is not skipped)


@pytest.fixture(scope="module")
def server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_app(settings) as url:
        yield url


def gdal_env(tmp_path: Path, headers: dict[str, str]) -> dict[str, str]:
    header_file = tmp_path / "headers.txt"
    header_file.write_text("".join(f"{k}: {v}\n" for k, v in headers.items()))
    return {
        **os.environ,
        "GDAL_HTTP_HEADER_FILE": str(header_file),
        "CPL_DEBUG": "OFF",
        "GDAL_HTTP_TIMEOUT": "60",
    }


def run(cmd: list[str], env: dict[str, str]) -> str:
    """The command's output; with CPL_DEBUG=ON its debug lines (the URLs GDAL fetched) too."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout + (done.stderr if env.get("CPL_DEBUG") == "ON" else "")


def test_ogrinfo_lists_the_collections(server, base_data, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = gdal_env(tmp_path, base_data.logins["henan_planner"].headers(settings))
    out = run(["ogrinfo", "-ro", "-q", f"OAPIF:{server}/ogc"], env)
    for collection in ("provinces", "cities", "counties", "townships", "offices"):
        assert collection in out, out


def copy(
    server: str, env: dict[str, str], out: Path, collection: str
) -> tuple[list[tuple[str, str]], int]:
    """ogr2ogr the collection (7 features a page: many `next` links) into a GeoPackage in
    EPSG:4490; its (code, WKT) rows and how many pages of items GDAL fetched."""
    log = run(
        [
            "ogr2ogr",
            "-f",
            "GPKG",
            str(out),
            f"OAPIF:{server}/ogc",
            collection,
            "-oo",
            "PAGE_SIZE=7",
            "-t_srs",
            "EPSG:4490",
            "-nln",
            collection,
        ],
        {**env, "CPL_DEBUG": "ON"},
    )
    pages = sum(1 for line in log.splitlines() if "/items?" in line and "limit=7" in line)
    with sqlite3.connect(out) as db:
        srs = db.execute(
            "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (collection,)
        ).fetchone()
        assert srs == (4490,)
    env_ogr = dict(env)
    dump = run(["ogrinfo", "-ro", "-q", "-al", "-geom=ISO_WKT", str(out)], env_ogr)
    rows = []
    code = None
    for line in dump.splitlines():
        line = line.strip()
        if line.startswith("code (String) = "):
            code = line.split(" = ", 1)[1]
        elif line.startswith(("MULTIPOLYGON", "POLYGON", "POINT")) and code:
            rows.append((code, line))
            code = None
    return rows, pages


def test_ogr2ogr_copies_townships_in_cgcs2000(
    server, base_data, settings, engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    env = gdal_env(tmp_path, base_data.logins["henan_planner"].headers(settings))
    rows, pages = copy(server, env, tmp_path / "townships.gpkg", "townships")
    with engine.connect() as conn:
        conn.execute(
            text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(base_data.henan_id)}
        )
        stored = dict(
            conn.execute(
                text(
                    "SELECT code, ST_AsText(geom) FROM divisions WHERE level = 'township'"
                    " AND valid_to IS NULL"
                )
            ).all()
        )
        conn.rollback()
    assert len(rows) == len(stored) > 7
    assert pages >= len(stored) // 7  # it followed the `next` links
    for code, wkt in rows:
        ours = shapely.get_coordinates(shapely.from_wkt(stored[code]))
        theirs = shapely.get_coordinates(shapely.from_wkt(wkt))
        # GDAL writes EPSG:4490 coordinates as x=lon, y=lat in the GeoPackage
        assert ours.shape == theirs.shape
        assert abs(ours - theirs).max() <= 1e-7, code


def test_a_city_bureaus_copy_holds_only_its_city(server, base_data, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = gdal_env(tmp_path, base_data.logins["zhengzhou_city"].headers(settings))
    rows, _ = copy(server, env, tmp_path / "city.gpkg", "townships")
    assert rows and all(code.startswith("4101") for code, _ in rows)


@pytest.mark.parametrize("scheme", ["BASIC", "ANY"])
def test_a_city_bureaus_access_token_copies_only_its_city(
    server, city_token, tmp_path, scheme
) -> None:  # type: ignore[no-untyped-def]
    """The username and an access token as HTTP Basic credentials, sent at once (BASIC) or
    after the 401's Basic challenge (ANY: curl first asks without them)."""
    env = {
        **os.environ,
        "GDAL_HTTP_AUTH": scheme,
        "GDAL_HTTP_USERPWD": f"zhengzhou_city:{city_token}",
        "CPL_DEBUG": "OFF",
        "GDAL_HTTP_TIMEOUT": "60",
    }
    rows, _ = copy(server, env, tmp_path / "city.gpkg", "townships")
    assert rows and all(code.startswith("4101") for code, _ in rows)
