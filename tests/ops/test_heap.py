"""A served worker's garbage collector (service/core/heap.py): what the worker's entry point
leaves it as, read from a process that imports it as uvicorn does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from service.core import heap

PROBE = """
import gc, json
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
import service.asgi
from fastapi import FastAPI
app = service.asgi.app
frozen_app = any(o is app for o in gc.get_objects()) is False
print(json.dumps({
    "before": before,
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "app_out_of_reach": frozen_app and isinstance(app, FastAPI),
}))
"""


def test_a_served_worker_keeps_its_built_app_out_of_the_collectors_reach() -> None:
    env = {
        **os.environ,
        # (building the app connects nowhere: the lifespan does)
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "REGISTRY_SECRET_KEY": "heap-test-secret-0123456789-0123456789",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["before"] == {"threshold": [700, 10, 10], "frozen": 0}  # Python's own
    assert tuple(got["threshold"]) == (
        heap.YOUNG_THRESHOLD,
        heap.MIDDLE_THRESHOLD,
        heap.OLD_THRESHOLD,
    )
    # the modules, the app and its routes: frozen, not walked by every full pass
    assert got["frozen"] > 100_000
    assert got["app_out_of_reach"]


def test_the_test_process_keeps_pythons_collector() -> None:
    """Tests build many apps in one process: frozen, none of them could ever be freed."""
    import gc

    assert gc.get_freeze_count() == 0
