"""The garbage collector of a serving worker: tuned so that it does not stall requests.

CPython's cycle collector runs a young-generation pass every 700 net allocations of
container objects and a full pass when enough of them have survived. A worker's requests
allocate hundreds of thousands of containers (rows, GeoJSON dicts, ORM state), so under
load the collector ran all the time: in `scripts/bench load` (50 users, 2 workers, 120 s)
each worker spent ≈13 s in it, 23 full passes of 250–530 ms each, during which every
request of the worker waited; the request p99 of ≈1 s was the same for every kind of
request, from a 1 ms list to a map page.

Two changes, made once a worker has built its app (`service/asgi.py`):
- `gc.freeze()` moves everything alive then (≈190,000 objects: modules, classes, the
  app and its routes, SQLAlchemy's metadata) out of the collector's reach: they live as
  long as the process, and a full pass no longer walks them (≈95 ms of each pass here);
- the young generation's threshold is raised to `YOUNG_THRESHOLD`, so that a pass runs
  every 50,000 net allocations instead of 700. What is left for the collector is cyclic
  garbage (most objects are freed by reference counting the moment the last reference
  goes); a pass later than Python's default keeps at most that many of them a little
  longer (a few MB).

Measured with the same mix: the collector's time fell from ≈13 s to ≈0.8 s per worker.
Tests build many apps in one process and keep Python's defaults: freezing there would keep
every app built before it alive (frozen objects are never collected).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
# (Python's own for the middle and old generations: 10 and 10; old passes are the dear ones)
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 100


def settle() -> None:
    """Collect what is garbage now, keep everything alive out of the collector's way from
    here on, and make its passes rarer (module docstring: why, and what it measured)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
