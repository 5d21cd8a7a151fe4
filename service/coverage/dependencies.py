"""The parameters every coverage report takes, checked against the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from service.coverage.query import CoverageFilter, filter_for
from service.divisions.kinds import DivisionKind
from service.http.deps import CurrentScope
from service.http.params import AsOfQuery, RegionParam


def coverage_filter(
    scope: CurrentScope,
    region: RegionParam = None,
    as_of: AsOfQuery = None,
    kind: Annotated[
        list[DivisionKind] | None, Query(description="township kinds to include")
    ] = None,
) -> CoverageFilter:
    return filter_for(scope, region, as_of, [k.value for k in kind] if kind else None)


Filter = Annotated[CoverageFilter, Depends(coverage_filter)]
