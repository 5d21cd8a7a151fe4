"""What a coverage report is asked (`CoverageFilter`, checked against the caller's scope by
`filter_for`): the API's query parameters and the command line's options both come through
here. The statements themselves are composed from predicates.py (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

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
