"""The demo database shared by the CLI and browser tests (loading it is the slow part)."""

from __future__ import annotations

import pytest
from operator_env import make_database, run


@pytest.fixture(scope="session")
def demo_env(pg_cluster, tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return make_database(pg_cluster, "cli_demo", tmp_path_factory.mktemp("demo-var"))


@pytest.fixture(scope="session")
def demo_loaded(demo_env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    run(demo_env, "db", "upgrade")
    run(demo_env, "import", "demo", "--provinces", "41,14")
    return demo_env
