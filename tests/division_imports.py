"""Importing division files into 河南 (tenant 41) and reading back what the import stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely
from factories import county_polygon, township_cells, write_layer
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.divisions.importer import ImportReport, import_divisions
from service.tenants.service import get_tenant

GONGYI = "410181"  # 巩义市: not in the mini fixture, so a file may add it
GONGYI_TOWNSHIPS = ["站街镇", "米河镇", "孝义街道", "西村镇", "小关乡"]


def gongyi_features(
    first: shapely.Geometry | None = None, *, n: int = 3
) -> list[tuple[shapely.Geometry, dict]]:
    """巩义市 and `n` generated townships (410181001, 002, …); `first` replaces the first
    township's shape."""
    cells = township_cells(GONGYI, n)
    if first is not None:
        cells[0] = first
    return [
        (county_polygon(GONGYI), {"code": GONGYI, "name": "巩义市"}),
        *[
            (c, {"code": f"{GONGYI}{i + 1:03d}", "name": GONGYI_TOWNSHIPS[i % 5]})
            for i, c in enumerate(cells)
        ],
    ]


def projected(
    features: list[tuple[shapely.Geometry, dict]], epsg: int
) -> list[tuple[shapely.Geometry, dict]]:
    """The features with their geometries moved from EPSG:4326 into EPSG:`epsg`."""
    forward = Transformer.from_crs(4326, epsg, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(forward.transform(coords[:, 0], coords[:, 1]))

    return [(shapely.transform(g, move), props) for g, props in features]


def write_features(path: Path, features: list[tuple[shapely.Geometry, dict]], **layer: Any) -> Path:
    """A layer file (write_layer's driver, crs, encoding in `layer`) of the features'
    geometries with their code and name."""
    return write_layer(
        path,
        [g for g, _ in features],
        {"code": [p["code"] for _, p in features], "name": [p["name"] for _, p in features]},
        **layer,
    )


def import_henan(session: Session, path: Path, **kw: Any) -> ImportReport:
    """Import the file at `path` into tenant 41, as the import command does."""
    return import_divisions(
        session=session, tenant=get_tenant(session=session, code="41"), path=path, **kw
    )


def all_versions(session: Session) -> list[tuple]:
    """Every stored division version, each with its boundary's digest: what an import could
    touch, to compare before and after."""
    return list(
        session.execute(
            text(
                "SELECT tenant_id, code, valid_from, valid_to, md5(ST_AsBinary(geom))"
                " FROM divisions ORDER BY tenant_id, code, valid_from"
            )
        ).all()
    )


def versions_of(session: Session, code: str, columns: str) -> list[Any]:
    """`columns` of each of 河南's versions of division `code`, oldest first."""
    return list(
        session.execute(
            text(
                f"SELECT {columns} FROM divisions"
                " WHERE tenant_id = (SELECT id FROM tenants WHERE code = '41') AND code = :c"
                " ORDER BY valid_from"
            ),
            {"c": code},
        ).all()
    )
