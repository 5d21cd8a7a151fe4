"""The vocabulary criteria are written in: what can be measured of an office, and the item
keys of its sets (rooms, equipment, registers …), each with its Chinese label.

A criterion names one measure (`staff_count`, `rooms`, `equipment.computer` …) and a test on
it; the facts SQL (facts.py) computes every measure for many offices at once. A measure is
NULL — the criterion "unknown" — when the office has not recorded the data it rests on.
"""

from __future__ import annotations

from enum import StrEnum


class MeasureType(StrEnum):
    number = "number"
    boolean = "boolean"
    set = "set"  # a set of item keys (rooms, registers, systems, certificates, displays)
    counts = "counts"  # item key → count (equipment, vehicles); `equipment.computer` is a number
    checks = "checks"  # item key → yes/no (practices); `practices.complaint_box` is a boolean


class Op(StrEnum):
    """How a criterion tests its measure."""

    ge = ">="
    gt = ">"
    le = "<="
    lt = "<"
    eq = "="
    is_true = "is_true"
    is_false = "is_false"
    has_all = "has_all"  # the set (or the items with count > 0) holds every listed key
    has_any = "has_any"  # … at least one of them


NUMBER_OPS = frozenset({Op.ge, Op.gt, Op.le, Op.lt, Op.eq})
BOOLEAN_OPS = frozenset({Op.is_true, Op.is_false})
SET_OPS = frozenset({Op.has_all, Op.has_any})

ROOMS = {
    "director_office": "所长办公室",
    "staff_office": "工作人员办公室",
    "general_office": "办公室",
    "community_correction_room": "社区矫正办公室",
    "resettlement_correction_room": "安置帮教和社区矫正工作室",
    "archive_room": "档案资料室",
    "mediation_room": "人民调解庭(调解室)",
    "legal_service_room": "法律服务室",
    "legal_aid_room": "法律援助工作室",
    "reception_room": "群众来访接待室",
    "meeting_room": "会议室",
}
EQUIPMENT = {
    "phone": "电话",
    "fax": "传真机",
    "desks_chairs": "办公桌椅",
    "mediation_furniture": "人民调解庭桌椅",
    "computer": "电脑",
    "printer": "打印机",
    "copier": "复印机",
    "camera": "照相机",
    "video_camera": "摄像机",
    "audio_recorder": "录音机",
    "tv": "电视机",
    "dvd_player": "DVD机",
    "loudspeaker": "扩音机",
    "air_conditioner": "空调",
    "filing_cabinet": "文件柜(资料柜)",
    "archive_cabinet": "档案柜",
    "law_books": "常用法律书籍和工具书",
}
VEHICLES = {
    "car": "汽车(司法警车)",
    "motorcycle": "摩托车",
}
DISPLAYS = {
    "standard_sign": "全省统一规范的司法所标牌",
    "justice_emblem": "司法行政徽",
    "standard_seal": "统一规范的印章和文书格式",
    "publicity_board": "法制宣传栏",
    "disclosure_board": "政务公开栏",
    "whereabouts_board": "工作人员去向明示栏",
    "room_signs": "房间职能标识牌",
    "duty_boards": "室内版面(职责、分工、纪律、制度、人员照片)",
}
CERTIFICATES = {
    "land_certificate": "土地证",
    "property_certificate": "房产证(产权确权证明)",
}
REGISTERS = {
    # 河南 2004 (第二篇 三(四)8): 四簿两册
    "visitor_register": "来信来访登记簿",
    "study_meeting_register": "学习会议登记簿",
    "publicity_register": "法制宣传登记簿",
    "mediation_register": "调解纠纷登记簿",
    "mediator_roster": "人民调解员花名册",
    "released_persons_roster": "刑释解教人员花名册",
    # 河南 2009 (第五篇 25): 业务台账登记册
    "dispute_ledger": "民间纠纷调处情况登记册",
    "dispute_screening_ledger": "民间纠纷专项排查治理登记册",
    "resettlement_ledger": "刑释解教人员安置帮教情况登记册",
    "community_correction_ledger": "社区矫正对象基本情况和工作情况登记册",
    "publicity_ledger": "法制宣传教育情况登记册",
    "governance_ledger": "参与综合治理情况登记册",
    "meeting_minutes": "司法所会议记录册",
    "major_case_ledger": "重大案件讨论情况登记册",
}
SYSTEMS = {
    "study_meeting": "学习例会(政治业务学习)制度",
    "post_responsibility": "岗位(目标)责任制度",
    "integrity": "廉政(勤政)建设制度",
    "archives": "档案管理制度",
    "petition": "信访工作制度",
    "reporting": "(重大事项)请示汇报制度",
    "dispute_screening": "排查调处制度",
    "business_registration": "业务登记制度",
    "registration_statistics": "登记、统计制度",
    "evaluation": "考核评比(考评奖惩)制度",
    "legal_publicity": "法制宣传工作制度",
    "report_submission": "统计表报制度",
    "disclosure": "(业务)公开公示制度",
    "enforcement_accountability": "执法监督与执法过错责任追究制度",
    "asset_management": "办公设备及交通工具管理制度",
    "rapid_response": "突发、易激化事件快速反应机制",
    "collective_discussion": "重大事项集体研讨制度",
    "mediation_work": "人民调解工作制度",
    "community_correction_work": "社区矫正工作制度",
    "resettlement_work": "安置帮教工作制度",
    "governance_work": "依法治理工作制度",
    "legal_aid_work": "法律援助工作制度",
}

# Practices the documents ask for, recorded one by one as yes/no (office_facilities.practices):
# a practice not recorded is unknown, so adding one here never turns a record into a failure.
PRACTICES = {
    # 第一篇 四(二)、四(四)
    "self_study_incentive": "鼓励自学成才的激励机制",
    "police_justice_110": "“110”公安司法联动工作制度",
    "networked_office": "网络办公系统",
    # 第二篇 三(四)1、5, 三(五)6
    "weekly_study_monthly_meeting": "每周半个工作日学习、每月工作例会",
    "complaint_box": "投诉信箱",
    "publicity_rotated": "定期更换法制宣传内容",
    # 第三篇 三(一)—(五)
    "director_deputy_section_rank": "所长享受副科待遇",
    "party_affiliation_clear": "党员隶属关系明确(不具备建立党支部条件的)",
    "training_system": "教育培训制度",
    "induction_training": "新录用人员经岗前培训",
    "mediation_court_layout": "统一的调解庭布局",
    "workflow_rules": "工作流程制度",
    # 第五篇 第6、8、11、17、26、27、29条
    "youth_league_organised": "有3名以上正式团员的已建立团支部或团小组(不足3名的为是)",
    "recruitment_by_exam": "政法专项编制人员“凡进必考”",
    "director_provincial_rotation": "所长参加省司法厅集中轮训",
    "released_persons_database": "辖区刑释解教人员信息库",
    "premises_not_lent": "办公用房未转借、出让、出租",
    "no_other_signs": "未悬挂其他标牌",
    "asset_ledger": "业务装备资产账目",
}
# the titles a yearly work record may list (第四篇; 第二篇 四 for 文明司法所)
TITLES = {
    "civilised_unit": "文明单位",
    "civilised_office": "文明司法所",
    "standard_office": "规范化司法所",
    "provincial_standard_office": "省级规范化司法所",
    "advanced_unit": "先进集体",
}

SET_ITEMS: dict[str, dict[str, str]] = {
    "rooms": ROOMS,
    "displays": DISPLAYS,
    "certificates": CERTIFICATES,
    "registers": REGISTERS,
    "systems": SYSTEMS,
}
COUNT_ITEMS: dict[str, dict[str, str]] = {"equipment": EQUIPMENT, "vehicles": VEHICLES}
CHECK_ITEMS: dict[str, dict[str, str]] = {"practices": PRACTICES}  # item → yes/no

# measure → (type, Chinese label, unit)
MEASURES: dict[str, tuple[MeasureType, str, str]] = {
    # staffing (counts from the office record, kept in step with its staff list)
    "staff_count": (MeasureType.number, "工作人员数", "人"),
    # 第三篇 三(一) 按编制配齐: establishment (编制数) less staff, never below 0
    "staff_shortfall": (MeasureType.number, "按编制缺员人数", "人"),
    "formal_staff_count": (MeasureType.number, "在编(正式)工作人员数", "人"),
    "civil_servant_count": (MeasureType.number, "公务员人数", "人"),
    "all_staff_formal": (MeasureType.boolean, "工作人员全部为全供在编(正式)人员", ""),
    # from the staff list (unknown until staff are recorded)
    "college_staff_share": (MeasureType.number, "大专以上学历人员占比", "%"),
    # 第二篇 三(二)2: staff without the degree have 3 years from appointment (joined_on)
    "staff_without_college_after_3_years": (
        MeasureType.number,
        "任职满3年仍无大专以上学历的工作人员数",
        "人",
    ),
    # 第一篇 四(二): staff who joined on or after the standard took effect
    "new_staff_without_college": (
        MeasureType.number,
        "标准施行后新进、无大专以上学历的工作人员数",
        "人",
    ),
    "party_member_count": (MeasureType.number, "中共党员人数", "人"),
    "party_organisation_ok": (MeasureType.boolean, "有3名以上党员的已建立党支部或党小组", ""),
    "party_branch_ok": (MeasureType.boolean, "有3名以上党员的已建立党支部", ""),
    "director_appointed": (MeasureType.boolean, "已设所长", ""),
    "director_civil_servant": (MeasureType.boolean, "所长为公务员", ""),
    "director_law_college": (MeasureType.boolean, "所长具有大专以上法律专业学历", ""),
    "director_not_legal_service_head": (MeasureType.boolean, "所长未兼任法律服务所主任", ""),
    "director_training_days": (MeasureType.number, "所长本年度集中培训天数", "天"),
    "other_staff_min_training_days": (MeasureType.number, "其他工作人员本年度最少培训天数", "天"),
    "all_staff_min_training_days": (MeasureType.number, "全体工作人员本年度最少培训天数", "天"),
    # premises
    # naming (第五篇 第1条)
    "name_in_current_form": (
        MeasureType.boolean,
        "名称为“xx县(市、区)司法局xx司法所”(不含乡镇街道字样)",
        "",
    ),
    "area_m2": (MeasureType.number, "办公用房面积", "平方米"),
    "own_premises": (MeasureType.boolean, "有独立(专用)办公用房", ""),
    "separated_from_legal_service": (
        MeasureType.boolean,
        "与法律服务所人员、印章、办公场所、财务分开",
        "",
    ),
    "rooms": (MeasureType.set, "功能用房", ""),
    "certificates": (MeasureType.set, "土地证或产权证明", ""),
    "displays": (MeasureType.set, "标牌、标识和公开栏", ""),
    "equipment": (MeasureType.counts, "办公和宣传设备", "台(件)"),
    "vehicles": (MeasureType.counts, "业务用车", "辆"),
    # management
    "registers": (MeasureType.set, "业务登记簿册(台账)", ""),
    "systems": (MeasureType.set, "管理制度", ""),
    "practices": (MeasureType.checks, "工作机制和做法", ""),
    # work results of the year (第五篇 14、17): computed from the counts of the yearly work
    # record (第四篇) where there is one, else the rates as typed
    "mediation_success_rate": (MeasureType.number, "调解成功率", "%"),
    "key_assistance_rate": (MeasureType.number, "重点帮教对象帮教率", "%"),
    "key_placement_rate": (MeasureType.number, "重点帮教对象安置率", "%"),
    "reoffending_rate": (MeasureType.number, "刑释解教人员重新违法犯罪率", "%"),
    # from the yearly work record (第五篇 第14条; 第三篇 三(二)3, 三(五))
    "mediation_network_complete": (
        MeasureType.boolean,
        "村(社区)人民调解委员会全覆盖",
        "",
    ),
    "full_time_mediators": (MeasureType.number, "专职人民调解员人数", "人"),
    "mediator_min_training_days": (MeasureType.number, "人民调解员本年度最少集中培训天数", "天"),
    "county_assessment_passed": (MeasureType.boolean, "县级司法行政机关年度考核合格", ""),
    "reports_on_time": (MeasureType.boolean, "按要求及时上报报表", ""),
    "discipline_violations": (MeasureType.number, "工作人员违法违纪人次", "人次"),
}


def measure_type(measure: str) -> MeasureType | None:
    """The type of `measure`, where `equipment.computer` (a count) is a number."""
    if measure in MEASURES:
        return MEASURES[measure][0]
    root, _, key = measure.partition(".")
    if root in COUNT_ITEMS and key in COUNT_ITEMS[root]:
        return MeasureType.number
    if root in CHECK_ITEMS and key in CHECK_ITEMS[root]:
        return MeasureType.boolean
    return None


def measure_label(measure: str) -> tuple[str, str]:
    """(Chinese label, unit) of a measure, e.g. ("电脑", "台(件)") for `equipment.computer`."""
    if measure in MEASURES:
        _, label, unit = MEASURES[measure]
        return label, unit
    root, _, key = measure.partition(".")
    if root in CHECK_ITEMS:
        return CHECK_ITEMS[root][key], ""
    return COUNT_ITEMS[root][key], MEASURES[root][2]


def item_labels(measure: str) -> dict[str, str]:
    """Item key → Chinese label for a set or counts measure ({} for the others)."""
    return SET_ITEMS.get(measure) or COUNT_ITEMS.get(measure) or CHECK_ITEMS.get(measure) or {}
