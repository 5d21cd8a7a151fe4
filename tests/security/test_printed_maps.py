"""Printed maps show stored names as they are: the hostile site's province, city and counties
(markup, template syntax with `$`, formula prefixes) are the titles of their printed maps,
read back from the PDF by a text extractor — never a formula of matplotlib's mathtext, an
error, or a name cut short."""

from __future__ import annotations

import io
import re

import httpx2 as httpx
from hostile import Planted, token
from pypdf import PdfReader

from maps.symbols import TITLES


def test_printed_maps_title_hostile_names_as_stored(hostile_site: Planted) -> None:
    regions = ["41", "4101", "410184", "410122"]
    with httpx.Client(base_url=hostile_site.base, timeout=120) as client:
        h = token(client, "henan_admin")
        for region in regions:
            name = hostile_site.divisions[region]
            for theme in ("coverage", "acceptance"):
                r = client.get(f"/maps/{theme}.pdf", params={"region": region}, headers=h)
                assert r.status_code == 200, (region, theme, r.text[:300])
                text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
                flat = re.sub(r"\s+", " ", text)
                assert f"{name}{TITLES[theme]}" in flat, (region, theme, flat[:400])
        png = client.get("/maps/coverage.png", params={"region": "410184"}, headers=h)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
