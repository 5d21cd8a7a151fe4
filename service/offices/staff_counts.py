"""The staff-count rule (在岗人数): of an office's staff, those in established posts (在编)
and the civil servants (公务员) are each a part of the total, never more. The API's body
check, the service's check of a stored office and the roster import all ask here; the
database holds the same rule as check constraints (offices/models.py)."""

from __future__ import annotations

from collections.abc import Callable

PARTS = ("staff_formal", "staff_civil_servants")


def larger_than_total(
    total: int | None, part: Callable[[str], int | None]
) -> tuple[str, str] | None:
    """(field, message) of the first part larger than the total, or None (an unknown total
    or part bounds nothing)."""
    if total is None:
        return None
    for name in PARTS:
        value = part(name)
        if value is not None and value > total:
            return name, f"{name} ({value}) cannot exceed staff_total ({total})"
    return None
