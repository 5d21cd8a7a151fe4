"""Responses kept in a worker's memory under their ETag: vector tiles (service/features/
tiles.py `tile_etag`) and map pages (service/maps/router.py). A tag names everything the
bytes were made from — the statement or page, the data versions of the tables read (read in
the request's own transaction, so a write is seen by the next read), the tenant, the region
and the request — so what is found under a tag is what the request would make. Each worker
keeps its own, bounded in bytes, least recently used first out; nothing in it outlives a
change of the data, which changes the tag.
"""

from __future__ import annotations

from threading import Lock

from cachetools import LRUCache

from service.core.metrics import CACHE_BYTES, CACHE_LOOKUPS


class ByteCache:
    """Responses by ETag, at most `megabytes` of them (an empty one counts one byte); `name`
    labels its hits and misses in /metrics."""

    def __init__(self, megabytes: int, name: str) -> None:
        self._tiles: LRUCache[str, bytes] | None = (
            LRUCache(maxsize=megabytes * 2**20, getsizeof=lambda data: max(len(data), 1))
            if megabytes
            else None
        )
        self._lock = Lock()  # (the routes run in the thread pool; LRUCache is not safe)
        self._hits = CACHE_LOOKUPS.labels(cache=name, result="hit")
        self._misses = CACHE_LOOKUPS.labels(cache=name, result="miss")
        self._bytes = CACHE_BYTES.labels(cache=name)

    def get(self, tag: str) -> bytes | None:
        if self._tiles is None:
            return None
        with self._lock:
            found = self._tiles.get(tag)
        (self._misses if found is None else self._hits).inc()
        return found

    def put(self, tag: str, data: bytes) -> None:
        if self._tiles is None or len(data) > self._tiles.maxsize:
            return
        with self._lock:
            self._tiles[tag] = data
            held = self._tiles.currsize
        self._bytes.set(held)
