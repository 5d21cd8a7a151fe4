"""One frozen row type per acceptance report row (the idiom of coverage/rows.py): made once
from the statement's row, read by attribute by the API's JSON, the exports (core/exports.py
`cell_of`), the dashboard and the maps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

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
