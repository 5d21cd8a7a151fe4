"""The confidence model of the diagnoses, on batches written out by hand (no database)."""

from __future__ import annotations

import math

from service.coverage.evidence import (
    CONFIDENT,
    BatchEvidence,
    Landing,
    Member,
    coincidence,
    judge,
)

GCJ = dict(shift_m=550.0, crossing=0.12)  # a GCJ-02 shift in a township of ~50 km²
BD = dict(shift_m=1300.0, crossing=0.28)


def lands(correction: dict, *, depth_m: float = 200.0, direction_deg: float = 20.0) -> Landing:
    return Landing(home=True, depth_m=depth_m, direction_deg=direction_deg, **correction)


def stays(correction: dict) -> Landing:
    return Landing(home=True, **correction)


def leaves(correction: dict) -> Landing:
    return Landing(home=False, **correction)


def county(misplaced: list[dict], at_home: list[dict]) -> list[Member]:
    """A batch: misplaced offices (ids 1…) and offices at home (ids 101…), each with its
    landings by correction."""
    return [
        Member(i + 1, "410184", False, landings, outside_m=150.0)
        for i, landings in enumerate(misplaced)
    ] + [Member(101 + i, "410184", True, landings) for i, landings in enumerate(at_home)]


def test_a_lone_landing_is_not_enough():
    verdicts = judge(county([{"gcj02": lands(GCJ)}], [{"gcj02": stays(GCJ)}] * 14), scope="county")
    v = verdicts[1]
    assert (v.label, v.confidence) == ("unknown", None)
    assert v.evidence is not None and v.evidence.correction == "gcj02"
    assert v.evidence.confidence < CONFIDENT
    assert v.evidence.batch == BatchEvidence("county", "410184", 15, 1, 1, 0)
    assert (v.evidence.shift_m, v.evidence.depth_m, v.evidence.outside_m) == (550.0, 200.0, 150.0)
    assert v.evidence.offset_matches is True


def test_one_landing_never_names_a_cause_however_large_the_batch():
    # thirty small streets (a shift carries 30% of a street's points out) all at home but one
    street = dict(shift_m=550.0, crossing=0.3)
    batch = county([{"gcj02": lands(street)}], [{"gcj02": stays(street)}] * 29)
    v = judge(batch, scope="county")[1]
    assert v.label == "unknown" and v.evidence is not None
    assert v.evidence.confidence < CONFIDENT


def test_one_landing_in_the_smallest_street_is_still_not_named():
    # a street so small that any shift carries half its points out: the landing's own odds
    # run high, but nothing corroborates it
    tiny = dict(shift_m=250.0, crossing=0.5)
    v = judge(county([{"gcj02": lands(tiny)}], [{"gcj02": stays(tiny)}] * 5), scope="county")[1]
    assert v.evidence is not None and v.evidence.confidence >= CONFIDENT
    assert (v.label, v.confidence) == ("unknown", None)


def test_a_county_offset_as_a_whole_is_named():
    verdicts = judge(
        county([{"gcj02": lands(GCJ)}] * 3, [{"gcj02": stays(GCJ)}] * 12), scope="county"
    )
    assert {v.label for v in verdicts.values()} == {"gcj02"}
    assert all(v.confidence is not None and v.confidence >= CONFIDENT for v in verdicts.values())
    assert verdicts[1].evidence.batch == BatchEvidence("county", "410184", 15, 3, 3, 0)


def test_offices_at_home_that_the_correction_carries_out_speak_against_it():
    # the same three landings, but three offices at home would leave under the correction:
    # the county's points are right, and the three misplaced offices truly stand across
    at_home = [{"gcj02": leaves(GCJ)}] * 3 + [{"gcj02": stays(GCJ)}] * 9
    verdicts = judge(county([{"gcj02": lands(GCJ)}] * 3, at_home), scope="roster")
    assert {v.label for v in verdicts.values()} == {"unknown"}
    assert verdicts[1].evidence.batch == BatchEvidence("roster", "410184", 15, 3, 3, 3)


def test_most_strays_unexplained_leave_the_cause_unknown():
    misplaced = [{"gcj02": lands(GCJ)}] * 2 + [{"gcj02": leaves(GCJ)}] * 6
    verdicts = judge(county(misplaced, [{"gcj02": stays(GCJ)}] * 10), scope="county")
    assert verdicts[1].label == verdicts[2].label == "unknown"
    assert [verdicts[i].label for i in range(3, 9)] == [None] * 6


def test_a_landing_that_only_just_crosses_counts_less():
    def confidence(landing: Landing) -> float:
        batch = county([{"gcj02": landing}, {"gcj02": lands(GCJ)}], [{"gcj02": stays(GCJ)}] * 10)
        evidence = judge(batch, scope="county")[1].evidence
        assert evidence is not None
        return evidence.confidence

    firm = confidence(lands(GCJ))
    assert confidence(lands(GCJ, depth_m=10.0)) < firm
    assert confidence(lands(GCJ, direction_deg=120.0)) < firm
    assert lands(GCJ, depth_m=10.0).firm is False and lands(GCJ).firm is True


def test_gcj02_or_bd09_is_told_by_the_offices_at_home():
    # both corrections bring the three home; the BD-09 one overshoots and carries out three
    # offices at home, the GCJ-02 one none: a GCJ-02 county
    both = {"gcj02": lands(GCJ), "bd09": lands(BD)}
    at_home = [{"gcj02": stays(GCJ), "bd09": leaves(BD)}] * 3
    at_home += [{"gcj02": stays(GCJ), "bd09": stays(BD)}] * 9
    verdicts = judge(county([both] * 3, at_home), scope="county")
    assert {v.label for v in verdicts.values()} == {"gcj02"}
    assert verdicts[1].evidence.also == ("bd09",)


def test_a_swap_alone_is_enough():
    swap = Landing(home=True, shift_m=None, crossing=1.0, depth_m=900.0)
    verdicts = judge(county([{"swapped": swap}], [{}] * 5), scope="county")
    v = verdicts[1]
    assert v.label == "swapped" and v.confidence is not None and v.confidence > 0.999
    assert v.evidence is not None and v.evidence.batch is None


def test_no_landing_no_diagnosis():
    verdicts = judge(county([{"gcj02": leaves(GCJ)}], [{"gcj02": stays(GCJ)}]), scope="county")
    assert verdicts[1].label is None and verdicts[1].evidence is None


def test_coincidence_grows_with_the_shift():
    assert coincidence("gcj02", 550.0) == 550.0 / (math.pi * 2000.0)
    assert coincidence("bd09", 1300.0) > coincidence("gcj02", 550.0)
    assert coincidence("swapped", None) == 1e-4
