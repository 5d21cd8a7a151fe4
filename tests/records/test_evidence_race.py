"""Uploads of the same bytes at the same moment over real HTTP, on committed data: one is
refused by PostgreSQL when it commits, the other is stored. The stored row always keeps its
bytes and the refused one leaves nothing, whichever comes first, and also when the two rows
belong to different provinces (whose rows row-level security hides from each other)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from evidence_files import blob, office_body, on_disk, png
from live import live_app
from sqlalchemy import text

# actor → an office it uploads to, in townships no other test counts offices or events in;
# they are removed afterwards
OFFICES = {
    "henan_admin": ("mini_henan", "410222103", "通许县"),
    "shanxi_admin": ("mini_shanxi", "140105201", "小店区"),
}
REFUSE_AT_COMMIT = "refused-at-commit"  # the test trigger waits, then refuses the commit
SLOW_COMMIT = "slow-commit"  # the test trigger waits, then lets the commit through
# deferred: it runs at COMMIT, after the route has returned and the bytes were written
COMMIT_TRIGGER = f"""
CREATE FUNCTION test_evidence_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.description = '{SLOW_COMMIT}' THEN PERFORM pg_sleep(0.5); END IF;
  IF NEW.description = '{REFUSE_AT_COMMIT}' THEN
    PERFORM pg_sleep(0.2);
    RAISE EXCEPTION 'refused at commit for the test' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_evidence_at_commit AFTER INSERT ON evidence_files
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_evidence_at_commit();
"""


@dataclass
class Server:
    url: str
    offices: dict[str, int]  # actor → the office it uploads to


@pytest.fixture
def server(settings, base_data, owner_engine, auth) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The real app on a real port with its own connection pool (committed data), an office
    per province and the commit trigger; all removed afterwards, with the stored blobs."""
    with owner_engine.begin() as conn:
        conn.execute(text(COMMIT_TRIGGER))
    codes = [code for _, code, _ in OFFICES.values()]
    try:
        with live_app(settings) as url:
            offices = {}
            for actor, place in OFFICES.items():
                r = httpx.post(
                    f"{url}/api/v1/offices",
                    json=office_body(*place),
                    headers=auth(actor),
                    timeout=60,
                )
                assert r.status_code == 201, r.text
                offices[actor] = r.json()["id"]
            yield Server(url, offices)
    finally:
        with owner_engine.begin() as conn:
            shas = conn.scalars(
                text(
                    "DELETE FROM evidence_files e USING offices o"
                    " WHERE o.tenant_id = e.tenant_id AND o.id = e.office_id"
                    " AND o.division_code = ANY(:codes) RETURNING e.sha256"
                ),
                {"codes": codes},
            ).all()
            conn.execute(text("DELETE FROM offices WHERE division_code = ANY(:c)"), {"c": codes})
            conn.execute(text("DROP TRIGGER test_evidence_at_commit ON evidence_files"))
            conn.execute(text("DROP FUNCTION test_evidence_at_commit()"))
        for sha in shas:
            (settings.var_dir / "evidence" / sha[:2] / sha).unlink(missing_ok=True)


def race(server: Server, auth, data: bytes, uploads: list[tuple[str, str, float]]):  # type: ignore[no-untyped-def]
    """Start the uploads (actor, description, delay in seconds) at once; their responses."""
    barrier = threading.Barrier(len(uploads))
    results: dict[int, httpx.Response] = {}

    def send(i: int, actor: str, description: str, delay: float) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            time.sleep(delay)
            results[i] = client.post(
                f"{server.url}/api/v1/offices/{server.offices[actor]}/evidence",
                files={"file": ("a.png", data, "image/png")},
                data={"description": description},
                headers=auth(actor),
            )

    workers = [threading.Thread(target=send, args=(i, *u)) for i, u in enumerate(uploads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [results[i] for i in range(len(uploads))]


def stored(server: Server, auth, actor: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The sha256 of the evidence files of the actor's office."""
    office = server.offices[actor]
    r = httpx.get(f"{server.url}/api/v1/offices/{office}/evidence", headers=auth(actor), timeout=60)
    assert r.status_code == 200, r.text
    return [e["sha256"] for e in r.json()]


def test_a_failed_commit_leaves_nothing(server, auth, settings) -> None:
    data = png()
    (r,) = race(server, auth, data, [("henan_admin", REFUSE_AT_COMMIT, 0)])
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    assert on_disk(settings.var_dir, data) == []
    assert stored(server, auth, "henan_admin") == []


@pytest.mark.parametrize(
    ("winner", "first"),
    [
        ("shanxi_admin", "failing"),  # the stored row is another province's
        ("shanxi_admin", "stored"),
        ("henan_admin", "failing"),  # the stored row is the same office's
        ("henan_admin", "stored"),
    ],
)
def test_a_failing_upload_racing_a_stored_one_never_removes_its_bytes(
    server, auth, settings, winner, first
) -> None:
    data = png()
    # the later one starts 0.1 s after the earlier one, which is then writing the same blob or
    # holding it until its commit; the stored one's commit takes 0.5 s, so a failing upload
    # that cleans up without waiting for it, or without seeing its row, removes its bytes
    failing = ("henan_admin", REFUSE_AT_COMMIT, 0.0 if first == "failing" else 0.1)
    kept = (winner, SLOW_COMMIT, 0.0 if first == "stored" else 0.1)
    refused, accepted = race(server, auth, data, [failing, kept])
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert accepted.status_code == 201, accepted.text
    assert on_disk(settings.var_dir, data) == [blob(settings.var_dir, data)]
    assert blob(settings.var_dir, data).read_bytes() == data
    got = httpx.get(f"{server.url}{accepted.json()['href']}", headers=auth(winner), timeout=60)
    assert got.status_code == 200 and got.content == data
    assert stored(server, auth, winner) == [hashlib.sha256(data).hexdigest()]
    if winner != "henan_admin":
        assert stored(server, auth, "henan_admin") == []


def test_two_failing_uploads_of_the_same_bytes_leave_nothing(server, auth, settings) -> None:
    data = png()
    uploads = [("henan_admin", REFUSE_AT_COMMIT, 0.0), ("shanxi_admin", REFUSE_AT_COMMIT, 0.1)]
    assert [r.status_code for r in race(server, auth, data, uploads)] == [409, 409]
    assert on_disk(settings.var_dir, data) == []
