"""QGIS 3.22 (Debian python3-qgis, headless), a client none of us wrote, against the live
service: an OAPIF layer with HTTP Basic credentials (the city bureau's access token, from
QGIS's own authentication database) loads, holds exactly the city's townships, a CQL2 filter
narrows it, and it renders to a non-empty image; a vector-tile layer of township coverage
renders too. The images are kept in test-artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from live import live_app
from sqlalchemy import text

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROBE = Path(__file__).parent / "clients" / "qgis_probe.py"


@pytest.fixture(scope="module")
def server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_app(settings) as url:
        yield url


def test_qgis_loads_filters_and_renders(server, city_token, engine, base_data) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    done = subprocess.run(
        ["/usr/bin/python3", str(PROBE), server, "zhengzhou_city", city_token, str(ARTIFACTS)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    with engine.connect() as conn:
        conn.execute(
            text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(base_data.henan_id)}
        )
        city = {
            code
            for (code,) in conn.execute(
                text(
                    "SELECT code FROM divisions WHERE level = 'township' AND valid_to IS NULL"
                    " AND starts_with(code, '4101')"
                )
            )
        }
        conn.rollback()
    everything, filtered, tiles = seen["all"], seen["filtered"], seen["tiles"]
    assert everything["valid"], everything
    assert set(everything["codes"]) == city and everything["count"] == len(city)
    assert filtered["valid"] and filtered["codes"], filtered
    assert set(filtered["codes"]) == {c for c in city if c.startswith("410184")}
    assert everything["painted"] > 0 and filtered["painted"] > 0
    assert tiles["valid"] and tiles["painted"] > 0, tiles
