"""The garbage collector of a serving worker: tuned so that it stalls requests far less.

CPython's cycle collector runs a young-generation pass every 700 net allocations of
container objects and a full pass when enough of them have survived. A worker's requests
allocate hundreds of thousands of containers (rows, GeoJSON dicts, ORM state), so under
load the collector ran all the time. In `scripts/bench load` (50 users, 2 workers, 120 s;
each pass timed by `gc.callbacks`, its CPU by `time.thread_time`) each worker spent 5.6–6.3 s
of CPU in it, about a tenth of its CPU: ≈2,700 young passes, ≈250 middle ones and 21–22
full passes of ≈145 ms CPU each. A full pass holds the GIL throughout: on the loaded
machine one took up to 530 ms, and every request of that worker waited for it.

Two changes, made once a worker has built its app (`service/asgi.py`):
- `gc.freeze()` moves everything alive then (≈190,000 objects: modules, classes, the
  app and its routes, SQLAlchemy's metadata) out of the collector's reach: they live as
  long as the process, and a full pass no longer walks them (a full pass over them alone
  took ≈95 ms in a worker at rest);
- the young generation's threshold is raised to `YOUNG_THRESHOLD`, so that a pass runs
  every 10,000 net allocations instead of 700. What is left for the collector is cyclic
  garbage (most objects are freed by reference counting the moment the last reference
  goes); a pass later than Python's default keeps at most that many of them a little
  longer.

Measured with the same mix: the collector's CPU fell to ≈0.4–0.55 s per worker (≈430 young
passes, 37 middle, 4 full), the longest pass to ≈165 ms. A young threshold of 50,000 saved
no more CPU and cost ≈50 MB more peak RSS in `scripts/bench ogc` (461 against 413 MB with
10,000): garbage cycles waited longer for their pass.

Tests build many apps in one process and keep Python's defaults: freezing there would keep
every app built before it alive (frozen objects are never collected).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
# (Python's own for the middle and old generations: 10 and 10; old passes are the dear ones)
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 100


def settle() -> None:
    """Collect what is garbage now, keep everything alive out of the collector's way from
    here on, and make its passes rarer (module docstring: why, and what it measured)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
