"""What a coverage report is asked (`CoverageFilter`, checked by `filter_for`), and the text
fragments `valid` and `active` that the reports not yet composed in Core still paste (the
boundary checks, the diagnosis, the maps' data, acceptance progress); the composed ones use
predicates.py.

Spatial predicates always come with their bounding-box operator written out (`a ~ b AND
ST_Covers(a, b)`): under row-level security only leakproof operators may drive an index.

Today's answer comes from the relation stored on every office (`located_code`, kept current
at write time and on every boundary change), so reports are attribute joins. For a past
date the stored relation still holds except for offices standing where a boundary has
changed since; only those are located again, spatially, against the versions of that date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import Invalid
from service.divisions.kinds import TOWNSHIP_KINDS
from service.tenants.models import DEFAULT_REQUIRED_KINDS


@dataclass(frozen=True)
class CoverageFilter:
    """What every report is asked for: a region (code prefix), a date, division kinds."""

    tenant_id: int
    region: str
    as_of: date | None = None
    kinds: tuple[str, ...] | None = None
    required_kinds: tuple[str, ...] = field(default=DEFAULT_REQUIRED_KINDS)

    def params(self) -> dict[str, Any]:
        return {
            "t": self.tenant_id,
            "region": self.region,
            "as_of": self.as_of,
            # an office closed on a day counts as active until the end of that day
            "as_of_end": (self.as_of + timedelta(days=1)) if self.as_of else None,
            "kinds": list(self.kinds) if self.kinds else None,
            "required": list(self.required_kinds),
        }


def filter_for(
    scope: Scope,
    region: str | None,
    as_of: date | None = None,
    kinds: Sequence[str] | None = None,
) -> CoverageFilter:
    """What a caller asks of a coverage report, checked against their scope (the region
    inside theirs, township-level kinds): the API's query parameters and the command line's
    options both come through here."""
    if kinds and any(k not in TOWNSHIP_KINDS for k in kinds):
        raise Invalid(
            "kind must be a township-level kind",
            [{"field": "kind", "problem": f"one of {sorted(k.value for k in TOWNSHIP_KINDS)}"}],
        )
    return CoverageFilter(
        tenant_id=scope.tenant_id,
        region=scope.region(region),
        as_of=as_of,
        kinds=tuple(str(k) for k in kinds) if kinds else None,
        required_kinds=scope.required_kinds,
    )


def valid(alias: str, f: CoverageFilter) -> str:
    """The condition for a division version to be the one valid at the filter's date."""
    if f.as_of is None:
        return f"{alias}.valid_to IS NULL"
    return (
        f"{alias}.valid_from <= :as_of AND ({alias}.valid_to IS NULL OR {alias}.valid_to > :as_of)"
    )


def active(alias: str, f: CoverageFilter) -> str:
    """The condition for office `alias` to be active at the filter's date."""
    if f.as_of is None:
        return f"{alias}.closed_at IS NULL"
    return (
        f"{alias}.opened_on <= :as_of"
        f" AND ({alias}.closed_at IS NULL OR {alias}.closed_at >= :as_of_end)"
    )


def generated_boundaries(session: Session, f: CoverageFilter) -> bool:
    """Whether the region's township boundaries are generated (exports must say so)."""
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM divisions d WHERE d.tenant_id = :t"
                " AND d.generated AND starts_with(d.code, :region) AND d.level = 'township'"
                f" AND {valid('d', f)})"
            ),
            f.params(),
        )
    )
