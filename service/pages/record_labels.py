"""Chinese labels of the fields the record edit pages show (office details, facilities,
staff), and where on those pages each measure of the standards is recorded — so that an open
item of the checklist (缺什么补什么) links to the field that fills it."""

from __future__ import annotations

from service.records.models import (
    EDUCATION_LABELS_ZH,
    PARTY_ORGANISATION_LABELS_ZH,
    POSITION_LABELS_ZH,
)
from service.standards import measures

OFFICE_LABELS_ZH = {
    "name": "名称",
    "address": "地址",
    "phone": "电话",
    "area_m2": "办公用房面积(平方米)",
    "opened_on": "设立日期",
    "staff_total": "在岗人数",
    "staff_formal": "在编(正式)人数",
    "staff_civil_servants": "公务员人数",
    "exception_reason": "同一乡镇另设司法所的理由",
    "location": "位置",
    "location.lon": "经度",
    "location.lat": "纬度",
    "location.crs": "坐标系",
    "lon": "经度",
    "lat": "纬度",
    "crs": "坐标系",
    "division_code": "所在乡镇(街道)",
}
# the coordinate systems a point may be typed in on the page (the API takes a few more)
CRS_CHOICES = {
    "EPSG:4326": "WGS-84(GPS)",
    "GCJ02": "GCJ-02(高德、腾讯)",
    "BD09": "BD-09(百度)",
}

# facilities, in the groups the page shows them
FACILITY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("办公用房", ("own_premises", "separated_from_legal_service", "certificates", "rooms")),
    ("党组织和编制", ("party_organisation", "party_branch", "staff_establishment")),
    ("标牌和公开栏", ("displays",)),
    ("装备和车辆", ("equipment", "vehicles")),
    ("台账和制度", ("registers", "systems")),
    ("工作机制和做法", ("practices",)),
    (
        "工作成效(无年度工作记录时填写)",
        (
            "results_year",
            "mediation_success_rate",
            "key_assistance_rate",
            "key_placement_rate",
            "reoffending_rate",
        ),
    ),
)
FACILITY_LABELS_ZH = {
    "own_premises": "有独立(专用)办公用房",
    "separated_from_legal_service": "与法律服务所人员、印章、办公场所、财务分开",
    "party_organisation": "党组织",
    "party_branch": "已建立党支部或党小组(未选党组织类型时)",
    "staff_establishment": "编制数(人)",
    "results_year": "工作成效所属年度",
    "mediation_success_rate": "调解成功率(%)",
    "key_assistance_rate": "重点帮教对象帮教率(%)",
    "key_placement_rate": "重点帮教对象安置率(%)",
    "reoffending_rate": "刑释解教人员重新违法犯罪率(%)",
    **{name: measures.MEASURES[name][1] for name in measures.SET_ITEMS},
    **{name: measures.MEASURES[name][1] for name in measures.COUNT_ITEMS},
    **{name: measures.MEASURES[name][1] for name in measures.CHECK_ITEMS},
    # one item of a group: "equipment.computer" → 电脑
    **{
        f"{group}.{key}": label
        for group, items in {
            **measures.SET_ITEMS,
            **measures.COUNT_ITEMS,
            **measures.CHECK_ITEMS,
        }.items()
        for key, label in items.items()
    },
}
PARTY_CHOICES = {p.value: label for p, label in PARTY_ORGANISATION_LABELS_ZH.items()}

STAFF_LABELS_ZH = {
    "name": "姓名",
    "position": "职务",
    "phone": "电话",
    "education": "学历",
    "college": "大专以上学历",
    "law_major": "法律专业",
    "formal": "全供在编(正式)人员",
    "civil_servant": "公务员",
    "party_member": "中共党员",
    "heads_legal_service": "兼任法律服务所主任",
    "training_year": "培训年度",
    "training_days": "当年集中培训天数",
    "joined_on": "到岗日期",
    "left_on": "离岗日期",
    "reason": "离岗原因",
    "former_director": "原所长改任",
}
POSITION_CHOICES = {p.value: label for p, label in POSITION_LABELS_ZH.items()}
EDUCATION_CHOICES = {e.value: label for e, label in EDUCATION_LABELS_ZH.items()}

# where each measure is recorded: a field of the details or facilities page, the staff list,
# or the yearly work record on the office page (whose counts give the rates)
DETAIL_MEASURES = {"area_m2": "area_m2", "name_in_current_form": "name"}
FACILITY_MEASURES = {
    "own_premises": "own_premises",
    "separated_from_legal_service": "separated_from_legal_service",
    "party_organisation_ok": "party_organisation",
    "party_branch_ok": "party_organisation",
    "staff_shortfall": "staff_establishment",
    **{name: name for name in (*measures.SET_ITEMS, *measures.COUNT_ITEMS, *measures.CHECK_ITEMS)},
}
STAFF_MEASURES = frozenset(
    {
        "staff_count",
        "formal_staff_count",
        "civil_servant_count",
        "all_staff_formal",
        "college_staff_share",
        "staff_without_college_after_3_years",
        "new_staff_without_college",
        "party_member_count",
        "director_appointed",
        "director_civil_servant",
        "director_law_college",
        "director_not_legal_service_head",
        "director_training_days",
        "other_staff_min_training_days",
        "all_staff_min_training_days",
    }
)
WORK_MEASURES = frozenset(
    {
        "mediation_success_rate",
        "key_assistance_rate",
        "key_placement_rate",
        "reoffending_rate",
        "mediation_network_complete",
        "full_time_mediators",
        "mediator_min_training_days",
        "county_assessment_passed",
        "reports_on_time",
        "discipline_violations",
    }
)


def field_id(name: str) -> str:
    """The id of a field's input on its page (`equipment.computer` → f-equipment-computer)."""
    return "f-" + name.replace(".", "-")


def record_href(office_id: int, measure: str) -> str | None:
    """The page (and field) where the data a measure reads is recorded, or None."""
    base = f"/offices/{office_id}"
    root, _, item = measure.partition(".")
    if measure in DETAIL_MEASURES:
        return f"{base}/details#{field_id(DETAIL_MEASURES[measure])}"
    if root in FACILITY_MEASURES:
        target = f"{root}.{item}" if item else FACILITY_MEASURES[root]
        return f"{base}/facilities#{field_id(target)}"
    if measure in STAFF_MEASURES:
        return f"{base}/staff"
    if measure in WORK_MEASURES:
        return f"{base}#work-records"
    return None
