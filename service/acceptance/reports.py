"""The city bureau's main screen (offices by acceptance state, per sub-region, with
re-inspections due) and progress against the tenant's target curve — set-based SQL."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from service.acceptance.models import AcceptanceEvent
from service.acceptance.predicates import TITLED_STATES, is_titled, reinspection_due
from service.acceptance.rows import (
    AcceptanceOverview,
    CivilisedOffice,
    CivilisedReport,
    CivilisedRule,
    OfficeInState,
    Progress,
    ProgressReport,
    ProgressRow,
    RegionStates,
    Reinspections,
    SpotCheckReport,
    SpotCheckRow,
    SpotCheckTotal,
    TargetInForce,
    TargetStep,
)
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.binds import LIMIT, OFFSET, SOON, TODAY
from service.core.db import fetch_dicts, plan_for_values
from service.core.errors import Invalid
from service.coverage.predicates import (
    AS_OF,
    Shape,
    T,
    active_at,
    divisions_as,
    in_region,
    offices_as,
    towns,
)
from service.coverage.query import CoverageFilter
from service.divisions.kinds import LEVEL_WIDTH
from service.offices.schemas import DUE_SOON_DAYS
from service.offices.states import ACCEPTANCE_LABELS_ZH, TITLED, AcceptanceState
from service.standards import service as standards
from service.standards.compliance import division_names
from service.standards.models import Standard, Target
from service.tenants.policy import reinspection_months


def child_width(region: str, level: str | None) -> int:
    """Code length of the sub-regions a report is broken down by (default: one level down)."""
    if level is None:
        return {0: 2, 2: 4, 4: 6, 6: 9, 9: 9}[len(region)]
    width = LEVEL_WIDTH[level]
    if width <= len(region):
        raise Invalid(
            f"level {level} must be below region {region or 'all'}",
            [{"field": "level", "problem": "choose a level below the region"}],
        )
    return width


TODAY_SHAPE = Shape(dated=False, kinds=False)  # (in_region reads no date)
W = bindparam("w", type_=Integer)  # code length of the sub-regions
STATE = bindparam("state", type_=String)
LAST = bindparam("last", type_=Date)
DAYS = bindparam("days", type_=ARRAY(Date))
EVENTS = AcceptanceEvent.__table__
_INFINITY: ColumnElement[date] = literal_column("'infinity'::date")


def _open_in_region(o: FromClause) -> list[ColumnElement[bool]]:
    """Office `o` is open today and registered in the region."""
    return [o.c.tenant_id == T, o.c.closed_at.is_(None), in_region(o.c.division_code, TODAY_SHAPE)]


def _due(o: FromClause) -> FromClause:
    """`r` (due_on): office `o`'s re-inspection due date, computed once per office."""
    return select(reinspection_due(o).label("due_on")).correlate(o).lateral("r")


@cache
def _counts() -> Select:
    """Offices of the region by sub-region and state, with the re-inspections overdue and due
    soon among them: one pass, the counts of the cards, the table and the to-do list."""
    o = offices_as("o")
    r = _due(o)
    return (
        select(
            func.left(o.c.division_code, W).label("sub"),
            o.c.acceptance_state.label("state"),
            func.count().label("n"),
            func.count().filter(r.c.due_on < TODAY).label("overdue"),
            func.count().filter(r.c.due_on.between(TODAY, SOON)).label("due_soon"),
        )
        .select_from(o.join(r, true()))
        .where(*_open_in_region(o))
        .group_by("sub", o.c.acceptance_state)
    )


@cache
def _page(*, due: bool, by_state: bool) -> Select:
    """A page of the region's offices (their township and county named): the latest changes
    first (optionally of one state), or the re-inspections due soon by due date. The count
    of all that match comes from `_counts`."""
    o = offices_as("o")
    r = _due(o)
    where = _open_in_region(o)
    latest = [o.c.state_changed_on.desc().nulls_last(), o.c.id]
    if due:
        where.append(r.c.due_on <= SOON)
        order = [r.c.due_on, *latest]
    else:
        if by_state:
            where.append(o.c.acceptance_state == STATE)
        order = latest
    page = (
        select(
            o.c.id,
            o.c.name,
            o.c.division_code,
            o.c.acceptance_state.label("state"),
            o.c.state_changed_on,
            o.c.accepted_on,
            o.c.reinspected_on,
            r.c.due_on,
        )
        .select_from(o.join(r, true()))
        .where(*where)
        .order_by(*order)
        .limit(LIMIT)
        .offset(OFFSET)
        .cte("page")
    )
    d, c = divisions_as("d"), divisions_as("c")
    named = page.outerjoin(
        d, and_(d.c.tenant_id == T, d.c.code == page.c.division_code, d.c.valid_to.is_(None))
    ).outerjoin(c, and_(c.c.tenant_id == T, c.c.code == d.c.parent_code, c.c.valid_to.is_(None)))
    again = [page.c.state_changed_on.desc().nulls_last(), page.c.id]
    return (
        select(page, d.c.name.label("division_name"), c.c.name.label("county_name"))
        .select_from(named)
        .order_by(*([page.c.due_on, *again] if due else again))
    )


def acceptance_overview(
    *,
    session: Any,
    scope: Scope,
    region: str,
    state: str | None,
    level: str | None,
    limit: int,
    offset: int,
    due_limit: int = 200,
) -> AcceptanceOverview:
    """Offices of a region by acceptance state: counts per sub-region, a page of offices
    (optionally of one state), and the re-inspections overdue or due within 90 days (the
    first `due_limit` of them, and how many there are)."""
    scope.require(Action.read)
    width = child_width(region, level)
    today = date.today()
    months = reinspection_months(session, scope.tenant_id)
    params = {
        "t": scope.tenant_id,
        "region": region,
        "titled": list(TITLED),
        "months": months,
        "w": width,
        "state": state,
        "today": today,
        "soon": today + timedelta(days=DUE_SOON_DAYS),
        "limit": limit,
        "offset": offset,
    }
    plan_for_values(session)
    counts = fetch_dicts(session, _counts(), params)
    # (limit 0: the counts alone, as the dashboard asks)
    items = (
        fetch_dicts(session, _page(due=False, by_state=state is not None), params) if limit else []
    )
    due = fetch_dicts(
        session, _page(due=True, by_state=False), {**params, "limit": due_limit, "offset": 0}
    )
    names = division_names(session, scope.tenant_id, sorted({c["sub"] for c in counts}))
    states = [s.value for s in AcceptanceState]
    by_sub: dict[str, dict[str, int]] = {}
    overdue = due_soon = 0
    for c in counts:
        by_sub.setdefault(c["sub"], dict.fromkeys(states, 0))[c["state"]] = c["n"]
        overdue += c["overdue"]
        due_soon += c["due_soon"]
    totals = dict.fromkeys(states, 0)
    for per in by_sub.values():
        for s, n in per.items():
            totals[s] += n

    def titled(per: dict[str, int]) -> int:
        return sum(per[s] for s in TITLED)

    return AcceptanceOverview(
        region=region,
        state=state,
        state_labels={s.value: ACCEPTANCE_LABELS_ZH[s] for s in AcceptanceState},
        counts=totals,
        offices=sum(totals.values()),
        titled=titled(totals),
        regions=tuple(
            RegionStates(
                code=sub,
                name=names.get(sub),
                counts=per,
                offices=sum(per.values()),
                titled=titled(per),
            )
            for sub, per in sorted(by_sub.items())
        ),
        items=tuple(OfficeInState.of(i, today) for i in items),
        total=totals[state] if state else sum(totals.values()),
        limit=limit,
        offset=offset,
        reinspection=Reinspections(
            # the first `due_limit` of each, by due date; the counts are of all
            overdue=tuple(OfficeInState.of(i, today) for i in due if i["due_on"] < today),
            due_soon=tuple(OfficeInState.of(i, today) for i in due if i["due_on"] >= today),
            overdue_count=overdue,
            due_soon_count=due_soon,
            period_months=months,
            # the period is provincial policy: the documents leave it open (复验办法另行制定)
            policy_note=f"复验周期为本省政策规定的{months}个月"
            "(规范化文件未规定复验周期,复验办法另行制定)",
        ),
    )


@cache
def _progress(historical: bool) -> Select:
    """Per sub-region: required townships and those with a titled office (coverage), and the
    offices themselves and those titled (第二篇 二 counts 全省 司法所: the targets' denominator).
    At a past date an office's state is its last acceptance event's on or before it."""
    shape = Shape(dated=historical, kinds=False)
    t = towns(shape)
    req = select(t.c.code).where(t.c.required).cte("req")
    o = offices_as("o")
    if historical:
        e = EVENTS.alias("e")
        st = (
            select(e.c.to_state)
            .where(e.c.tenant_id == T, e.c.office_id == o.c.id, e.c.effective_on <= AS_OF)
            .order_by(e.c.effective_on.desc(), e.c.id.desc())
            .limit(1)
            .correlate(o)
            .lateral("st")
        )
        offices = (
            select(o.c.division_code, (st.c.to_state == any_(TITLED_STATES)).label("titled"))
            .select_from(o.outerjoin(st, true()))
            .where(o.c.tenant_id == T, in_region(o.c.division_code, shape), active_at(o, shape))
        )
    else:
        offices = select(o.c.division_code, is_titled(o).label("titled")).where(
            o.c.tenant_id == T, o.c.closed_at.is_(None), in_region(o.c.division_code, shape)
        )
    offs = offices.cte("offs").prefix_with("MATERIALIZED")
    acc = select(offs.c.division_code).where(offs.c.titled).distinct().cte("acc")
    by_req = (
        select(
            func.left(req.c.code, W).label("sub"),
            func.count().label("required"),
            func.count(acc.c.division_code).label("accepted"),
        )
        .select_from(req.outerjoin(acc, acc.c.division_code == req.c.code))
        .group_by("sub")
        .cte("by_req")
    )
    by_office = (
        select(
            func.left(offs.c.division_code, W).label("sub"),
            func.count().label("offices"),
            func.count().filter(offs.c.titled).label("offices_titled"),
        )
        .group_by("sub")
        .cte("by_office")
    )
    sub = func.coalesce(by_req.c.sub, by_office.c.sub).label("sub")
    return (
        select(
            sub,
            func.coalesce(by_req.c.required, 0).label("required"),
            func.coalesce(by_req.c.accepted, 0).label("accepted"),
            func.coalesce(by_office.c.offices, 0).label("offices"),
            func.coalesce(by_office.c.offices_titled, 0).label("offices_titled"),
        )
        .select_from(by_req.outerjoin(by_office, by_office.c.sub == by_req.c.sub, full=True))
        .order_by(sub)
    )


PROGRESS_STATUS_ZH = {
    "on_track": "按期",
    "behind": "落后",
    "reached": "已达力争目标",
    "short_of_aspiration": "未达力争目标",
    "no_target": "无目标",
    "no_offices": "无司法所",
}


def _status(offices: int, share: float | None, target: Target | None) -> str:
    """no_target (none in force: the standards set none, or the first is still ahead);
    no_offices; on_track / behind a binding target; reached / short_of_aspiration for a 力争 step,
    which the documents hope for but do not bind regions to."""
    if target is None:
        return "no_target"
    if not offices:
        return "no_offices"
    met = share is not None and share >= float(target.share)
    if target.aspirational:
        return "reached" if met else "short_of_aspiration"
    return "on_track" if met else "behind"


def progress(
    *, session: Any, scope: Scope, region: str, as_of: date | None, level: str | None
) -> ProgressReport:
    """Share of the 司法所 that hold the title (accepted, filed, recommended, excellent) — the
    denominator of 第二篇 二 ("全省…的司法所") — against the tenant's target at the date, per
    sub-region; beside it the coverage view: required townships with a titled office.

    The documents set the share for the whole province; a city or county is measured against
    that same share as a yardstick (`yardstick: true`), not a target of its own."""
    scope.require(Action.read)
    today = date.today()
    day = as_of or today
    historical = day < today
    f = CoverageFilter(
        tenant_id=scope.tenant_id,
        region=region,
        as_of=day if historical else None,
        required_kinds=scope.required_kinds,
    )
    width = child_width(region, level)
    plan_for_values(session)
    rows = fetch_dicts(
        session, _progress(historical), {**f.params(), "titled": list(TITLED), "w": width}
    )
    all_targets = standards.targets_of(session=session, tenant_id=scope.tenant_id)
    targets = standards.curve_for(all_targets, region)
    in_force, next_target = standards.target_at(targets, day)
    names = division_names(session, scope.tenant_id, [r["sub"] for r in rows])

    def judged(row: dict[str, Any], code: str) -> Progress:
        curve = standards.curve_for(all_targets, code)
        own, _ = standards.target_at(curve, day)
        offices, titled = row["offices"], row["offices_titled"]
        share = round(titled / offices, 4) if offices else None
        target = float(own.share) if own else None
        needed = max(0, math.ceil(offices * target - 1e-9) - titled) if target else None
        required, accepted = row["required"], row["accepted"]
        return Progress(
            offices=offices,
            offices_titled=titled,
            share=share,
            target=target,
            status=_status(offices, share, own),
            short_of_target=needed,
            required=required,
            accepted=accepted,
            coverage_share=round(accepted / required, 4) if required else None,
        )

    keys = ("required", "accepted", "offices", "offices_titled")
    total = {k: sum(r[k] for r in rows) for k in keys}
    return ProgressReport(
        region=region,
        as_of=day,
        required_kinds=tuple(scope.required_kinds),
        target=TargetInForce(
            share=float(in_force.share) if in_force else None,
            due_on=in_force.due_on if in_force else None,
            aspirational=in_force.aspirational if in_force else None,
            next_due_on=next_target.due_on if next_target else None,
            next_share=float(next_target.share) if next_target else None,
        ),
        curve=tuple(
            TargetStep(due_on=t.due_on, share=float(t.share), aspirational=t.aspirational)
            for t in targets
        ),
        total=judged(total, region),
        regions=tuple(
            ProgressRow(
                **asdict(judged(r, r["sub"])),
                code=r["sub"],
                name=names.get(r["sub"]),
                # judged by the schedule of a wider region, not one set for it
                yardstick=any(
                    t.region_code != r["sub"] for t in standards.curve_for(all_targets, r["sub"])
                ),
            )
            for r in rows
        ),
    )


@cache
def _shares_at(whole_tenant: bool) -> Select:
    """Offices open on each day and those titled then. Each acceptance event holds its state
    from its day until the office's next event (`lead`): one pass over the events in index
    order, instead of looking the last event up for every office and day (4x faster for a
    nation). A region's events are found from its offices; the whole tenant's are read first
    and joined after: planned through row-level security, the offices are guessed at 1/70
    of their number, and the region's way became one index probe per office of the nation."""
    o = offices_as("o")
    offs = (
        select(
            o.c.id,
            o.c.opened_on,
            # open on a day: opened_on <= day < gone
            func.coalesce(cast(o.c.closed_at, Date), _INFINITY).label("gone"),
        )
        .where(o.c.tenant_id == T, in_region(o.c.division_code, TODAY_SHAPE), o.c.opened_on <= LAST)
        .cte("offs")
        .prefix_with("MATERIALIZED")
    )
    e = EVENTS.alias("e")
    until = func.lead(e.c.effective_on).over(
        partition_by=e.c.office_id, order_by=(e.c.effective_on, e.c.id)
    )
    if whole_tenant:
        x = (
            select(
                e.c.office_id, e.c.to_state, e.c.effective_on.label("since"), until.label("until")
            )
            .where(e.c.tenant_id == T, e.c.effective_on <= LAST)
            .subquery("x")
        )
        events = select(
            x.c.since, x.c.until, x.c.to_state, offs.c.opened_on, offs.c.gone
        ).select_from(x.join(offs, offs.c.id == x.c.office_id))
    else:
        events = (
            select(
                e.c.effective_on.label("since"),
                until.label("until"),
                e.c.to_state,
                offs.c.opened_on,
                offs.c.gone,
            )
            .select_from(offs.join(e, and_(e.c.tenant_id == T, e.c.office_id == offs.c.id)))
            .where(e.c.effective_on <= LAST)
        )
    s = events.subquery("s")
    spans = (
        select(
            s.c.since,
            func.coalesce(s.c.until, _INFINITY).label("until"),
            s.c.opened_on,
            s.c.gone,
        )
        .where(s.c.to_state == any_(TITLED_STATES))
        .cte("spans")
        .prefix_with("MATERIALIZED")
    )
    d = func.unnest(DAYS).table_valued("day").render_derived(name="d")
    open_then = (
        select(func.count())
        .select_from(offs)
        .where(offs.c.opened_on <= d.c.day, offs.c.gone > d.c.day)
        .scalar_subquery()
    )
    titled_then = (
        select(func.count())
        .select_from(spans)
        .where(
            spans.c.since <= d.c.day,
            spans.c.until > d.c.day,
            spans.c.opened_on <= d.c.day,
            spans.c.gone > d.c.day,
        )
        .scalar_subquery()
    )
    return select(d.c.day, open_then.label("offices"), titled_then.label("titled")).order_by(
        d.c.day
    )


def shares_at(
    *, session: Any, scope: Scope, region: str, days: list[date]
) -> dict[date, float | None]:
    """The region's share of titled offices on each of `days` (None: no office then), in one
    pass — the same count as `progress(as_of=day).total.share` (offices open that day,
    titled by their last acceptance event on or before it), for drawing a curve."""
    scope.require(Action.read)
    if not days:
        return {}
    plan_for_values(session)
    rows = fetch_dicts(
        session,
        _shares_at(region == ""),
        {
            "t": scope.tenant_id,
            "region": region,
            "days": days,
            "last": max(days),
            "titled": list(TITLED),
        },
    )
    return {r["day"]: round(r["titled"] / r["offices"], 4) if r["offices"] else None for r in rows}


# 第二篇 四: the province samples "适当比例" of what the cities file — how large a share, per
# city (or county), with the findings; offices count where they are registered, by the events
# on or before the date.
_SAMPLED = """
WITH filed AS (
  SELECT o.id, left(o.division_code, :w) AS sub
    FROM offices o
   WHERE o.tenant_id = :t AND starts_with(o.division_code, :region)
     AND EXISTS (SELECT 1 FROM acceptance_events e WHERE e.tenant_id = :t
                  AND e.office_id = o.id AND e.action = 'file' AND e.effective_on <= :day)
), checked AS (
  SELECT e.office_id, bool_or(e.action = 'spot_check_fail') AS finding, max(e.effective_on) AS last
    FROM acceptance_events e
   WHERE e.tenant_id = :t AND e.office_id IN (SELECT id FROM filed)
     AND e.action IN ('spot_check_pass', 'spot_check_fail') AND e.effective_on <= :day
   GROUP BY e.office_id
)
SELECT f.sub, count(*) AS filed, count(c.office_id) AS sampled,
       count(*) FILTER (WHERE c.finding) AS findings, max(c.last) AS last_sampled_on
  FROM filed f LEFT JOIN checked c ON c.office_id = f.id
 GROUP BY f.sub ORDER BY f.sub
"""


def spot_checks(
    *, session: Any, scope: Scope, region: str, as_of: date | None, level: str | None
) -> SpotCheckReport:
    """Per sub-region: offices filed with the province, how many it sampled (spot checks),
    the share sampled and the findings (a finding never revokes: the city re-inspects)."""
    scope.require(Action.read)
    day = as_of or date.today()
    rows = fetch_dicts(
        session,
        _SAMPLED,
        {"t": scope.tenant_id, "region": region, "w": child_width(region, level), "day": day},
    )
    names = division_names(session, scope.tenant_id, [r["sub"] for r in rows])

    def share(filed: int, sampled: int) -> float | None:
        return round(sampled / filed, 4) if filed else None

    regions = tuple(
        SpotCheckRow(
            code=r["sub"],
            name=names.get(r["sub"]),
            filed=r["filed"],
            sampled=r["sampled"],
            findings=r["findings"],
            last_sampled_on=r["last_sampled_on"],
            share=share(r["filed"], r["sampled"]),
        )
        for r in rows
    )
    filed = sum(r.filed for r in regions)
    sampled = sum(r.sampled for r in regions)
    return SpotCheckReport(
        region=region,
        as_of=day,
        total=SpotCheckTotal(
            filed=filed,
            sampled=sampled,
            findings=sum(r.findings for r in regions),
            share=share(filed, sampled),
        ),
        regions=regions,
    )


# 第二篇 四: "已命名的文明司法所……在2年内经验收达不到规范化要求的,取消其文明司法所称号" — the
# offices whose yearly work record lists the 文明司法所 title, and when each was first accepted
_CIVILISED = """
SELECT o.id, o.name, o.division_code, d.name AS division_name, c.name AS county_name,
       o.acceptance_state AS state, min(r.year) AS first_listed, max(r.year) AS last_listed,
       (SELECT min(e.effective_on) FROM acceptance_events e
         WHERE e.tenant_id = :t AND e.office_id = o.id AND e.action = 'accept'
           AND e.effective_on <= :day) AS accepted_on
  FROM offices o
  JOIN office_work_records r ON r.tenant_id = o.tenant_id AND r.office_id = o.id
                            AND 'civilised_office' = ANY(r.titles) AND r.year <= :year
  JOIN divisions d ON d.tenant_id = o.tenant_id AND d.id = o.division_id
  LEFT JOIN divisions c ON c.tenant_id = d.tenant_id AND c.code = d.parent_code
                       AND c.valid_to IS NULL
 WHERE o.tenant_id = :t AND o.closed_at IS NULL AND starts_with(o.division_code, :region)
 GROUP BY o.tenant_id, o.id, d.name, c.name
 ORDER BY o.division_code, o.id
"""
CIVILISED_STATUS_ZH = {
    "met": "已按期通过验收",
    "revoke": "逾期未通过验收,应取消文明司法所称号",
    "pending": "期限内,尚未通过验收",
}


def civilised_offices(
    *, session: Any, scope: Scope, region: str, as_of: date | None
) -> CivilisedReport:
    """Offices named 文明司法所 against the deadline a standard sets them (第二篇 四: accepted
    within 2 years of the standard, or the title is to be withdrawn): met, revoke or pending.
    The rule runs from the earliest standard in force that sets it; none → no rule, no list."""
    scope.require(Action.read)
    day = as_of or date.today()
    rule = session.execute(
        select(Standard)
        .where(
            Standard.tenant_id == scope.tenant_id,
            Standard.civilised_title_years.is_not(None),
            Standard.effective_from <= day,
        )
        .order_by(Standard.effective_from, Standard.version)
        .limit(1)
    ).scalar_one_or_none()
    if rule is None:
        return CivilisedReport(region=region, as_of=day, rule=None, counts={}, items=())
    deadline = add_years(rule.effective_from, rule.civilised_title_years or 0)
    rows = fetch_dicts(
        session, _CIVILISED, {"t": scope.tenant_id, "region": region, "day": day, "year": day.year}
    )
    items = []
    for r in rows:
        accepted = r["accepted_on"]
        if accepted is not None and accepted <= deadline:
            status = "met"
        elif day > deadline:
            status = "revoke"
        else:
            status = "pending"
        items.append(
            CivilisedOffice(
                **r,
                status=status,
                status_label=CIVILISED_STATUS_ZH[status],
                state_label=ACCEPTANCE_LABELS_ZH[AcceptanceState(r["state"])],
                deadline=deadline,
            )
        )
    return CivilisedReport(
        region=region,
        as_of=day,
        rule=CivilisedRule(
            standard=rule.title,
            version=rule.version,
            source="第二篇 四",
            effective_from=rule.effective_from,
            years=rule.civilised_title_years,
            deadline=deadline,
        ),
        counts={s: sum(1 for r in items if r.status == s) for s in CIVILISED_STATUS_ZH},
        items=tuple(items),
    )


def add_years(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
