"""How sure a diagnosis of a misplaced office is: the evidence for each correction that would
bring its point home, and the confidence that evidence earns. Pure arithmetic, no database:
service/coverage/diagnosis.py gathers the facts in SQL and hands them here.

Why a landing alone is not enough. GCJ-02 moves points 250–650 m, BD-09 about 0.9–1.4 km,
and an office that truly stands a few hundred metres across a border is brought "home" by
the same correction whenever the border lies the right way. One office alone cannot tell the
two apart: for points spread evenly over townships, even the depth at which the corrected
point lands is distributed alike. What separates them is the batch (a county's offices in
the misplaced report, a county's rows in a roster import): a list typed from 高德 is offset
as a whole, so every one of its points that crossed a border comes home under one correction
and none of its points still at home is carried out; offices that truly stand elsewhere
stand every which way.

The model weighs "the batch is offset by correction C" against "the batch is right and its
misplaced offices truly stand where their points are", office by office. With r the share of
a township's points that a shift of C's size carries across its boundary
(`geo.offsets.crossing_chance`), g the share of the batch's offices that truly stand
elsewhere, and q the chance that C brings such an office home by coincidence
(q = shift / (π · 2 km): true misplacements spread over about 2 km on either side of a
border, and C brings back those within its reach on one side), the likelihood ratios are:

- a misplaced office that C brings home: r(1−g) / (g·q) — under C it crossed (r), else it
  truly stands elsewhere (g) and came home by coincidence (q). A landing that only just
  crosses counts less: under 25 m deep in proportion to its depth (boundaries are not exact
  to the metre), against the shortest way home half;
- an office at home that C would carry out: g·q / ((1−g)·r) — under C only an office truly
  standing elsewhere can (the shift brought it home), else it lies near its border;
- a misplaced office that C leaves outside, an office at home that C keeps home: 1 (as
  likely either way).

g is estimated from the batch: (strays + 1) / (offices + 2), the strays being the misplaced
offices C leaves outside — so a batch whose misplaced offices mostly stay unexplained earns
little from the few C explains ("most points of a roster offset the same way"). Prior odds
are 1:9 for a batch, which counts only when C brings home at least two of its offices; one
office typed alone from a map app has prior odds 1:10 and only its own landing to speak for
it (with g = 0.1). An office's confidence in C is C's odds over one plus the odds of all its
candidates, and GCJ-02 or BD-09 is named only with a corroborating batch, whatever the
confidence: one landing is never evidence enough. A swap moves a point across half of China:
its coincidence chance is 1e-4, and its landing alone suffices.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geo.offsets import CORRECTIONS, SHIFTS

CONFIDENT = 0.9  # a cause is named at this confidence or above, else "unknown"
FIRM_DEPTH_M = 25.0  # a corrected point closer than this to the boundary only just crosses it
FIRM_ANGLE_DEG = 90.0  # a correction pointing away from the shortest way home is no match
GENUINE_SPREAD_M = 2000.0  # offices truly standing across a border stand within about this
GENUINE_RATE = 0.1  # g for an office judged alone
GENUINE_RATE_RANGE = (0.02, 0.5)  # g as estimated from a batch is kept in this range
PRIOR_BATCH_ODDS = 1 / 9
CORROBORATING = 2  # misplaced offices a correction must bring home for the batch to count
PRIOR_ONE_OFF_ODDS = 0.1
SWAP_COINCIDENCE = 1e-4
CHANCE_RANGE = (0.005, 0.5)  # r and q are kept in this range: no certainty from geometry alone


def _clamp(value: float) -> float:
    low, high = CHANCE_RANGE
    return min(high, max(low, value))


@dataclass(frozen=True)
class Landing:
    """Where one correction takes one office's point."""

    home: bool  # the corrected point lies in the registered township
    shift_m: float | None  # how far the correction moves the point (None for a swap)
    crossing: float  # the share of the township's points a shift this size carries out
    depth_m: float | None = None  # how far inside the township it lands (misplaced offices)
    direction_deg: float | None = None  # angle between the correction and the way home

    @property
    def firm(self) -> bool:
        """Lands clearly inside, moving the way the point has to go to get home."""
        deep = self.depth_m is None or self.depth_m >= FIRM_DEPTH_M
        aligned = self.direction_deg is None or self.direction_deg <= FIRM_ANGLE_DEG
        return self.home and deep and aligned

    @property
    def weight(self) -> float:
        """How much the landing counts: in full when firm; one within FIRM_DEPTH_M of the
        boundary in proportion to its depth (boundaries are not exact to the metre, so the
        point may not be home at all), half when the correction points away from home."""
        weight = 1.0
        if self.depth_m is not None:
            weight *= max(0.1, min(1.0, self.depth_m / FIRM_DEPTH_M))
        if self.direction_deg is not None and self.direction_deg > FIRM_ANGLE_DEG:
            weight *= 0.5
        return weight


@dataclass(frozen=True)
class Member:
    """An office of a batch: whether its point is in its registered township, and where each
    correction would take it (corrections not tried are absent)."""

    office_id: int
    batch: str  # the batch's code: the county the office is registered in
    home: bool
    landings: Mapping[str, Landing]
    outside_m: float | None = None  # how far the stored point is from its township


@dataclass(frozen=True)
class BatchEvidence:
    scope: str  # "county" (the misplaced report) or "roster" (an import)
    code: str  # the county
    offices: int
    misplaced: int
    explained: int  # misplaced offices the correction brings home
    broken: int  # offices at home the correction would carry out


@dataclass(frozen=True)
class Evidence:
    correction: str  # the likeliest correction
    confidence: float
    shift_m: float | None
    depth_m: float | None
    outside_m: float | None
    direction_deg: float | None
    offset_matches: bool  # the landing is firm (deep enough, the right way)
    also: tuple[str, ...]  # other corrections that bring the point home too
    batch: BatchEvidence | None  # None for a swap, judged on its own


@dataclass(frozen=True)
class Verdict:
    label: str | None  # a correction, "unknown" (weak evidence) or None (no correction fits)
    confidence: float | None  # of the label; None for "unknown" and None
    evidence: Evidence | None


def coincidence(correction: str, shift_m: float | None) -> float:
    """q: the chance that a truly misplaced office is brought home by this correction."""
    if correction == "swapped" or shift_m is None:
        return SWAP_COINCIDENCE
    return _clamp(shift_m / (math.pi * GENUINE_SPREAD_M))


def _brought_home(correction: str, landing: Landing, genuine: float) -> float:
    """log likelihood ratio of a misplaced office that the correction brings home."""
    chance = coincidence(correction, landing.shift_m)
    ratio = _clamp(landing.crossing) * (1 - genuine) / (genuine * chance)
    return math.log(ratio * landing.weight)


def _carried_out(correction: str, landing: Landing, genuine: float) -> float:
    """log likelihood ratio of an office at home that the correction would carry out."""
    chance = coincidence(correction, landing.shift_m)
    return math.log(genuine * chance / ((1 - genuine) * _clamp(landing.crossing)))


@dataclass(frozen=True)
class _Batch:
    log_odds: float
    evidence: BatchEvidence


def _batch(correction: str, members: Sequence[Member], scope: str) -> _Batch:
    """The odds that the whole batch is offset by `correction`."""
    landed = [(m, m.landings.get(correction)) for m in members]
    misplaced = [lg for m, lg in landed if not m.home]
    explained = [lg for lg in misplaced if lg is not None and lg.home]
    broken = [lg for m, lg in landed if m.home and lg is not None and not lg.home]
    strays = len(misplaced) - len(explained)
    low, high = GENUINE_RATE_RANGE
    genuine = min(high, max(low, (strays + 1) / (len(members) + 2)))
    log_odds = (
        math.log(PRIOR_BATCH_ODDS)
        + sum(_brought_home(correction, lg, genuine) for lg in explained)
        + sum(_carried_out(correction, lg, genuine) for lg in broken)
    )
    counts = BatchEvidence(
        scope, members[0].batch, len(members), len(misplaced), len(explained), len(broken)
    )
    return _Batch(log_odds, counts)


def _odds(log_odds: float) -> float:
    return math.exp(min(log_odds, 700.0))  # (beyond that, certainty either way)


def judge(members: Sequence[Member], *, scope: str) -> dict[int, Verdict]:
    """A verdict for every misplaced member; members at home are the batches' evidence."""
    batches: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        batches[m.batch].append(m)
    verdicts: dict[int, Verdict] = {}
    for group in batches.values():
        tried = {c for m in group if not m.home for c, lg in m.landings.items() if lg.home}
        whole = {c: _batch(c, group, scope) for c in SHIFTS if c in tried}
        for m in group:
            if not m.home:
                verdicts[m.office_id] = _verdict(m, whole)
    return verdicts


def _corroborated(whole: Mapping[str, _Batch], correction: str) -> bool:
    """Whether another office of the batch comes home under the same correction."""
    batch = whole.get(correction)
    return batch is not None and batch.evidence.explained >= CORROBORATING


def _batch_odds(whole: Mapping[str, _Batch], correction: str) -> float:
    """The odds of the batch being offset by `correction`, when corroborated."""
    return _odds(whole[correction].log_odds) if _corroborated(whole, correction) else 0.0


def _verdict(m: Member, whole: Mapping[str, _Batch]) -> Verdict:
    home = {c: lg for c, lg in m.landings.items() if lg.home}
    if not home:
        return Verdict(None, None, None)
    odds = {
        c: PRIOR_ONE_OFF_ODDS * _odds(_brought_home(c, lg, GENUINE_RATE)) + _batch_odds(whole, c)
        for c, lg in home.items()
    }
    best = max(odds, key=lambda c: (odds[c], -CORRECTIONS.index(c)))
    confidence = odds[best] / (1.0 + sum(odds.values()))
    landing = home[best]
    evidence = Evidence(
        correction=best,
        confidence=round(confidence, 4),
        shift_m=None if landing.shift_m is None else round(landing.shift_m, 1),
        depth_m=None if landing.depth_m is None else round(landing.depth_m, 1),
        outside_m=None if m.outside_m is None else round(m.outside_m, 1),
        direction_deg=None if landing.direction_deg is None else round(landing.direction_deg, 1),
        offset_matches=landing.firm,
        also=tuple(c for c in CORRECTIONS if c in home and c != best),
        batch=whole[best].evidence if best in whole else None,
    )
    if confidence >= CONFIDENT and (best not in SHIFTS or _corroborated(whole, best)):
        return Verdict(best, evidence.confidence, evidence)
    return Verdict("unknown", None, evidence)
