"""Query parameters the routers share (one definition each, instead of routers importing
routers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from service.core.dates import RANGE_TEXT, PlausibleDate
from service.divisions.codes import REGION_OR_ALL_PATTERN, REGION_PATTERN

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
AsOfQuery = Annotated[
    PlausibleDate | None,
    Query(description=f"answer as of this date ({RANGE_TEXT}; default today)"),
]
