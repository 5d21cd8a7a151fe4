"""Vector tiles kept in a worker's memory under their ETag (service/features/tiles.py
`tile_etag`): the tag names everything a tile was made from — its statement, the data
versions of the tables it reads (read in the request's own transaction, so a write is seen
by the next read), the tenant, the region and the request — so a tile found under its tag is
the tile the request would make. Each worker keeps its own, bounded in bytes, least
recently used first out; nothing in it outlives a change of the data, which changes the tag.
"""

from __future__ import annotations

from threading import Lock

from cachetools import LRUCache


class TileCache:
    """Tiles by ETag, at most `megabytes` of them (an empty tile counts one byte)."""

    def __init__(self, megabytes: int) -> None:
        self._tiles: LRUCache[str, bytes] | None = (
            LRUCache(maxsize=megabytes * 2**20, getsizeof=lambda data: max(len(data), 1))
            if megabytes
            else None
        )
        self._lock = Lock()  # (the tile routes run in the thread pool; LRUCache is not safe)

    def get(self, tag: str) -> bytes | None:
        if self._tiles is None:
            return None
        with self._lock:
            return self._tiles.get(tag)

    def put(self, tag: str, data: bytes) -> None:
        if self._tiles is None or len(data) > self._tiles.maxsize:
            return
        with self._lock:
            self._tiles[tag] = data
