"""Fixtures of the record edit pages' tests: a browser logged in as a base user (with the
form token of that login), and an office of 新村镇 recording nothing yet."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from conftest import signed_in
from office_records import OfficeSpec, register

XINCUN, XINDIAN = "410184101", "410184102"  # 新郑市: xincun_staff's township and its neighbour


@pytest.fixture
def sign_in(client, settings, clean_throttle) -> Callable[[str], str]:  # type: ignore[no-untyped-def]
    """sign_in(user): the test client's browser logs in as `user`; returns the form token of
    that login (what the pages put in their forms, also for users whose page has none)."""

    def sign(user: str) -> str:
        client.cookies.clear()
        return signed_in(client, settings, user)

    return sign


@pytest.fixture
def bare_office(client, auth) -> int:  # type: ignore[no-untyped-def]
    """An office of 新村镇 with no facilities, staff or work record recorded, and no area."""
    return register(
        client,
        auth("xinzheng_county"),
        XINCUN,
        OfficeSpec(area_m2=None, facilities=None, staff=[], work_record=None),
    )


def page_text(html: str) -> str:
    """The page as text with its markup's entities read (what a person sees, tags kept)."""
    return unescape(html)


def field_error(html: str, field: str) -> str | None:
    """The refusal shown next to a field (its `e-…` element), or None."""
    m = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', html)
    return unescape(m.group(1)) if m else None


def input_value(html: str, field: str) -> str | None:
    """The value an input of the page holds."""
    m = re.search(
        rf'<input id="f-{re.escape(field)}" name="[^"]*" type="[^"]*" value="([^"]*)"', html
    )
    return unescape(m.group(1)) if m else None
