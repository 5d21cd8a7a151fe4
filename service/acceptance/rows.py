"""One frozen row type per acceptance report row (the idiom of coverage/rows.py): made once
from the statement's row, read by attribute by the API's JSON, the exports (core/exports.py
`cell_of`), the dashboard and the maps; and one per report around its rows (its envelope),
which the report's route declares as its response model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import Field

from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficeInState:
    """An open office of the region with its acceptance state and re-inspection due date."""

    id: int
    name: str
    division_code: str
    state: str
    state_changed_on: date | None
    accepted_on: date | None
    reinspected_on: date | None
    due_on: date | None
    division_name: str | None
    county_name: str | None
    state_label: str
    overdue: bool

    @classmethod
    def of(cls, r: Mapping[str, Any], today: date) -> OfficeInState:
        due = r["due_on"]
        return cls(
            **r,
            state_label=ACCEPTANCE_LABELS_ZH[AcceptanceState(r["state"])],
            overdue=due is not None and due < today,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """A region's share of titled offices against its target, and the coverage view beside
    it (required townships with a titled office)."""

    offices: int
    offices_titled: int
    share: float | None
    target: float | None
    status: str
    short_of_target: int | None
    required: int
    accepted: int
    coverage_share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressRow(Progress):
    """A sub-region's progress; `yardstick`: judged by the schedule of a wider region."""

    code: str
    name: str | None
    yardstick: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotCheckRow:
    """A sub-region's offices filed with the province and how many it spot-checked."""

    code: str
    name: str | None
    filed: int
    sampled: int
    findings: int
    last_sampled_on: date | None
    share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CivilisedOffice:
    """An office named 文明司法所 against the deadline for its acceptance."""

    id: int
    name: str
    division_code: str
    division_name: str | None
    county_name: str | None
    state: str
    first_listed: int
    last_listed: int
    accepted_on: date | None
    status: str
    status_label: str
    state_label: str
    deadline: date


# -- the reports' envelopes: what each report returns around its rows, built once where the
# report is built and declared on its route (the API's response models are these types)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionStates:
    """A sub-region's open offices by acceptance state (every state, in the vocabulary's
    order), how many in all and how many hold the title."""

    code: str
    name: str | None
    counts: dict[str, int]
    offices: int
    titled: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reinspections:
    """The re-inspections overdue and due soon: the first few of each by due date, and how
    many there are of each; the period is the province's policy, said so in `policy_note`."""

    overdue: tuple[OfficeInState, ...]
    due_soon: tuple[OfficeInState, ...]
    overdue_count: int
    due_soon_count: int
    period_months: int
    policy_note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptanceOverview:
    """A region's offices by acceptance state: the counts (the region's and per sub-region),
    a page of its offices (`total`: how many match `state`), and the re-inspections due."""

    region: str
    state: str | None
    state_labels: dict[str, str]
    counts: dict[str, int]
    offices: int
    titled: int
    regions: tuple[RegionStates, ...]
    items: tuple[OfficeInState, ...]
    total: int
    limit: int
    offset: int
    reinspection: Reinspections


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetInForce:
    """The target in force at the report's date and the next one (None: none set)."""

    share: float | None
    due_on: date | None
    aspirational: bool | None
    next_due_on: date | None
    next_share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetStep:
    """A step of the target curve the region is judged by (aspirational: 力争, not binding)."""

    due_on: date
    share: float
    aspirational: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressReport:
    """A region's progress against its target curve at a date, and per sub-region."""

    region: str
    as_of: date
    required_kinds: tuple[str, ...]
    target: TargetInForce
    curve: tuple[TargetStep, ...]
    total: Progress
    regions: tuple[ProgressRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotCheckTotal:
    """The region's offices filed with the province, and how many it spot-checked."""

    filed: int
    sampled: int
    findings: int
    share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotCheckReport:
    """The province's sampling of a region's filed offices at a date, per sub-region."""

    region: str
    as_of: date
    total: SpotCheckTotal
    regions: tuple[SpotCheckRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CivilisedRule:
    """The standard that gives 文明司法所 a deadline for their acceptance, and the deadline."""

    standard: str
    version: int
    source: str
    # the standard's first day ("from" in JSON: a Python keyword)
    effective_from: Annotated[date, Field(serialization_alias="from")]
    years: int | None
    deadline: date


@dataclass(frozen=True, slots=True, kw_only=True)
class CivilisedReport:
    """The offices named 文明司法所 against the deadline of `rule` (None: no standard in
    force sets one, and then no counts and no offices)."""

    region: str
    as_of: date
    rule: CivilisedRule | None
    counts: dict[str, int]
    items: tuple[CivilisedOffice, ...]
