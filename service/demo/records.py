"""Demo records for the demo offices: facilities (with practices and 编制数), staff (with
generated names), yearly work records of last year and this one, and an acceptance history consistent with each office's state, so that compliance, the acceptance
overview and progress against the targets have something real-looking to show.

Facilities and staff are generated in SQL from md5 hashes of the office's external id
(deterministic, set-based, idempotent: only offices without records get them); histories are
planned per office in Python (dates depend on the path) and inserted in one statement.

Raw SQL by design (docs/architecture.md): set-based generation of demo rows, whole statements.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.acceptance.workflow import PROCEDURES, RULES, Procedure, Step
from service.demo.offices import unit
from service.offices import states
from service.standards import measures

TITLED = tuple(s.value for s in states.TITLED)  # (as an SQL list below)


def _h(expr: str) -> str:
    """A stable pseudo-random number in [0, 1) from a text expression, in SQL."""
    return f"(('x' || substr(md5({expr}), 1, 8))::bit(32)::bigint / 4294967296.0)"


def _has(salt: str) -> str:
    """Whether the office has item k: more likely the better the office (q)."""
    return _h("o.external_id || '" + salt + "' || k") + " < 0.45 + o.q * 0.6"


def _items(keys: str, salt: str) -> str:
    """The keys of :<keys> the office has."""
    return f"ARRAY(SELECT k FROM unnest(CAST(:{keys} AS text[])) k WHERE {_has(salt)})"


def _counts(keys: str, salt: str) -> str:
    """Item → count (1–3) of the keys of :<keys> the office has."""
    n = _h("o.external_id || k || 'n'")
    return (
        f"(SELECT coalesce(jsonb_object_agg(k, 1 + floor({n} * 3)::int), '{{}}'::jsonb)"
        f" FROM unnest(CAST(:{keys} AS text[])) k WHERE {_has(salt)})"
    )


_DEMO_OFFICES = f"""
SELECT o.id, o.external_id, o.staff_total, o.staff_formal, o.staff_civil_servants,
       CASE WHEN o.acceptance_state IN {TITLED} THEN 0.55 + 0.45 * {_h("o.external_id || 'q'")}
            ELSE {_h("o.external_id || 'q'")} END AS q
  FROM offices o
 WHERE o.tenant_id = :t AND o.external_id LIKE 'demo:%' AND o.closed_at IS NULL
"""

_FACILITIES = f"""
INSERT INTO office_facilities (tenant_id, office_id, own_premises, separated_from_legal_service,
    party_branch, party_organisation, rooms, certificates, displays, registers, systems, equipment, vehicles,
    results_year, mediation_success_rate, key_assistance_rate, key_placement_rate,
    reoffending_rate, practices, staff_establishment)
SELECT :t, o.id, o.q > 0.12, o.q > 0.2, o.q > 0.3,
       CASE WHEN o.q > 0.5 THEN 'branch' WHEN o.q > 0.3 THEN 'group' ELSE 'none' END,
       {_items("rooms", "r")}, {_items("certificates", "c")}, {_items("displays", "d")},
       {_items("registers", "g")}, {_items("systems", "s")},
       {_counts("equipment", "e")}, {_counts("vehicles", "v")},
       :year,
       least(100, round(85 + 15 * o.q + 5 * {_h("o.external_id || 'm'")}, 2)),
       CASE WHEN {_h("o.external_id || 'a'")} < 0.3 + o.q * 0.7 THEN 100
            ELSE round(90 + 10 * {_h("o.external_id || 'a2'")}, 2) END,
       CASE WHEN {_h("o.external_id || 'p'")} < 0.3 + o.q * 0.7 THEN 100
            ELSE round(85 + 15 * {_h("o.external_id || 'p2'")}, 2) END,
       round(6 * (1 - o.q) * {_h("o.external_id || 'o'")}, 2),
       (SELECT jsonb_object_agg(k, {_has("p")}) FROM unnest(CAST(:practices AS text[])) k),
       coalesce(o.staff_total, 0) + CASE WHEN {_h("o.external_id || 'est'")} < 0.3 + 0.7 * o.q
                                         THEN 0 ELSE 1 END
  FROM ({_DEMO_OFFICES}) o
 WHERE {_h("o.external_id || 'recorded'")} > 0.06
   AND NOT EXISTS (SELECT 1 FROM office_facilities f WHERE f.tenant_id = :t AND f.office_id = o.id)
"""

_STAFF = f"""
INSERT INTO office_staff (tenant_id, office_id, position, formal, civil_servant, college,
    law_major, party_member, heads_legal_service, training_year, training_days, joined_on)
SELECT :t, o.id, CASE WHEN i = 1 THEN 'director' ELSE 'staff' END,
       i <= o.staff_formal, i <= o.staff_civil_servants,
       {_h("o.external_id || i || 'c'")} < 0.55 + 0.45 * o.q,
       {_h("o.external_id || i || 'l'")} < CASE WHEN i = 1 THEN 0.5 + 0.5 * o.q ELSE 0.5 END,
       {_h("o.external_id || i || 'y'")} < 0.55,
       i = 1 AND {_h("o.external_id || 'head'")} < 0.15 * (1 - o.q),
       :year,
       floor(CASE WHEN i = 1 THEN 3 + 7 * o.q ELSE 2 + 5 * o.q END
             + 3 * {_h("o.external_id || i || 't'")})::int,
       DATE '2000-01-01' + floor({_h("o.external_id || i || 'j'")} * 8000)::int
  FROM ({_DEMO_OFFICES}) o, generate_series(1, coalesce(o.staff_total, 0)) AS i
 WHERE NOT EXISTS (SELECT 1 FROM office_staff s WHERE s.tenant_id = :t AND s.office_id = o.id)
"""

# the yearly work record (第四篇) of last year and this year: counts whose rates are about
# those typed with the facilities (the better the office, the better its year)
_WORK = f"""
INSERT INTO office_work_records (tenant_id, office_id, year, mediation_cases,
    mediation_successes, villages, mediation_committees, mediators, full_time_mediators,
    mediator_min_training_days, released_persons, key_persons, key_assisted, key_placed,
    reoffended, community_corrections, assistance_agreements, publicity_events,
    legal_aid_cases, rights_stations, discipline_violations, titles,
    county_assessment_passed, reports_on_time)
SELECT :t, o.id, y, w.cases,
       least(w.cases, round(w.cases * (0.86 + 0.14 * o.q + 0.04 * {_h("o.external_id || y || 'm'")}))),
       w.villages, w.villages - CASE WHEN {_h("o.external_id || y || 'v'")} < 0.4 + 0.6 * o.q
                                     THEN 0 ELSE 1 END,
       w.villages * 3, 1 + floor(2 * {_h("o.external_id || y || 'f'")})::int,
       floor(1 + 4 * o.q + 2 * {_h("o.external_id || y || 'd'")})::int,
       w.released, w.key_persons,
       w.key_persons - CASE WHEN {_h("o.external_id || y || 'a'")} < 0.3 + 0.7 * o.q
                            THEN 0 ELSE 1 END,
       w.key_persons - CASE WHEN {_h("o.external_id || y || 'p'")} < 0.3 + 0.7 * o.q
                            THEN 0 ELSE 1 END,
       floor(w.released * 0.06 * (1 - o.q) * {_h("o.external_id || y || 'o'")})::int,
       floor(3 + 10 * {_h("o.external_id || y || 'cc'")})::int, w.released,
       floor(4 + 12 * {_h("o.external_id || y || 'pe'")})::int,
       floor(2 + 8 * {_h("o.external_id || y || 'la'")})::int, 1,
       CASE WHEN {_h("o.external_id || y || 'x'")} < 0.03 THEN 1 ELSE 0 END,
       CASE WHEN o.q > 0.8 THEN ARRAY['civilised_unit'] ELSE '{{}}'::text[] END,
       {_h("o.external_id || y || 'ca'")} < 0.5 + 0.5 * o.q,
       {_h("o.external_id || y || 'rt'")} < 0.5 + 0.5 * o.q
  FROM ({_DEMO_OFFICES}) o
  CROSS JOIN generate_series(:year - 1, :year) AS y
  CROSS JOIN LATERAL (
    SELECT 20 + floor(80 * {_h("o.external_id || y || 'n'")})::int AS cases,
           8 + floor(20 * {_h("o.external_id || 'villages'")})::int AS villages,
           10 + floor(40 * {_h("o.external_id || y || 'r'")})::int AS released,
           1 + floor(8 * {_h("o.external_id || y || 'k'")})::int AS key_persons
  ) w
 WHERE EXISTS (SELECT 1 FROM office_facilities f WHERE f.tenant_id = :t AND f.office_id = o.id)
   AND NOT EXISTS (SELECT 1 FROM office_work_records r
                    WHERE r.tenant_id = :t AND r.office_id = o.id)
"""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉建国志宏海波峰文斌"

_PERSONAL = f"""
INSERT INTO office_staff_personal (tenant_id, staff_id, name, phone, education)
SELECT :t, s.id,
       substr(:surnames, 1 + floor({_h("s.id || 's'")} * length(:surnames))::int, 1)
       || substr(:given, 1 + floor({_h("s.id || 'g'")} * length(:given))::int, 1)
       || CASE WHEN {_h("s.id || 'two'")} < 0.6
               THEN substr(:given, 1 + floor({_h("s.id || 'g2'")} * length(:given))::int, 1)
               ELSE '' END,
       '13' || lpad((floor({_h("s.id || 'ph'")} * 1e9))::bigint::text, 9, '0'),
       CASE WHEN NOT s.college THEN 'below_college'
            WHEN {_h("s.id || 'e'")} < 0.35 THEN 'college'
            WHEN {_h("s.id || 'e'")} < 0.92 THEN 'bachelor' ELSE 'master' END
  FROM office_staff s
  JOIN offices o ON o.tenant_id = s.tenant_id AND o.id = s.office_id
 WHERE s.tenant_id = :t AND o.external_id LIKE 'demo:%'
   AND NOT EXISTS (SELECT 1 FROM office_staff_personal p
                    WHERE p.tenant_id = :t AND p.staff_id = s.id)
"""

PATHS: dict[str, list[str]] = {
    "self_checked": ["self_check"],
    "applied": ["self_check", "apply"],
    "rejected": ["self_check", "apply", "reject"],
    "accepted": ["self_check", "apply", "accept"],
    "filed": ["self_check", "apply", "accept", "file"],
    "recommended": ["self_check", "apply", "accept", "file", "recommend"],
    "excellent": ["self_check", "apply", "accept", "file", "recommend", "grant_excellent"],
    "revoked": ["self_check", "apply", "accept", "file", "reinspect_fail"],
}
# days after the first step at which each later step of a path happens
OFFSETS = {
    "apply": 30,
    "reject": 60,
    "accept": 60,
    "file": 90,
    "recommend": 420,
    "grant_excellent": 520,
    "reinspect_fail": 800,
}
ROLE_OF = {
    procedure: {step: sorted(r.value for r in rule.roles)[0] for step, rule in rules.items()}
    for procedure, rules in PROCEDURES.items()
}
# 山西's procedure (the province rates): no filing, sampling or provincial title
PROVINCE_RATES_STATES = {"filed": "accepted", "recommended": "accepted", "excellent": "accepted"}
PROVINCE_PATHS = {**PATHS, "revoked": ["self_check", "apply", "accept", "reinspect_fail"]}


def plan_history(
    ext: str, state: str, opened: date, today: date, procedure: Procedure = Procedure.city
) -> tuple[list[tuple[str, str, str, date]], date | None, date | None]:
    """(events as (step, from, to, day), accepted_on, reinspected_on) leading to `state`."""
    path = (PROVINCE_PATHS if procedure == Procedure.province else PATHS).get(state)
    if not path:
        return [], None, None
    titled_path = "accept" in path
    if titled_path:  # first step between 2004-11 and today - 900 days, after the opening
        start = max(date(2004, 11, 1), opened + timedelta(days=60))
        first = start + timedelta(days=int(unit(ext, "first") * max((today - start).days - 900, 1)))
    else:
        first = today - timedelta(days=30 + int(unit(ext, "first") * 700))
    first = max(first, opened + timedelta(days=1))
    events: list[tuple[str, str, str, date]] = []
    current = "not_applied"
    for name in path:
        day = min(first + timedelta(days=OFFSETS.get(name, 0)), today)
        target = RULES[Step(name)].target
        after = target.value if target else current
        events.append((name, current, after, day))
        current = after
    accepted = next((d for n, _, _, d in events if n == "accept"), None)
    reinspected = None
    if state in TITLED and accepted is not None:
        last = today - timedelta(days=int(unit(ext, "reinspect") * 900))
        if last > events[-1][3] + timedelta(days=30):
            reinspected = last
            events.append(("reinspect_pass", current, current, last))
    return events, accepted, reinspected


_EVENTS = """
INSERT INTO acceptance_events (tenant_id, office_id, action, from_state, to_state,
    effective_on, username, role, standard_id, inspection_date, inspectors, comment)
SELECT :t, o.id, u.step, u.from_state, u.to_state, u.day, 'demo', u.role,
       (SELECT s.id FROM standards s WHERE s.tenant_id = :t AND s.effective_from <= u.day
         ORDER BY s.effective_from DESC, s.version DESC LIMIT 1),
       CASE WHEN u.step IN ('accept', 'reject', 'grant_excellent', 'reinspect_pass', 'reinspect_fail')
            THEN u.day END,
       CASE WHEN u.step IN ('accept', 'reject', 'grant_excellent', 'reinspect_pass', 'reinspect_fail')
            THEN ARRAY['演示检查组'] END,
       '演示数据(生成)'
  FROM unnest(CAST(:exts AS text[]), CAST(:steps AS text[]), CAST(:froms AS text[]),
              CAST(:tos AS text[]), CAST(:days AS date[]), CAST(:roles AS text[]))
       AS u(ext, step, from_state, to_state, day, role)
  JOIN offices o ON o.tenant_id = :t AND o.external_id = u.ext
"""

_OFFICE_DATES = """
UPDATE offices o SET accepted_on = u.accepted, reinspected_on = u.reinspected,
       state_changed_on = u.changed,
       standard_id = (SELECT s.id FROM standards s WHERE s.tenant_id = :t
                       AND s.effective_from <= coalesce(u.reinspected, u.accepted, u.changed)
                       ORDER BY s.effective_from DESC, s.version DESC LIMIT 1)
  FROM unnest(CAST(:exts AS text[]), CAST(:accepted AS date[]), CAST(:reinspected AS date[]),
              CAST(:changed AS date[])) AS u(ext, accepted, reinspected, changed)
 WHERE o.tenant_id = :t AND o.external_id = u.ext
"""


def load_records(*, session: Session, tenant_id: int, today: date | None = None) -> dict[str, int]:
    """Records and histories for the tenant's demo offices that have none yet."""
    day = today or date.today()
    params: dict[str, Any] = {
        "t": tenant_id,
        "year": day.year,
        **{k: list(v) for k, v in measures.SET_ITEMS.items()},
        **{k: list(v) for k, v in measures.COUNT_ITEMS.items()},
        "practices": list(measures.PRACTICES),
    }
    procedure = _procedure(session, tenant_id)
    if procedure == Procedure.province:  # its states are only those the procedure reaches
        session.execute(
            text(
                "UPDATE offices SET acceptance_state = 'accepted' WHERE tenant_id = :t"
                " AND external_id LIKE 'demo:%' AND acceptance_state = ANY(CAST(:s AS text[]))"
                " AND NOT EXISTS (SELECT 1 FROM acceptance_events e WHERE e.tenant_id = :t"
                " AND e.office_id = offices.id)"
            ),
            {"t": tenant_id, "s": sorted(PROVINCE_RATES_STATES)},
        )
    facilities = session.execute(text(_FACILITIES), params).rowcount  # type: ignore[attr-defined]
    staff = session.execute(text(_STAFF), params).rowcount  # type: ignore[attr-defined]
    session.execute(text(_WORK), params)
    session.execute(text(_PERSONAL), {"t": tenant_id, "surnames": SURNAMES, "given": GIVEN})
    pending = session.execute(
        text(
            "SELECT o.external_id, o.acceptance_state, o.opened_on FROM offices o"
            " WHERE o.tenant_id = :t AND o.external_id LIKE 'demo:%'"
            " AND o.acceptance_state <> 'not_applied' AND NOT EXISTS (SELECT 1 FROM"
            " acceptance_events e WHERE e.tenant_id = :t AND e.office_id = o.id)"
        ),
        {"t": tenant_id},
    ).all()
    events: dict[str, list[Any]] = {
        k: [] for k in ("exts", "steps", "froms", "tos", "days", "roles")
    }
    dates: dict[str, list[Any]] = {k: [] for k in ("exts", "accepted", "reinspected", "changed")}
    for ext, state, opened in pending:
        history, accepted, reinspected = plan_history(ext, state, opened, day, procedure)
        for step, before, after, when in history:
            for key, value in zip(
                events,
                (ext, step, before, after, when, ROLE_OF[procedure][Step(step)]),
                strict=True,
            ):
                events[key].append(value)
        if history:
            for key, value in zip(dates, (ext, accepted, reinspected, history[-1][3]), strict=True):
                dates[key].append(value)
    if events["exts"]:
        session.execute(text(_EVENTS), {"t": tenant_id, **events})
        session.execute(text(_OFFICE_DATES), {"t": tenant_id, **dates})
    return {"facilities": facilities, "staff": staff, "histories": len(dates["exts"])}


def _procedure(session: Session, tenant_id: int) -> Procedure:
    """The procedure of the tenant's standard in force today (city when it has none)."""
    value = session.scalar(
        text(
            "SELECT procedure FROM standards WHERE tenant_id = :t AND effective_from <= :d"
            " ORDER BY effective_from DESC, version DESC LIMIT 1"
        ),
        {"t": tenant_id, "d": date.today()},
    )
    return Procedure(value or Procedure.city)
