"""Query parameters the routers share (one definition each, instead of routers importing
routers)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Query

from service.core.dates import RANGE_TEXT, PlausibleDate, out_of_range
from service.core.errors import Invalid
from service.divisions.codes import REGION_OR_ALL_PATTERN, REGION_PATTERN

T = TypeVar("T")


def in_loop(cls: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """A dependency that builds `cls` (a dataclass of query parameters) from its own
    signature, in the event loop: FastAPI runs a class dependency (`Depends()`) in the thread
    pool, a hop there and back per request for what is only a constructor."""

    async def build(**values: Any) -> T:
        return cls(**values)

    # evaluated: FastAPI cannot resolve the dataclass's string annotations from this module
    build.__signature__ = inspect.signature(cls, eval_str=True)  # type: ignore[attr-defined]
    build.__name__ = getattr(cls, "__name__", "parameters")
    return build


RegionParam = Annotated[
    str | None,
    Query(
        pattern=REGION_PATTERN,
        description="division code: province, city, county or township (default: all of yours)",
    ),
]
# a page's region: also empty, for all of the user's own
PageRegionParam = Annotated[
    str | None,
    Query(
        pattern=REGION_OR_ALL_PATTERN,
        description="division code subtree (default: your region)",
    ),
]
# a page of a list: how many rows (at most what an export holds), and how many to skip
PageLimit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
AsOfQuery = Annotated[
    PlausibleDate | None,
    Query(description=f"answer as of this date ({RANGE_TEXT}; default today)"),
]


def page_date(raw: str | None, field: str = "as_of") -> date | None:
    """A page form's date field: empty is no date; otherwise a plausible ISO date."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(f"{field}: {raw} is not a date", {"field": field}) from exc
    problem = out_of_range(day)
    if problem:
        raise Invalid(f"{field}: {problem}", {"field": field})
    return day
