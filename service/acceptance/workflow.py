"""The 规范化验收 workflow as an explicit state machine (docs/glossary.md; 第二篇 四, 第一篇 五).

Each step: the states it starts from, the state it leads to (None = stays), the roles that
take it, and what it needs (a passing check against the standard in force, inspection date
and inspectors, reasons). Nothing else may change an office's acceptance state.

Which steps exist, and who takes them, is the procedure of the standard in force (data:
`standards.procedure`): `city` — 河南 (第二篇 四): the city accepts and grants the title, the
province files, samples and grants its own title; `province` — 山西 (第三篇 四(一)): the
province's 领导组办公室 does the 考核评定, so the province accepts, rejects and revokes, and
there is no filing, sampling or provincial title step; `district` — 第一篇 五: the office
applies to the district (区局), whose leading group inspects it and, when it passes, applies to
the city; from there on as `city`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from service.accounts.roles import Role
from service.offices.states import TITLED as TITLED_STATES
from service.offices.states import AcceptanceState as S

PROVINCE = frozenset({Role.province_admin, Role.province_planner})
TITLED = frozenset(TITLED_STATES)


class Step(StrEnum):
    self_check = "self_check"
    apply = "apply"
    withdraw = "withdraw"
    reject = "reject"
    accept = "accept"
    file = "file"
    spot_check_pass = "spot_check_pass"
    spot_check_fail = "spot_check_fail"
    recommend = "recommend"
    grant_excellent = "grant_excellent"
    decline_excellent = "decline_excellent"
    reinspect_pass = "reinspect_pass"
    reinspect_fail = "reinspect_fail"
    revoke_provincial = "revoke_provincial"
    apply_district = "apply_district"
    district_pass = "district_pass"
    district_fail = "district_fail"


@dataclass(frozen=True)
class Rule:
    label: str
    sources: frozenset[S]
    target: S | None  # None: the state stays (a passed spot check or re-inspection)
    roles: frozenset[Role]
    needs_standard_met: bool = False  # every mandatory criterion of the standard in force
    needs_inspection: bool = False  # inspection_date and inspectors
    needs_reasons: bool = False


RULES: dict[Step, Rule] = {
    Step.self_check: Rule(
        "自查",
        frozenset({S.not_applied, S.self_checked, S.rejected, S.revoked}),
        S.self_checked,
        frozenset({Role.office_staff, Role.county_bureau}),
    ),
    Step.apply: Rule(
        "县司法局申报验收",
        frozenset({S.self_checked}),
        S.applied,
        frozenset({Role.county_bureau}),
        needs_standard_met=True,
    ),
    # (also from the district's review: an office left there when its standard changed
    # procedure can be taken back)
    Step.withdraw: Rule(
        "撤回申报",
        frozenset({S.applied, S.district_review}),
        S.self_checked,
        frozenset({Role.county_bureau}),
    ),
    Step.reject: Rule(
        "验收不通过(退回)",
        frozenset({S.applied}),
        S.rejected,
        frozenset({Role.city_bureau}),
        needs_inspection=True,
        needs_reasons=True,
    ),
    Step.accept: Rule(
        "验收通过,授予“规范化司法所”称号",
        frozenset({S.applied}),
        S.accepted,
        frozenset({Role.city_bureau}),
        needs_standard_met=True,
        needs_inspection=True,
    ),
    Step.file: Rule("省司法厅备案", frozenset({S.accepted}), S.filed, PROVINCE),
    Step.spot_check_pass: Rule(
        "省司法厅抽检合格", frozenset(TITLED), None, PROVINCE, needs_inspection=True
    ),
    # 第二篇 四: the province samples what the cities file "以指导和协调" — it finds, it does not
    # revoke; the city's re-inspection decides
    Step.spot_check_fail: Rule(
        "省司法厅抽检发现问题(指导和协调,不撤销称号)",
        frozenset(TITLED),
        None,
        PROVINCE,
        needs_inspection=True,
        needs_reasons=True,
    ),
    Step.recommend: Rule(
        "市司法局推荐省级规范化司法所",
        frozenset({S.filed}),
        S.recommended,
        frozenset({Role.city_bureau}),
    ),
    # after the province's own 考核: an inspection on record, as for `accept`
    Step.grant_excellent: Rule(
        "省司法厅考核合格,授予省级规范化司法所",
        frozenset({S.recommended}),
        S.excellent,
        PROVINCE,
        needs_inspection=True,
    ),
    Step.decline_excellent: Rule(
        "省司法厅考核不予授予", frozenset({S.recommended}), S.filed, PROVINCE, needs_reasons=True
    ),
    Step.reinspect_pass: Rule(
        "定期复验合格",
        frozenset(TITLED),
        None,
        frozenset({Role.city_bureau}),
        needs_standard_met=True,
        needs_inspection=True,
    ),
    # a city revokes the title it granted, never the one the province granted
    Step.reinspect_fail: Rule(
        "定期复验不合格,撤销称号",
        frozenset(TITLED - {S.excellent}),
        S.revoked,
        frozenset({Role.city_bureau}),
        needs_inspection=True,
        needs_reasons=True,
    ),
    # the province's own title: the province takes it back, and the city's title remains
    Step.revoke_provincial: Rule(
        "省司法厅复验不合格,撤销省级称号",
        frozenset({S.excellent}),
        S.filed,
        PROVINCE,
        needs_inspection=True,
        needs_reasons=True,
    ),
}


class Procedure(StrEnum):
    city = "city"  # 河南 第二篇 四
    province = "province"  # 山西 第三篇 四(一)
    district = "district"  # 第一篇 五


def _checked_by_the_district(rules: dict[Step, Rule]) -> dict[Step, Rule]:
    """第一篇 五: "各司法所……进行自查,达到规范化司法所目标后,向区局申报。区局创建规范化司法所
    领导小组……进行检查,经检查合格后申报市司法局考核、验收" — the office applies to the district,
    the district (the county-level bureau) inspects and applies to the city."""
    out: dict[Step, Rule] = {step: rule for step, rule in rules.items() if step != Step.apply}
    out[Step.apply_district] = Rule(
        "司法所自查达标,向区(县)司法局申报",
        frozenset({S.self_checked}),
        S.district_review,
        frozenset({Role.office_staff, Role.county_bureau}),
        needs_standard_met=True,
    )
    out[Step.district_pass] = Rule(
        "区(县)司法局领导小组检查合格,申报市司法局考核验收",
        frozenset({S.district_review}),
        S.applied,
        frozenset({Role.county_bureau}),
        needs_standard_met=True,
        needs_inspection=True,
    )
    out[Step.district_fail] = Rule(
        "区(县)司法局检查不合格,退回整改",
        frozenset({S.district_review}),
        S.self_checked,
        frozenset({Role.county_bureau}),
        needs_inspection=True,
        needs_reasons=True,
    )
    return out


def _rated_by_the_province(rules: dict[Step, Rule]) -> dict[Step, Rule]:
    """山西: the province rates (accepts, rejects, revokes); cities and counties check."""
    province_rates = (Step.self_check, Step.apply, Step.withdraw, Step.reinspect_pass)
    out = {step: rules[step] for step in province_rates}
    for step in (Step.accept, Step.reject):
        out[step] = replace(rules[step], roles=PROVINCE)
    out[Step.accept] = replace(out[Step.accept], label="省司法厅领导组办公室考核评定合格,授予称号")
    out[Step.reject] = replace(out[Step.reject], label="省司法厅领导组办公室考核评定不合格(退回)")
    out[Step.reinspect_pass] = replace(
        rules[Step.reinspect_pass], roles=frozenset({Role.city_bureau, *PROVINCE})
    )
    out[Step.reinspect_fail] = replace(
        rules[Step.reinspect_fail], sources=frozenset({S.accepted}), roles=PROVINCE
    )
    return out


PROCEDURES: dict[Procedure, dict[Step, Rule]] = {
    Procedure.city: RULES,
    Procedure.province: _rated_by_the_province(RULES),
    Procedure.district: _checked_by_the_district(RULES),
}


def allowed_steps(state: S, role: Role, procedure: Procedure = Procedure.city) -> list[Step]:
    """The steps `role` may take on an office in `state` (region permitting)."""
    rules = PROCEDURES[procedure]
    return [step for step, rule in rules.items() if state in rule.sources and role in rule.roles]


def steps_from(state: S, procedure: Procedure = Procedure.city) -> list[Step]:
    """Every step any role may take from `state`."""
    return [step for step, rule in PROCEDURES[procedure].items() if state in rule.sources]
