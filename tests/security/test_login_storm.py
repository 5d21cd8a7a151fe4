"""A storm of logins against the real server (uvicorn, its own connection pool of the
production size): no 5xx, at most five password verifications per username however many
arrive at once, and a bystander's requests keep being answered. (Before: each login held two
connections, 25 parallel logins stalled everyone for 30 s and ended in 500s, and 19 of 25
parallel wrong passwords were verified. The bystander's latency figures are measured by
`scripts/bench login`; here only that nothing stalls.)"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx2 as httpx
import pytest
from conftest import PASSWORD
from live import live_app
from sqlalchemy import text

from service.accounts import sessions

STORM = 50
VICTIMS = ("zhengzhou_city", "zhongmu_county")


@pytest.fixture
def server(settings, base_data, engine, owner_engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_failures"))
        started = conn.scalar(text("SELECT now()"))
    with live_app(settings) as url:
        yield url
    with owner_engine.begin() as conn:  # the logins committed: forget them
        conn.execute(text("DELETE FROM login_failures"))
        conn.execute(text("DELETE FROM auth_sessions WHERE created_at >= :t"), {"t": started})


@pytest.fixture
def verifications(monkeypatch):  # type: ignore[no-untyped-def]
    """How many times each password hash was checked (by the login path)."""
    counts: Counter[str | None] = Counter()
    lock = threading.Lock()
    real = sessions.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            counts[password_hash] += 1
        return real(password_hash, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    return counts


def test_a_login_storm_stalls_nobody(server, base_data, engine, verifications):
    bystander = httpx.post(
        f"{server}/api/v1/auth/token",
        data={"username": "henan_viewer", "password": PASSWORD},
        timeout=60,
    )
    headers = {"Authorization": f"Bearer {bystander.json()['access_token']}"}
    verifications.clear()
    barrier = threading.Barrier(STORM)
    codes: list[int] = []
    stop = threading.Event()
    waits: list[float] = []
    bystander_codes: list[int] = []

    def attempt(i: int) -> None:
        user = VICTIMS[i % 2]
        password = PASSWORD if i % 3 == 0 else f"wrong-password-{i}"
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            r = client.post(
                f"{server}/api/v1/auth/token", data={"username": user, "password": password}
            )
            codes.append(r.status_code)

    def watch() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                started = time.perf_counter()
                r = client.get(f"{server}/api/v1/me", headers=headers)
                waits.append(time.perf_counter() - started)
                bystander_codes.append(r.status_code)
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(STORM)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    watcher.join()
    assert len(codes) == STORM and set(codes) <= {200, 401, 429}, Counter(codes)
    with engine.connect() as conn:
        hashes = dict(
            conn.execute(
                text(
                    "SELECT u.name, l.password_hash FROM unnest(CAST(:names AS text[])) AS u(name),"
                    " LATERAL registry_login_lookup(u.name) AS l"
                ),
                {"names": list(VICTIMS)},
            ).all()
        )
    for user in VICTIMS:
        assert 1 <= verifications[hashes[user]] <= 5, (user, verifications)
    assert bystander_codes and set(bystander_codes) == {200}
    assert max(waits) < 10, max(waits)  # before: 29.6 s, the pool's timeout
