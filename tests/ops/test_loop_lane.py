"""The event loop's lane (service/core/db.py `Database.run_on_loop`, service/http/hop.py): in a
served app the OGC API's reads wait for the database on the event loop, on connections of
their own, behind the same credential check and the same region as every other path; its
pages and everything else stay in the thread pool. Watched through SQLAlchemy's pool events
of the served app's own engines: where each connection was taken, and in which thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from live import live_app
from sqlalchemy import event, text

from service.core.db import Database, make_engine
from service.main import create_app

TOWNSHIPS = "/ogc/collections/townships/items"


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Checkouts:
    """Each connection the app's two lanes lend, as (lane, taken on a running event loop)."""

    def __init__(self, db: Database) -> None:
        self.seen: list[tuple[str, bool]] = []
        for on_loop, lane in db.lanes.items():
            name = "loop" if on_loop else "thread"
            event.listen(lane.engine, "checkout", self._listener(name))

    def _listener(self, name: str) -> Any:
        def taken(*_: Any) -> None:
            self.seen.append((name, _on_loop()))

        return taken

    def during(self, call: Any) -> tuple[Any, list[tuple[str, bool]]]:
        self.seen.clear()
        result = call()
        return result, list(self.seen)


@pytest.fixture(scope="module")
def served(settings) -> Iterator[tuple[httpx.Client, Checkouts]]:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    with live_app(settings, app) as base, httpx.Client(base_url=base, timeout=60) as client:
        client.get("/healthz")  # (the lifespan has made the Database by now)
        yield client, Checkouts(app.state.db)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(str(f["id"]) for f in response.json()["features"])


def test_an_ogc_read_waits_on_the_loop_and_a_page_in_a_thread(served, auth) -> None:  # type: ignore[no-untyped-def]
    client, checkouts = served
    who = auth("henan_admin")
    r, taken = checkouts.during(lambda: client.get(TOWNSHIPS, params={"limit": 5}, headers=who))
    assert len(ids(r)) == 5
    assert taken == [("loop", True)]
    page, taken = checkouts.during(
        lambda: client.get(TOWNSHIPS, params={"limit": 5, "f": "html"}, headers=who)
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert taken == [("thread", False)]
    api, taken = checkouts.during(lambda: client.get("/api/v1/me", headers=who))
    assert api.status_code == 200
    assert taken == [("thread", False)]


@pytest.mark.parametrize(
    "user", ["henan_admin", "zhengzhou_city", "xinzheng_county", "shanxi_admin", "taiyuan_city"]
)
def test_the_loop_lane_answers_each_region_as_the_thread_lane(served, client, auth, user) -> None:  # type: ignore[no-untyped-def]
    """The same features for each user, whichever lane read them: the served app's (the loop)
    and the test client's (one transaction of the test's, in a thread)."""
    served_client, checkouts = served
    params = {"limit": 10000}
    on_loop, taken = checkouts.during(
        lambda: served_client.get(TOWNSHIPS, params=params, headers=auth(user))
    )
    assert taken == [("loop", True)]
    in_thread = client.get(TOWNSHIPS, params=params, headers=auth(user))
    assert ids(on_loop) == ids(in_thread)
    assert ids(on_loop), f"{user} reads no township: nothing compared"


def test_the_loop_lane_refuses_as_the_guard_does(served, auth) -> None:  # type: ignore[no-untyped-def]
    client, checkouts = served
    # refused before the database is asked: no connection is taken
    nobody, taken = checkouts.during(lambda: client.get(TOWNSHIPS))
    assert nobody.status_code == 401
    assert taken == []
    forged, taken = checkouts.during(
        lambda: client.get(TOWNSHIPS, headers={"Authorization": "Bearer not-a-token"})
    )
    assert forged.status_code == 401
    assert taken == []
    # a feature outside the caller's region: a Henan township asked for by Shanxi's county
    one = client.get(TOWNSHIPS, params={"limit": 1}, headers=auth("henan_admin"))
    feature = ids(one)[0]
    elsewhere = client.get(f"{TOWNSHIPS}/{feature}", headers=auth("xiaodian_county"))
    assert elsewhere.status_code == 404, elsewhere.text
    mine = client.get(f"{TOWNSHIPS}/{feature}", headers=auth("henan_admin"))
    assert mine.status_code == 200


def test_a_read_on_the_loop_is_rolled_back_when_it_fails(settings) -> None:  # type: ignore[no-untyped-def]
    """`Database.session(on_loop=True)` commits and rolls back as the thread lane's does, in
    the loop's thread, on SQLAlchemy's asyncio adapter of psycopg."""
    db = Database(
        make_engine(settings.database_url, pool_size=1),
        loop_engine=make_engine(settings.database_url, pool_size=1, on_loop=True),
    )
    rolled_back: list[bool] = []

    def work() -> tuple[str, int, bool]:
        from service.core.db import after_rollback

        with db.session(on_loop=True) as s:
            s.execute(text("SELECT set_config('app.user_id', '7', true)"))
            kept = s.scalar(text("SELECT current_setting('app.user_id')"))
            driver = type(s.connection().connection.dbapi_connection).__name__
        try:
            with db.session(on_loop=True) as s:
                after_rollback(s, lambda: rolled_back.append(True))
                s.execute(text("SELECT 1 / 0"))
        except Exception as error:  # (a statement's error, as SQLAlchemy raises it)
            assert "division by zero" in str(error)
        return driver, int(kept), threading.current_thread() is threading.main_thread()

    async def main() -> tuple[str, int, bool]:
        return await db.run_on_loop(work)

    try:
        driver, kept, in_main_thread = asyncio.run(main())
    finally:
        asyncio.run(db.dispose_loop_lane())
        db.dispose()
    assert driver == "AsyncAdapt_psycopg_connection"
    assert kept == 7
    assert in_main_thread  # (the loop's own thread: no trip to a pool)
    assert rolled_back == [True]
