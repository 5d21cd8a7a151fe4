"""Admission to the database: a worker lets at most as many requests at once work with the
database as its pool has connections; the others wait their turn in the event loop.

Without it a burst deadlocked a worker. A request's blocking steps each take a thread of
the worker's pool (anyio's 40): the credential check, the route, the commit. When more
requests came at once than there were connections, the threads filled with requests
waiting for a connection, and the requests holding the connections could not get a thread
for their next step to finish and give them back; every one waited out the pool's timeout
(30 s) and got 503 (`scripts/bench load` with the caches off: 30 of 42,000 requests; 100
clients against one worker with 4 connections: 25 × 503 and read timeouts, where each request
costs 2 ms). Admitted requests are never more than the connections, so none waits for one
in a thread, and every admitted request finds a thread (tests/ops/test_pool.py).

Every path of a request to the database takes it before its first thread: the request's
session (`service/http/deps.py` `get_session`), the OGC API's one trip
(`service/ogc/common.py`), each database step of a login or a token refresh
(`service/accounts/sessions.py`). It is the Database's (`Database.admission`), sized to its
pool. A request that waits longer than the pool would have (POOL_TIMEOUT_S) gets the pool's
answer: 503 with Retry-After, counted in registry_db_pool_timeouts.

(A password change takes a second connection for its attempt counter while it holds its
session's: a worker busy with nothing but password changes can still wait out the pool.)"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import TimeoutError as PoolTimeout


class Admission:
    """At most `size` requests of this worker at once in the database."""

    def __init__(self, size: int, timeout_s: float) -> None:
        self.size, self.timeout_s = size, timeout_s
        # one per event loop (a semaphore belongs to the loop it first waits in; tests run
        # one app in several)
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """Hold one of the places while the block runs (wait for one first)."""
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.size)
        try:
            if gate.locked():  # (a free place is taken without waiting: no timer for it)
                await asyncio.wait_for(gate.acquire(), self.timeout_s)
            else:
                await gate.acquire()
        except TimeoutError as exc:
            raise PoolTimeout(
                f"{self.size} requests held every place for {self.timeout_s:.0f} s"
            ) from exc
        try:
            yield
        finally:
            gate.release()
