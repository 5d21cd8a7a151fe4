"""What identifies this deployment's code: a digest of the sources that make responses
(service/, maps/, geo/ and their templates and scripts), taken once at start. An ETag that
names kept output (a map page, a report export) includes it, so a deployment that changes
how they are made changes every tag, and no client or cache keeps an old rendering."""

from __future__ import annotations

import hashlib

from service.core.settings import PROJECT_ROOT

_SOURCES = ("service", "maps", "geo")
_SUFFIXES = frozenset({".py", ".html", ".js", ".css", ".json", ".sql"})


def _digest() -> str:
    digest = hashlib.sha256()
    for package in _SOURCES:
        for path in sorted((PROJECT_ROOT / package).rglob("*")):
            if path.is_file() and path.suffix in _SUFFIXES:
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


BUILD = _digest()
