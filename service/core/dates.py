"""The dates the registry accepts, in one place for every path (API bodies, query parameters,
forms, map pages, roster cells): the People's Republic's statistical divisions begin on
1949-10-01, and nothing is planned past 2100. A date outside that range is a typo (0001-01-01,
9999-12-31), refused with a message naming the field, never passed to the database."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator

EARLIEST = date(1949, 10, 1)
LATEST = date(2100, 12, 31)
RANGE_TEXT = f"{EARLIEST.isoformat()}..{LATEST.isoformat()}"


def out_of_range(value: date) -> str | None:
    """Why `value` is not a date the registry takes, or None."""
    if not EARLIEST <= value <= LATEST:
        return f"{value.isoformat()} is outside {RANGE_TEXT}"
    return None


def _plausible(value: date) -> date:
    problem = out_of_range(value)
    if problem:
        raise ValueError(problem)
    return value


PlausibleDate = Annotated[date, AfterValidator(_plausible)]
