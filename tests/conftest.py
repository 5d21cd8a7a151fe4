"""Test fixtures: a throwaway PostGIS cluster per run, migrations applied once, and per-test
transactions rolled back at the end (the app under test joins them through savepoints).

Nothing is mocked: the app talks to the real database through the same code as production.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.accounts.models import AuthSession
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.accounts.security import issue_token
from service.core.cluster import APP_ROLE, OWNER_ROLE, LocalCluster, free_port
from service.core.db import WHOLE_TENANT, Database, Lane, bind_context, make_engine
from service.core.migrate import upgrade
from service.core.settings import Settings
from service.main import create_app

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    """A private PostgreSQL + PostGIS cluster, created for this test run and destroyed after."""
    base = Path(tempfile.mkdtemp(prefix="registry-test-pg-", dir="/tmp"))
    cluster = LocalCluster(base, port=free_port(), database="registry_test")
    cluster.ensure(fast=True)
    yield cluster
    if os.environ.get("REGISTRY_KEEP_TEST_CLUSTER"):
        print(f"test cluster kept in {base}")
        return
    cluster.destroy()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(pg_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=pg_cluster.url(APP_ROLE),
        migration_database_url=pg_cluster.url(OWNER_ROLE),
        secret_key=SECRET,  # type: ignore[arg-type]
        var_dir=tmp_path_factory.mktemp("var"),
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    upgrade(settings.migration_database_url)
    eng = make_engine(settings.database_url, pool_size=4)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def owner_engine(settings: Settings, engine: Engine) -> Iterator[Engine]:
    eng = make_engine(settings.migration_database_url, pool_size=2)
    yield eng
    eng.dispose()


class TransactionalDatabase(Database):
    """A Database whose sessions live inside one outer transaction, via savepoints."""

    def __init__(self, connection: Connection, tenant_id: int) -> None:
        self.engine = self.counters = connection.engine
        self.read_engine = None  # (no replica: one transaction)
        self.connection = connection
        self.tenant_id = tenant_id
        self.sessionmaker = sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        # one lane, the thread pool's: the event loop's would need connections of its own
        lane = Lane(connection.engine, None)
        lane.sessions = self.sessionmaker
        self.lanes = {False: lane}
        self._replica_down_until = self._replica_lagging_until = 0.0

    @contextmanager
    def session(self, *, on_loop: bool = False) -> Iterator[Session]:
        """An app session; afterwards the outer transaction is bound as the test's own
        `session` is (a request's binding is transaction-local, so it would outlive its
        savepoint and leave the test seeing only that user's region)."""
        try:
            with super().session() as s:
                yield s
        finally:
            with self.sessionmaker() as s:
                bind_context(s, tenant_id=self.tenant_id, region=WHOLE_TENANT, username="test")
                s.commit()


@pytest.fixture
def db(engine: Engine, base_data: BaseData) -> Iterator[TransactionalDatabase]:
    """Per-test database state: everything a test writes is rolled back afterwards."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield TransactionalDatabase(connection, base_data.henan_id)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(db: TransactionalDatabase, base_data: BaseData) -> Iterator[Session]:
    """A session of the service role, bound to tenant 41 (河南) like a request would be."""
    with db.sessionmaker() as s:
        bind_context(s, tenant_id=base_data.henan_id, region=WHOLE_TENANT, username="test")
        yield s


@pytest.fixture
def app(settings: Settings, db: TransactionalDatabase):  # type: ignore[no-untyped-def]
    return create_app(settings, database=db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# -- committed base data: tenants, divisions, users (made once per run) ----------------------


@dataclass
class Login:
    username: str
    password: str
    role: Role
    region: str
    user_id: int
    tenant_id: int

    session_id: int = 0

    def headers(self, settings: Settings) -> dict[str, str]:
        token, _ = issue_token(
            key=settings.signing_key(),
            user_id=self.user_id,
            tenant_id=self.tenant_id,
            session_id=self.session_id,
            username=self.username,
            role=self.role.value,
            ttl=timedelta(minutes=30),
        )
        return {"Authorization": f"Bearer {token}"}


@dataclass
class BaseData:
    henan_id: int
    shanxi_id: int
    logins: dict[str, Login]


BASE_USERS = [
    # key, tenant, role, region
    ("henan_admin", "41", Role.province_admin, "41"),
    ("henan_planner", "41", Role.province_planner, "41"),
    ("zhengzhou_city", "41", Role.city_bureau, "4101"),
    ("xinzheng_county", "41", Role.county_bureau, "410184"),
    ("zhongmu_county", "41", Role.county_bureau, "410122"),
    ("henan_viewer", "41", Role.viewer, "41"),
    ("xincun_staff", "41", Role.office_staff, "410184101"),
    ("shanxi_admin", "14", Role.province_admin, "14"),
    ("taiyuan_city", "14", Role.city_bureau, "1401"),
    ("xiaodian_county", "14", Role.county_bureau, "140105"),
]
TENANT_NAMES = {"41": "河南省司法厅", "14": "山西省司法厅"}
PASSWORD = "correct-horse-battery"
BASE_DATE = date(2023, 1, 1)


@pytest.fixture(scope="session")
def base_data(engine: Engine, owner_engine: Engine) -> BaseData:
    """Tenants 41 and 14 with the mini fixture divisions, and one user per test role."""
    from service.accounts.service import create_user
    from service.divisions.importer import import_divisions
    from service.tenants.service import create_tenant

    with Database(owner_engine).session() as s:
        henan = create_tenant(session=s, code="41", name=TENANT_NAMES["41"])
        shanxi = create_tenant(session=s, code="14", name=TENANT_NAMES["14"])
    tenants = {"41": henan, "14": shanxi}
    logins = {}
    database = Database(engine)  # the service role, bound to each tenant in turn
    for tenant, name in ((henan, "mini_henan"), (shanxi, "mini_shanxi")):
        with database.session() as s:
            bind_context(s, tenant_id=tenant.id, region=WHOLE_TENANT, username="test-setup")
            import_divisions(
                session=s, tenant=tenant, path=FIXTURES / f"{name}.geojson", valid_from=BASE_DATE
            )
            for key, tenant_code, role, region in BASE_USERS:
                if tenants[tenant_code] is not tenant:
                    continue
                user = create_user(
                    session=s,
                    tenant=tenant,
                    username=key,
                    password=PASSWORD,
                    role=role,
                    region_code=region,
                )
                login = AuthSession(
                    tenant_id=tenant.id,
                    user_id=user.id,
                    refresh_hash=b"test-session",
                    expires_at=datetime.now(UTC) + timedelta(days=2),
                )
                s.add(login)
                s.flush()
                logins[key] = Login(key, PASSWORD, role, region, user.id, tenant.id, login.id)
    return BaseData(henan.id, shanxi.id, logins)


@pytest.fixture
def clean_throttle(engine: Engine) -> Iterator[None]:
    """Attempt counters commit on their own connection: clear them around a test."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_failures"))
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_failures"))


@pytest.fixture
def auth(settings: Settings, base_data: BaseData):  # type: ignore[no-untyped-def]
    """auth("henan_admin") → Authorization headers for that base user."""

    def headers(key: str) -> dict[str, str]:
        return base_data.logins[key].headers(settings)

    return headers


def scope_of(base_data: BaseData, key: str) -> Scope:
    """The Scope a request by that base user is served with, for calling services directly."""
    login = base_data.logins[key]
    tenant_code = "41" if login.tenant_id == base_data.henan_id else "14"
    return Scope(
        user_id=login.user_id,
        username=login.username,
        tenant_id=login.tenant_id,
        tenant_code=tenant_code,
        tenant_name=TENANT_NAMES[tenant_code],
        role=login.role,
        region_code=login.region,
    )


def api_login(client, username: str = "zhengzhou_city", password: str = PASSWORD, **form: str):  # type: ignore[no-untyped-def]
    """Log in through the API's token endpoint as a script does; returns its response."""
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **form}
    )


def bearer(token: str) -> dict[str, str]:
    """Authorization headers for an access token."""
    return {"Authorization": f"Bearer {token}"}


def browser_login(client, username: str, password: str = PASSWORD, **form: str):  # type: ignore[no-untyped-def]
    """Log in through the /login page as a browser does: open the form (its token comes as a
    cookie and a hidden field), then post it. Returns the POST's response."""
    import re

    page = client.get("/login")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    return client.post(
        "/login",
        data={"username": username, "password": password, "form_token": token.group(1), **form},
        follow_redirects=False,
    )


def signed_in(client, settings: Settings, user: str) -> str:  # type: ignore[no-untyped-def]
    """Log the test client's browser in as `user`; the form token of that login (what the
    pages put in their forms, computed here also for users whose page has no form)."""
    from types import SimpleNamespace

    from service.accounts.security import decode_token
    from service.pages.forms import csrf_token

    r = browser_login(client, user)
    assert r.status_code == 303
    cookie = r.cookies["registry_token"]
    client.cookies.set("registry_token", cookie)
    claims = decode_token(cookie, key=settings.signing_key())
    assert claims is not None
    login = SimpleNamespace(
        tenant_id=int(claims["tid"]), user_id=int(claims["sub"]), session_id=int(claims["sid"])
    )
    return csrf_token(settings, login)  # type: ignore[arg-type]


def bind_raw(conn, tenant_id: int, region: str = WHOLE_TENANT) -> None:  # type: ignore[no-untyped-def]
    """What bind_context does, on a plain connection: the tenant and the region."""
    from sqlalchemy import text

    conn.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.region', :r, true)"),
        {"t": str(tenant_id), "r": region},
    )


def only_own_scripts(html: str) -> bool:
    """A server-rendered page runs no inline script: its only script is htmx from the
    registry's own assets (the CSP would refuse anything else anyway)."""
    import re

    return re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/vendor/htmx/htmx.min.js" defer>'
    ]
