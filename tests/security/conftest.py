"""Fixtures of the security tests: a plain connection of the service's role; the hostile site
(`registry serve` on a database of its own, where a province admin has planted the markup and
formula corpora of tests/hostile.py through the real write paths); and one headless Chromium
for a whole test module. The site is built once per run: the pages, maps and exports tests
all read it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from hostile import PASSWORD, Planted, plant
from live import chromium_driver
from operator_env import make_database, serve

from service.accounts.roles import Role
from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
from service.core.migrate import upgrade

ADMIN = "henan_admin"


@pytest.fixture(scope="session")
def hostile_site(pg_cluster, tmp_path_factory) -> Iterator[Planted]:  # type: ignore[no-untyped-def]
    from service.accounts.service import create_user
    from service.tenants.service import create_tenant

    env = make_database(pg_cluster, "hostile_site", tmp_path_factory.mktemp("hostile-var"))
    upgrade(env["REGISTRY_MIGRATION_DATABASE_URL"])
    owner = make_engine(env["REGISTRY_MIGRATION_DATABASE_URL"], pool_size=1)
    app = make_engine(env["DATABASE_URL"], pool_size=1)
    try:
        with Database(owner).session() as s:
            tenant = create_tenant(session=s, code="41", name="河南省司法厅")
        with Database(app).session() as s:
            bind_context(s, tenant_id=tenant.id, region=WHOLE_TENANT, username="test-setup")
            create_user(
                session=s,
                tenant=tenant,
                username=ADMIN,
                password=PASSWORD,
                role=Role.province_admin,
            )
    finally:
        owner.dispose()
        app.dispose()
    server, base = serve(env)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            yield plant(client, base, ADMIN)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a browser's keep-alive connection holds it open
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """One headless Chromium for a module (starting one costs a second or two)."""
    driver = chromium_driver(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


@pytest.fixture
def app_conn(engine, base_data):  # type: ignore[no-untyped-def]
    """A plain connection of the service's role, rolled back afterwards."""
    with engine.connect() as conn:
        conn.begin()
        yield conn
        conn.rollback()
