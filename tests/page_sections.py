"""A page as a browser shows it once htmx has run: the sections it loads beside itself
(`hx-trigger="load"`, e.g. the dashboard's progress and coverage) fetched as htmx fetches
them — the URL the page names, with `HX-Request: true` — and put where the page says."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

_LOADED = re.compile(
    r'<section id="(?P<id>[^"]+)" hx-get="(?P<url>[^"]+)" hx-trigger="load"'
    r' hx-swap="outerHTML"[^>]*>.*?</section>',
    re.S,
)


def with_sections(client: Any, headers: dict[str, str], url: str, **params: str) -> str:
    """The page at `url` with its loaded sections in place (raw HTML, entities kept)."""
    r = client.get(url, params=params or None, headers=headers)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    page = str(r.text)

    def fetched(m: re.Match[str]) -> str:
        part = client.get(unescape(m["url"]), headers={**headers, "HX-Request": "true"})
        assert part.status_code == 200, (m["url"], part.status_code, part.text[:300])
        assert f'<section id="{m["id"]}"' in part.text, part.text[:300]
        return str(part.text)

    return _LOADED.sub(fetched, page)
