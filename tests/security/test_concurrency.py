"""Two clients update one office at the same moment over real HTTP: one wins, the other gets
412, and nothing is lost (the winner's change is stored once, with one audit event)."""

from __future__ import annotations

import threading

import httpx2 as httpx
import pytest
import shapely
from conftest import PASSWORD
from factories import mini_features
from live import live_app
from sqlalchemy import text

TOWNSHIP = "410222101"  # 竖岗镇, 通许县 — a region no other test counts events in
ROUNDS = 8


@pytest.fixture
def server(settings, base_data, owner_engine):  # type: ignore[no-untyped-def]
    """The real app on a real port, on its own connection pool (committed data)."""
    with live_app(settings) as url:
        yield url
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM offices WHERE division_code = :c"), {"c": TOWNSHIP})
        conn.execute(text("DELETE FROM login_failures"))


def race(url: str, headers: dict[str, str], staff: tuple[int, int]) -> dict[int, httpx.Response]:
    """Send two PATCHes released at the same instant; their responses by staff number."""
    barrier = threading.Barrier(len(staff))
    results: dict[int, httpx.Response] = {}

    def patch(value: int) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            results[value] = client.patch(url, json={"staff_total": value}, headers=headers)

    workers = [threading.Thread(target=patch, args=(v,)) for v in staff]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def test_concurrent_patches(server):
    ((geom, _),) = mini_features("mini_henan", lambda c: c == TOWNSHIP)
    p = shapely.point_on_surface(geom)
    login = httpx.post(
        f"{server}/api/v1/auth/token",
        data={"username": "henan_admin", "password": PASSWORD},
        timeout=60,
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = httpx.post(
        f"{server}/api/v1/offices",
        json={"name": "通许县司法局竖岗司法所", "location": {"lon": p.x, "lat": p.y}},
        headers=headers,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    url = f"{server}/api/v1/offices/{created.json()['id']}"
    outcomes = []
    for round_no in range(ROUNDS):
        etag = httpx.get(url, headers=headers, timeout=60).headers["ETag"]
        results = race(url, {**headers, "If-Match": etag}, (10 * round_no + 1, 10 * round_no + 2))
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 412], {k: (r.status_code, r.text[:200]) for k, r in results.items()}
        winner = next(k for k, r in results.items() if r.status_code == 200)
        stored = httpx.get(url, headers=headers, timeout=60).json()
        assert stored["staff_total"] == winner
        assert stored["version"] == round_no + 2
        outcomes.append(winner)
    history = httpx.get(f"{url}/history", headers=headers, timeout=60).json()
    updates = [e for e in history if e["action"] == "update"]
    assert [e["after"]["staff_total"] for e in updates] == outcomes  # one event per winner
