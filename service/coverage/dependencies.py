"""The parameters every coverage report takes, checked against the caller's scope."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from service.coverage.query import CoverageFilter
from service.deps import CurrentScope
from service.divisions.kinds import TOWNSHIP_KINDS, DivisionKind
from service.errors import Invalid

RegionQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3})?)?)?$",
        description="division code: province, city, county or township (default: all of yours)",
    ),
]


def coverage_filter(
    scope: CurrentScope,
    region: RegionQuery = None,
    as_of: Annotated[
        date | None, Query(description="answer as of this date (default today)")
    ] = None,
    kind: Annotated[
        list[DivisionKind] | None, Query(description="township kinds to include")
    ] = None,
) -> CoverageFilter:
    if kind and any(k not in TOWNSHIP_KINDS for k in kind):
        raise Invalid(
            "kind must be a township-level kind",
            [{"field": "kind", "problem": f"one of {sorted(k.value for k in TOWNSHIP_KINDS)}"}],
        )
    if as_of is not None and not date(1949, 10, 1) <= as_of <= date(2100, 1, 1):
        raise Invalid("as_of is out of range", [{"field": "as_of", "problem": "1949-10-01..2100"}])
    return CoverageFilter(
        tenant_id=scope.tenant_id,
        region=scope.region(region),
        as_of=as_of,
        kinds=tuple(k.value for k in kind) if kind else None,
        required_kinds=scope.required_kinds,
    )


Filter = Annotated[CoverageFilter, Depends(coverage_filter)]
