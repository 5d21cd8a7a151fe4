"""The parameters every coverage report takes, checked against the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from service.coverage.query import CoverageFilter
from service.deps import AsOfQuery, CurrentScope
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
    as_of: AsOfQuery = None,
    kind: Annotated[
        list[DivisionKind] | None, Query(description="township kinds to include")
    ] = None,
) -> CoverageFilter:
    if kind and any(k not in TOWNSHIP_KINDS for k in kind):
        raise Invalid(
            "kind must be a township-level kind",
            [{"field": "kind", "problem": f"one of {sorted(k.value for k in TOWNSHIP_KINDS)}"}],
        )
    return CoverageFilter(
        tenant_id=scope.tenant_id,
        region=scope.region(region),
        as_of=as_of,
        kinds=tuple(k.value for k in kind) if kind else None,
        required_kinds=scope.required_kinds,
    )


Filter = Annotated[CoverageFilter, Depends(coverage_filter)]
