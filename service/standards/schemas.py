"""Request and response bodies of standards, targets and compliance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from service.core.dates import PlausibleDate
from service.divisions.codes import REGION_PATTERN
from service.standards.definition import (
    SEED_CODES,
    StandardDefinition,
    Strict,
    Target,
    check_curve,
)


class PublishIn(Strict):
    """A new version: either one of the seed standards by code, or a whole definition."""

    seed: str | None = Field(default=None, description=f"one of {', '.join(SEED_CODES)}")
    definition: StandardDefinition | None = None
    effective_from: PlausibleDate = Field(description="the day the version takes effect")
    replace_targets: bool = Field(
        default=True, description="make the definition's targets the tenant's target curve"
    )
    target_region: str | None = Field(
        default=None,
        pattern=REGION_PATTERN,
        description="the region the definition's targets are the schedule of (a district's"
        " standard sets the district's own); default the whole tenant",
    )

    @model_validator(mode="after")
    def _one_source(self) -> PublishIn:
        if (self.seed is None) == (self.definition is None):
            raise ValueError("send exactly one of seed or definition")
        if self.seed is not None and self.seed not in SEED_CODES:
            raise ValueError(f"seed must be one of {', '.join(SEED_CODES)}")
        return self


class StandardOut(BaseModel):
    id: int
    version: int
    code: str
    title: str
    document: str
    issued_on: date | None
    effective_from: date
    published_at: datetime
    published_by: str
    criteria: int
    mandatory: int


class StandardDetail(StandardOut):
    notes: str | None
    items: list[dict[str, Any]]


class TargetsIn(Strict):
    targets: list[Target] = Field(max_length=50)
    region: str | None = Field(
        default=None,
        pattern=REGION_PATTERN,
        description="set the schedule of this region only (default: the tenant's own curve)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> TargetsIn:
        check_curve(self.targets)
        return self
