"""The basemap is configuration: none by default, 天地图 with a key, or an XYZ URL — and
the map page's Content-Security-Policy admits exactly that tile host."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from maps.base import Basemap
from maps.data import MapData
from maps.themes import coverage_map
from service.core.settings import Settings
from service.main import create_app

EMPTY = MapData("t", "4101", "郑州市", [[34.0, 113.0], [35.0, 114.0]])


def test_no_basemap_by_default():
    html = coverage_map(EMPTY).get_root().render()
    assert "tileLayer" not in html


def test_tianditu_and_xyz_basemaps():
    html = coverage_map(EMPTY, Basemap("tianditu", key="k123")).get_root().render()
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cva_w/wmts" in html
    assert "tk=k123" in html
    html = coverage_map(EMPTY, Basemap("xyz", url="http://tiles.intranet/{z}/{x}/{y}.png"))
    assert "http://tiles.intranet/{z}/{x}/{y}.png" in html.get_root().render()


def test_settings_refuse_an_incomplete_basemap():
    with pytest.raises(ValidationError, match="REGISTRY_BASEMAP_URL"):
        Settings(basemap="xyz")
    with pytest.raises(ValidationError, match="REGISTRY_TIANDITU_KEY"):
        Settings(basemap="tianditu")


def test_the_tile_host_is_the_only_other_origin_a_map_page_may_load(settings, db, auth):
    local = settings.model_copy(
        update={"basemap": "xyz", "basemap_url": "http://{s}.tiles.intranet/{z}/{x}/{y}.png"}
    )
    with TestClient(create_app(local, database=db), raise_server_exceptions=False) as client:
        r = client.get(
            "/maps/coverage", params={"region": "410184"}, headers=auth("xinzheng_county")
        )
        assert r.status_code == 200
        assert (
            "img-src 'self' data: blob: http://*.tiles.intranet;"
            in r.headers["content-security-policy"]
        )
        assert "http://{s}.tiles.intranet/{z}/{x}/{y}.png" in r.text
