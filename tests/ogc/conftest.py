"""What the OGC API tests share: offices in two townships of 郑州 and one of 开封."""

from __future__ import annotations

import pytest
from factories import office_body

OFFICE_TOWNSHIPS = ("410184101", "410122101", "410222101")  # 新郑, 中牟 (郑州); 通许 (开封)


@pytest.fixture
def offices(client, auth) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """An office in two townships of 郑州 and one of 开封, by township code."""
    made = {}
    for code in OFFICE_TOWNSHIPS:
        r = client.post("/api/v1/offices", json=office_body(code), headers=auth("henan_admin"))
        assert r.status_code == 201, r.text
        made[code] = r.json()["id"]
    return made
