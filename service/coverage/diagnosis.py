"""Why an office's point is not in its registered township, where a cause can be seen, and how
sure that is.

The corrections (geo/offsets.py: the point was really GCJ-02 or BD-09, or its longitude and
latitude are swapped) are computed for the points in numpy and tested against the townships
in SQL, set-based: one statement for the misplaced offices, then one for the other offices of
their batches — only of the counties where a GCJ-02 or BD-09 correction brings some misplaced
office home. service/coverage/evidence.py turns the facts into a confidence; a correction is
named only when it earns CONFIDENT, else the office is "unknown" (cause unknown) with the
evidence attached. A point outside the province, or in no township, says so.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock
from typing import Protocol

import numpy as np
from sqlalchemy import (
    BigInteger,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from geo.offsets import (
    CORRECTIONS,
    SHIFTS,
    azimuth_gap_deg,
    corrections,
    crossing_chance,
    distances_m,
)
from service.coverage.causes import LABELS_ZH
from service.coverage.evidence import Landing, Member, Verdict, judge
from service.coverage.predicates import (
    Shape,
    T,
    active_at,
    divisions_as,
    offices_as,
    valid_at,
)
from service.coverage.query import CoverageFilter
from service.coverage.rows import Diagnosis

# Every point's corrections in one statement. `p` and `q` are materialized so that each
# polygon test runs once per office, not once per reference to its result. Measures are
# taken in a local metric frame (lon scaled by 111,320 m × cos(lat) and lat by 110,574 m per
# degree, about the township's latitude): planar, so cheap, and within a percent at a
# township's scale; only where the model uses them — the crossing chance (perimeter, area)
# where a correction moves a point across its township's boundary, and depth and direction
# for misplaced offices a correction brings home. A whole statement (raw SQL: its tuning —
# what is materialized where — is the point), the date an optional parameter: the township
# is found by its code, so the date only filters the versions of one code.
_LANDINGS = text("""
WITH u AS (SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:gx AS float8[]),
                                CAST(:gy AS float8[]), CAST(:bx AS float8[]),
                                CAST(:by AS float8[])) AS u(id, gx, gy, bx, by)),
  p AS MATERIALIZED (
    SELECT u.id, o.division_code, o.geom AS pt, reg.geom AS township,
           reg.geom ~ o.geom AND ST_Covers(reg.geom, o.geom) AS home,
           abs(ST_Y(o.geom)) <= 90 AS measurable,  -- (not a point with swapped axes)
           111320 * cos(radians((ST_YMin(reg.geom) + ST_YMax(reg.geom)) / 2)) AS kx,
           ST_SetSRID(ST_MakePoint(u.gx, u.gy), 4326) AS g,
           ST_SetSRID(ST_MakePoint(u.bx, u.by), 4326) AS b,
           CASE WHEN :swap AND abs(ST_X(o.geom)) <= 90
                THEN ST_SetSRID(ST_MakePoint(ST_Y(o.geom), ST_X(o.geom)), 4326) END AS s
      FROM u JOIN offices o ON o.tenant_id = :t AND o.id = u.id
      JOIN divisions reg ON reg.tenant_id = :t AND reg.code = o.division_code
                      AND (CAST(:as_of AS date) IS NULL AND reg.valid_to IS NULL
                           OR reg.valid_from <= :as_of
                              AND (reg.valid_to IS NULL OR reg.valid_to > :as_of))),
  q AS MATERIALIZED (
    SELECT p.*, p.township ~ p.g AND ST_Covers(p.township, p.g) AS g_home,
           p.township ~ p.b AND ST_Covers(p.township, p.b) AS b_home,
           coalesce(p.township ~ p.s AND ST_Covers(p.township, p.s), false) AS s_home
      FROM p),
  m AS MATERIALIZED (
    SELECT q.*, ST_Scale(q.pt, q.kx, 110574) AS mpt,
           CASE WHEN NOT (q.home AND q.g_home AND q.b_home)
                THEN ST_Scale(q.township, q.kx, 110574) END AS mtownship
      FROM q)
SELECT m.id, m.division_code, m.home, m.g_home, m.b_home, m.s_home,
       ST_Perimeter(m.mtownship) AS perimeter_m, ST_Area(m.mtownship) AS area_m2,
       CASE WHEN NOT m.home AND m.measurable THEN ST_Distance(m.mtownship, m.mpt) END
            AS outside_m,
       CASE WHEN NOT m.home AND m.measurable
            THEN ST_Azimuth(m.mpt, ST_ClosestPoint(m.mtownship, m.mpt)) END AS way,
       CASE WHEN NOT m.home AND m.g_home
            THEN ST_Distance(ST_Boundary(m.mtownship), ST_Scale(m.g, m.kx, 110574)) END
            AS g_depth,
       CASE WHEN NOT m.home AND m.g_home AND m.measurable
            THEN ST_Azimuth(m.mpt, ST_Scale(m.g, m.kx, 110574)) END AS g_way,
       CASE WHEN NOT m.home AND m.b_home
            THEN ST_Distance(ST_Boundary(m.mtownship), ST_Scale(m.b, m.kx, 110574)) END
            AS b_depth,
       CASE WHEN NOT m.home AND m.b_home AND m.measurable
            THEN ST_Azimuth(m.mpt, ST_Scale(m.b, m.kx, 110574)) END AS b_way,
       CASE WHEN NOT m.home AND m.s_home
            THEN ST_Distance(ST_Boundary(m.mtownship), ST_Scale(m.s, m.kx, 110574)) END
            AS s_depth,
       CASE WHEN NOT m.home AND m.s_home AND m.measurable
            THEN ST_Azimuth(m.mpt, ST_Scale(m.s, m.kx, 110574)) END AS s_way
  FROM m""")
IDS = ARRAY(BigInteger)
_COLUMN = {"gcj02": "g", "bd09": "b", "swapped": "s"}


class Suspect(Protocol):
    """A misplaced office as the diagnosis reads it (a report's row, a roster's)."""

    @property
    def office_id(self) -> int: ...
    @property
    def registered_code(self) -> str: ...
    @property
    def located_code(self) -> str | None: ...
    @property
    def lon(self) -> float: ...
    @property
    def lat(self) -> float: ...


@dataclass(frozen=True)
class _Points:
    ids: list[int]
    lon: np.ndarray
    lat: np.ndarray


def _array(values: Sequence[float] | Sequence[int]) -> str:
    """A PostgreSQL array literal of numbers, cast in SQL: the driver's list adapter quotes
    element by element, which cost more than the statement for a county's offices."""
    return "{" + ",".join(map(repr, values)) + "}"


def _landings(session: Session, f: CoverageFilter, pts: _Points, *, swap: bool) -> list[Member]:
    """Each office as a batch member: at home or not, and where each correction takes it."""
    fixed = corrections(pts.lon, pts.lat)
    shift = {c: distances_m(pts.lon, pts.lat, *fixed[c]) for c in SHIFTS}
    rows = session.execute(
        _LANDINGS,
        {
            **f.params(),
            "ids": _array(pts.ids),
            "gx": _array(fixed["gcj02"][0].tolist()),
            "gy": _array(fixed["gcj02"][1].tolist()),
            "bx": _array(fixed["bd09"][0].tolist()),
            "by": _array(fixed["bd09"][1].tolist()),
            "swap": swap,
        },
    ).mappings()
    index = {office_id: i for i, office_id in enumerate(pts.ids)}
    members = []
    for r in rows:
        i = index[r["id"]]
        landings = {}
        for c in CORRECTIONS if swap else SHIFTS:
            col = _COLUMN[c]
            size = float(shift[c][i]) if c in shift else None
            crossing = 1.0  # a swap carries any point out; a shift, its share of the township
            if size is not None:  # (no perimeter where nothing crosses: the share is unused)
                measured = r["perimeter_m"] is not None
                crossing = (
                    crossing_chance(size, r["perimeter_m"], r["area_m2"]) if measured else 0.0
                )
            landings[c] = Landing(
                home=bool(r[f"{col}_home"]),
                shift_m=size,
                crossing=crossing,
                depth_m=r[f"{col}_depth"],
                direction_deg=azimuth_gap_deg(r["way"], r[f"{col}_way"]),
            )
        members.append(
            Member(r["id"], r["division_code"][:6], bool(r["home"]), landings, r["outside_m"])
        )
    return members


@lru_cache(maxsize=64)  # (one per count of counties asked for: bounded)
def _batch_statement(shape: Shape, counties: int, roster: bool) -> Select:
    """The offices of `counties` counties (bound as lo0/hi0 …), built once per count."""
    o, reg = offices_as("o"), divisions_as("reg")
    # One index range per county, each bound a constant (codes are digits; ':' sorts right after
    # '9'): the planner then reads each county's few offices by index. A join on an unnest of the
    # counties was planned as a scan of every office of the tenant, once per county.
    ranges = [
        and_(
            o.c.division_code.op("~>=~")(bindparam(f"lo{i}", type_=Text)),
            o.c.division_code.op("~<~")(bindparam(f"hi{i}", type_=Text)),
        )
        for i in range(counties)
    ]
    stmt = (
        select(
            o.c.id,
            func.ST_X(o.c.geom).label("x"),
            func.ST_Y(o.c.geom).label("y"),
            o.c.division_code,
            reg.c.id.label("reg_id"),
            cast(literal_column("reg.xmin"), Text).label("reg_xmin"),
        )
        .select_from(
            o.join(
                reg,
                and_(reg.c.tenant_id == T, reg.c.code == o.c.division_code, valid_at(reg, shape)),
            )
        )
        .where(
            o.c.tenant_id == T,
            or_(false(), *ranges),
            active_at(o, shape),
            ~(o.c.id == any_(bindparam("done", type_=IDS))),
        )
    )
    if roster:
        stmt = stmt.where(o.c.id == any_(bindparam("roster", type_=IDS)))
    return stmt


def _batch_points(
    session: Session,
    f: CoverageFilter,
    counties: list[str],
    done: list[int],
    roster_ids: Sequence[int] | None,
) -> tuple[_Points, list[Hashable]]:
    """The other offices of the batches: active offices registered in the counties (or, for a
    roster, the roster's offices there) that have a registered township at the date; with the
    key each one's landings are remembered under (see _remembered)."""
    stmt = _batch_statement(Shape.of(f), len(counties), roster_ids is not None)
    bounds = {f"lo{i}": code for i, code in enumerate(counties)}
    bounds |= {f"hi{i}": code + ":" for i, code in enumerate(counties)}
    params = {**f.params(), **bounds, "done": done, "roster": list(roster_ids or [])}
    rows = session.execute(stmt, params).all()
    points = _Points(
        [int(r.id) for r in rows],
        np.array([float(r.x) for r in rows]),
        np.array([float(r.y) for r in rows]),
    )
    # A landing is a function of the point and the township polygon alone: the office's point
    # and code, and the township version's id and row version (xmin changes when a correction
    # rewrites the polygon in place) name both.
    keys: list[Hashable] = [
        (f.tenant_id, r.id, float(r.x), float(r.y), r.division_code, r.reg_id, r.reg_xmin)
        for r in rows
    ]
    return points, keys


class _Remembered:
    """Batch members' landings already computed, by key (bounded, least recently used out).

    The other offices of a county's batch are the same from one request to the next; only the
    misplaced offices' own landings are computed afresh each time."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._members: OrderedDict[Hashable, Member] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable) -> Member | None:
        with self._lock:
            member = self._members.get(key)
            if member is not None:
                self._members.move_to_end(key)
            return member

    def put(self, key: Hashable, member: Member) -> None:
        with self._lock:
            self._members[key] = member
            self._members.move_to_end(key)
            while len(self._members) > self._size:
                self._members.popitem(last=False)


_remembered = _Remembered(50_000)


def _batch_members(
    session: Session,
    f: CoverageFilter,
    counties: list[str],
    done: list[int],
    roster_ids: Sequence[int] | None,
) -> list[Member]:
    """The other offices of the batches as members, computing only those not remembered."""
    points, keys = _batch_points(session, f, counties, done, roster_ids)
    known = {i: _remembered.get(key) for i, key in enumerate(keys)}
    fresh = [i for i, member in known.items() if member is None]
    if fresh:
        todo = _Points([points.ids[i] for i in fresh], points.lon[fresh], points.lat[fresh])
        computed = {m.office_id: m for m in _landings(session, f, todo, swap=False)}
        for i in fresh:
            member = computed.get(points.ids[i])
            if member is not None:
                _remembered.put(keys[i], member)
                known[i] = member
    return [m for m in known.values() if m is not None]


def _outside_province(session: Session, f: CoverageFilter, rows: Sequence[Suspect]) -> set[int]:
    """Offices (of `rows`) whose point lies outside their province."""
    # A point standing in a township of another province is outside its own; only points in
    # no township at all need the (large) province polygon.
    outside = {
        r.office_id
        for r in rows
        if r.located_code is not None and r.located_code[:2] != r.registered_code[:2]
    }
    nowhere = [r for r in rows if r.located_code is None]
    if nowhere:
        o, p = offices_as("o"), divisions_as("p")
        provinces = sorted({r.registered_code[:2] for r in nowhere})
        stmt = (
            select(o.c.id)
            .select_from(
                o.join(
                    p,
                    and_(
                        p.c.tenant_id == T,
                        p.c.code.in_(provinces),
                        func.starts_with(o.c.division_code, p.c.code),
                        valid_at(p, Shape.of(f)),
                    ),
                )
            )
            .where(
                o.c.tenant_id == T,
                o.c.id == any_(bindparam("ids", type_=IDS)),
                ~and_(p.c.geom.op("~")(o.c.geom), func.ST_Covers(p.c.geom, o.c.geom)),
            )
        )
        ids = [r.office_id for r in nowhere]
        outside |= set(session.scalars(stmt, {**f.params(), "ids": ids}))
    return outside


def diagnose(
    session: Session,
    f: CoverageFilter,
    rows: Sequence[Suspect],
    *,
    roster_ids: Sequence[int] | None = None,
) -> dict[int, Diagnosis]:
    """The diagnosis of each misplaced office of `rows`, by office id. Each row's batch is
    its county: the county's active offices, or with `roster_ids` the offices of one roster
    import in that county."""
    if not rows:
        return {}
    pts = _Points(
        [r.office_id for r in rows],
        np.array([float(r.lon) for r in rows]),
        np.array([float(r.lat) for r in rows]),
    )
    members = _landings(session, f, pts, swap=True)
    counties = sorted(
        {m.batch for m in members if any(m.landings[c].home for c in SHIFTS) and not m.home}
    )
    if counties:
        members += _batch_members(session, f, counties, pts.ids, roster_ids)
    verdicts = judge(members, scope="county" if roster_ids is None else "roster")
    unnamed = [r for r in rows if _named(verdicts.get(r.office_id)) is None]
    outside = _outside_province(session, f, unnamed)
    found = {}
    for r in rows:
        verdict = verdicts.get(r.office_id) or Verdict(None, None, None)
        label, confidence = verdict.label, verdict.confidence
        if _named(verdict) is None:
            if r.office_id in outside:
                label, confidence = "outside_province", 1.0
            elif r.located_code is None:
                label, confidence = "outside_townships", 1.0
        label_zh = LABELS_ZH.get(label or "")
        found[r.office_id] = Diagnosis(label, label_zh, confidence, verdict.evidence)
    return found


def _named(verdict: Verdict | None) -> str | None:
    """The correction a verdict names with confidence, if any."""
    if verdict is None or verdict.label not in CORRECTIONS:
        return None
    return verdict.label


def cause_text(d: Diagnosis) -> tuple[str, str]:
    """A diagnosis as a suffix to a problem, in English and in Chinese."""
    if d.label is None:
        return "", ""
    if d.label not in CORRECTIONS:
        return f" ({d.label})", f":{d.label_zh}"
    sure = d.confidence or 0.0
    return f" ({d.label}, confidence {sure:.2f})", f":{d.label_zh}(可信度{sure:.0%})"
