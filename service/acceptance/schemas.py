"""Request and response bodies of the acceptance workflow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from service.core.dates import PlausibleDate
from service.core.text import NO_CONTROL_CHARS
from service.offices.schemas import Strict

Reason = Annotated[str, StringConstraints(min_length=2, max_length=500), NO_CONTROL_CHARS]
PersonName = Annotated[str, StringConstraints(min_length=2, max_length=50), NO_CONTROL_CHARS]


class StepIn(Strict):
    """What a workflow step records beside who and when."""

    comment: Annotated[str, StringConstraints(max_length=2000), NO_CONTROL_CHARS] | None = None
    reasons: list[Reason] = Field(
        default_factory=list, max_length=50, description="why (reject / revoke / decline)"
    )
    inspection_date: PlausibleDate | None = Field(
        default=None,
        description="the day of the inspection (accept, reject, re-inspect, spot check)",
    )
    inspectors: list[PersonName] = Field(default_factory=list, max_length=20)
    evidence_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default_factory=list, max_length=100, description="evidence files of this office"
    )


class EventOut(BaseModel):
    id: int
    office_id: int
    step: str
    step_label: str
    from_state: str
    to_state: str
    effective_on: date
    recorded_at: datetime
    username: str
    role: str | None
    standard: dict[str, Any] | None
    score: float | None
    failed_mandatory: list[str] | None
    comment: str | None
    reasons: list[str] | None
    inspection_date: date | None
    inspectors: list[str] | None
    evidence_ids: list[int] | None


class StepResult(BaseModel):
    office_id: int
    state: str
    state_label: str
    version: int
    event: EventOut
    allowed_steps: list[str]
