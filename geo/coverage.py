"""Is a set of polygons a clean coverage (no overlaps, edges matched between neighbours)?

GEOS's CoverageValidator (GEOS ≥ 3.12, bundled with shapely) answers this per group in a
single pass over the segments; PostGIS 3.3 (GEOS 3.11) has no equivalent, and pairwise
DE-9IM tests cost several times more. Groups are checked on two threads (GEOS releases the
GIL), fed from an iterator so that memory stays bounded by a few groups.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

import numpy as np
import shapely

Group = tuple[Hashable, list[bytes]]


def _invalid(group: Group) -> Hashable | None:
    key, wkbs = group
    if len(wkbs) < 2:
        return None
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
    if not shapely.is_valid(geoms).all():
        return key
    return None if shapely.coverage_is_valid(geoms) else key


def invalid_groups(groups: Iterable[Group], *, threads: int = 2, window: int = 64) -> set[Hashable]:
    """Keys of the groups whose polygons are not a valid coverage."""
    out: set[Hashable] = set()
    it: Iterator[Group] = iter(groups)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="coverage") as pool:
        while batch := list(islice(it, window)):
            out.update(k for k in pool.map(_invalid, batch) if k is not None)
    return out
