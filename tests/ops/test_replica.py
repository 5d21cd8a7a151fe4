"""The service with a read replica (DATABASE_READ_URL): a real hot standby of the test cluster,
made by pg_basebackup -R (LocalCluster.replica, what `registry cluster replica start` runs),
in front of the demo database.

GETs read from the replica once it has replayed what the primary had written, so a write is
seen by the next read; a replica that lags or is stopped in the middle of a run leaves the
reads to the primary without one failed request; /metrics shows where reads went and the lag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from operator_env import demo_headers, serve, set_phone
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url

from service.core.cluster import APP_ROLE, LocalCluster, free_port
from service.core.db import REPLICA_LAG_BACKOFF_S


@pytest.fixture(scope="module")
def replica(pg_cluster, demo_loaded, tmp_path_factory) -> Iterator[LocalCluster]:  # type: ignore[no-untyped-def]
    standby = pg_cluster.replica(tmp_path_factory.mktemp("replica"), free_port())
    yield standby
    standby.destroy()


@pytest.fixture(scope="module")
def served(replica, demo_loaded) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    database = make_url(demo_loaded["DATABASE_URL"]).database
    env = {**demo_loaded, "DATABASE_READ_URL": replica.url(APP_ROLE, database)}
    server, base = serve(env)
    # (users no other test logs in: each username has 5 logins a window from a new client)
    headers = demo_headers(base, env, ["shanxi_xiaodian", "henan_viewer", "shanxi_taiyuan"])
    try:
        yield {"base": base, "headers": headers}
    finally:
        server.terminate()
        server.wait(timeout=30)


def metric(base: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def reads(base: str, outcome: str) -> float:
    return metric(base, "registry_replica_reads_total", outcome=outcome)


def superuser(cluster: LocalCluster) -> psycopg.Connection:
    url = cluster.url("postgres", "postgres").replace("postgresql+psycopg", "postgresql")
    return psycopg.connect(url, autocommit=True)


def test_a_write_is_seen_by_the_next_read_from_the_replica(served) -> None:  # type: ignore[no-untyped-def]
    base, who = served["base"], served["headers"]["shanxi_xiaodian"]
    before = reads(base, "replica"), reads(base, "primary_lagging")
    for n in range(15):  # (3 reads each: the office list, its ETag, then what was written)
        phone = f"0351-6200{n:04d}"
        url = set_phone(base, who, phone)
        assert httpx.get(url, headers=who).json()["phone"] == phone  # at once, every time
    # the audit trail (read the same way) names the writer of every one of those changes
    trail = httpx.get(f"{url}/history", headers=who)
    assert trail.status_code == 200, trail.text
    phones = [e["after"]["phone"] for e in trail.json() if e["username"] == "shanxi_xiaodian"]
    assert phones[-15:] == [f"0351-6200{n:04d}" for n in range(15)]
    # every read went to the replica or, where it had not replayed the write within
    # REPLICA_WAIT_MS (a busy machine), to the primary; after such a wait reads skip the
    # replica for REPLICA_LAG_BACKOFF_S
    on_replica, lagging = (
        reads(base, "replica") - before[0],
        reads(base, "primary_lagging") - before[1],
    )
    assert on_replica + lagging == 46
    # once it has caught up, the reads are the replica's
    time.sleep(REPLICA_LAG_BACKOFF_S + 0.5)
    caught_up = reads(base, "replica")
    for _ in range(10):
        assert httpx.get(url, headers=who).json()["phone"] == "0351-62000014"
    assert reads(base, "replica") - caught_up == 10


def test_wal_the_primary_has_not_flushed_keeps_no_read_off_the_replica(served, pg_cluster) -> None:  # type: ignore[no-untyped-def]
    """What is in the primary's WAL but not flushed (an open transaction's row here; the
    background writer's and vacuum's records, which an idle WAL writer may keep in memory for
    seconds) cannot be on the replica, and no committed write waits behind it: reads wait
    for the flushed position only, so they stay on the replica."""
    base, who = served["base"], served["headers"]["shanxi_xiaodian"]
    url = set_phone(base, who, "0351-62001111")
    time.sleep(REPLICA_LAG_BACKOFF_S + 0.5)  # (any wait for the write above is over)
    with superuser(pg_cluster) as primary:
        primary.execute("CREATE TABLE IF NOT EXISTS unflushed (n integer)")
        for _ in range(5):
            # one row, on the WAL page the last flush ended in: the WAL writer flushes only
            # whole pages (or commits), so it stays in memory while the transaction is open
            with primary.transaction(force_rollback=True):
                began = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
                primary.execute("INSERT INTO unflushed VALUES (1)")
                row_alone = primary.execute(
                    "SELECT floor((pg_current_wal_insert_lsn() - '0/0') / 8192)"
                    " = floor((%s::pg_lsn - '0/0') / 8192)"
                    " AND pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn()",
                    began,
                ).fetchone()
                if row_alone != (True,):
                    continue  # (it began a new page: another try, on that page)
                before = reads(base, "replica"), reads(base, "primary_lagging")
                for _ in range(5):
                    assert httpx.get(url, headers=who).json()["phone"] == "0351-62001111"
                after = reads(base, "replica"), reads(base, "primary_lagging")
                break
        else:
            pytest.fail("no try left a row of WAL unflushed on one page")
    assert (after[0] - before[0], after[1] - before[1]) == (5, 0)


def test_the_replica_answers_each_user_their_region_only(served) -> None:  # type: ignore[no-untyped-def]
    base = served["base"]
    regions = {"shanxi_xiaodian": "140105", "henan_viewer": "41", "shanxi_taiyuan": "1401"}
    before = reads(base, "replica")
    for user, region in regions.items():
        got = httpx.get(
            f"{base}/ogc/collections/offices/items",
            params={"limit": 200},
            headers=served["headers"][user],
        )
        assert got.status_code == 200, got.text
        codes = [f["properties"]["code"] for f in got.json()["features"]]
        assert codes and all(code.startswith(region) for code in codes), user
    assert reads(base, "replica") - before >= len(regions)


def test_a_lagging_replica_leaves_the_read_to_the_primary_and_shows_its_lag(
    served, replica
) -> None:  # type: ignore[no-untyped-def]
    base, who = served["base"], served["headers"]["shanxi_xiaodian"]
    with superuser(replica) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            lagging = reads(base, "primary_lagging")
            url = set_phone(base, who, "0351-62009999")
            assert httpx.get(url, headers=who).json()["phone"] == "0351-62009999"
            assert reads(base, "primary_lagging") > lagging
            assert metric(base, "registry_replica_lag_bytes") > 0
            assert metric(base, "registry_replica_lag_seconds") > 0
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + 10
    while metric(base, "registry_replica_lag_bytes") > 0:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.2)
    assert metric(base, "registry_replica_lag_seconds") == 0


def test_stopping_the_replica_mid_run_fails_no_request(served, replica) -> None:  # type: ignore[no-untyped-def]
    base, headers = served["base"], served["headers"]
    statuses: list[int] = []
    stop = threading.Event()

    def load(user: str) -> None:
        with httpx.Client(base_url=base, headers=headers[user], timeout=30) as client:
            while not stop.is_set():
                statuses.append(client.get("/api/v1/offices", params={"limit": 20}).status_code)
                statuses.append(
                    client.get("/ogc/collections/townships/items", params={"limit": 5}).status_code
                )

    workers = [threading.Thread(target=load, args=(user,)) for user in headers for _ in (1, 2)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(2)
        on_replica = reads(base, "replica")
        replica.stop()  # (fast shutdown: its sessions are cut off mid-query)
        time.sleep(3)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        replica.start()
    assert on_replica > 0 and len(statuses) > 50
    assert [s for s in statuses if s != 200] == []
    assert reads(base, "primary_down") > 0
