"""The measurable requirements the encoded standards lacked (issue 16, "missing"): each is added
to the seed and, for tenants that have published the standard, to a new version.

They read what migration 0014 made recordable — practices (yes/no per requirement), the
office's 编制数 and the yearly work record — so for every existing office they are unknown
until recorded, never failed. The new version takes the next number and the same effective
date (it is the version in force wherever the old one was); every other criterion is copied as
it was. Published versions are append-only: the old version stays, and offices judged under
it keep it. docs/standards.md has a row for each (clause, quoted text, reading).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

from alembic import op
from sqlalchemy import text

from migrations import ddl

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY = "system:migration-0015"
# standard code → the criteria its latest version gains (appended after its last position)
ADDED: dict[str, list[dict[str, Any]]] = {
    "district-2005": [
        {
            "key": "QU2005-SELF-STUDY",
            "category": "管理制度",
            "text": "建立健全有利于不断提高队伍素质和执法水平的政治、业务学习制度和鼓励自学成才的激励机制。",
            "source": "第一篇 四(二)",
            "mandatory": True,
            "measure": "practices.self_study_incentive",
            "op": "is_true",
            "missing": "需建立鼓励自学成才的激励机制",
        },
        {
            "key": "QU2005-110",
            "category": "管理制度",
            "text": "建立健全与开展业务相配套的……“110”公安司法联动等工作的登记、检查、统计和档案管理制度。",
            "source": "第一篇 四(四)",
            "mandatory": True,
            "measure": "practices.police_justice_110",
            "op": "is_true",
            "missing": "需建立“110”公安司法联动工作制度",
        },
        {
            "key": "QU2005-NETWORK-OFFICE",
            "category": "基础设施",
            "text": "两台以上电脑(尽快实现网络办公系统)。",
            "source": "第一篇 四(四)",
            "mandatory": False,
            "measure": "practices.networked_office",
            "op": "is_true",
            "missing": "尽快实现网络办公系统",
        },
    ],
    "henan-2004": [
        {
            "key": "HN2004-STUDY-MEETING",
            "category": "管理制度",
            "text": "学习例会制度:每周至少安排半个工作日为政治业务学习时间;每月应定期召开工作例会。",
            "source": "第二篇 三(四)1",
            "mandatory": True,
            "measure": "practices.weekly_study_monthly_meeting",
            "op": "is_true",
            "missing": "需每周安排半个工作日学习、每月召开工作例会",
        },
        {
            "key": "HN2004-COMPLAINT-BOX",
            "category": "管理制度",
            "text": "信访工作制度:设立投诉信箱,热情接待群众来访。",
            "source": "第二篇 三(四)5",
            "mandatory": True,
            "measure": "practices.complaint_box",
            "op": "is_true",
            "missing": "需设立投诉信箱",
        },
        {
            "key": "HN2004-PUBLICITY-ROTATED",
            "category": "基础设施",
            "text": "建立符合规范要求的法制宣传栏,定期更换法制宣传内容。",
            "source": "第二篇 三(五)6",
            "mandatory": True,
            "measure": "practices.publicity_rotated",
            "op": "is_true",
            "missing": "需定期更换法制宣传内容",
        },
    ],
    "shanxi-2008": [
        {
            "key": "SX2008-ESTABLISHMENT",
            "category": "队伍建设",
            "text": "司法所机构单设、编制单列,按编制配齐人员。",
            "source": "第三篇 三(一)",
            "mandatory": True,
            "measure": "staff_shortfall",
            "op": "<=",
            "missing": "需按编制配齐工作人员",
            "threshold": 0,
        },
        {
            "key": "SX2008-DIRECTOR-RANK",
            "category": "队伍建设",
            "text": "司法所所长享受副科待遇。",
            "source": "第三篇 三(二)1",
            "mandatory": False,
            "measure": "practices.director_deputy_section_rank",
            "op": "is_true",
            "missing": "所长应享受副科待遇(商县级组织人事部门落实)",
        },
        {
            "key": "SX2008-PARTY-AFFILIATION",
            "category": "队伍建设",
            "text": "不具备建立党支部条件的,要明确党员隶属关系。",
            "source": "第三篇 三(二)2",
            "mandatory": True,
            "measure": "practices.party_affiliation_clear",
            "op": "is_true",
            "missing": "需明确党员隶属关系",
        },
        {
            "key": "SX2008-TRAINING-SYSTEM",
            "category": "队伍建设",
            "text": "建立健全以基本素质教育为主要内容的多形式、多层次、多渠道的教育培训制度。",
            "source": "第三篇 三(二)3",
            "mandatory": True,
            "measure": "practices.training_system",
            "op": "is_true",
            "missing": "需建立教育培训制度",
        },
        {
            "key": "SX2008-INDUCTION",
            "category": "队伍建设",
            "text": "建立新录用人员岗前培训制度。今后,新录用人员必须由市级司法行政机关培训。试用合格并报省级司法行政机关备案后,方可正式上岗。",
            "source": "第三篇 三(二)4",
            "mandatory": True,
            "measure": "practices.induction_training",
            "op": "is_true",
            "missing": "新录用人员需经市级岗前培训、报省备案后上岗",
        },
        {
            "key": "SX2008-COUNTY-ASSESSMENT",
            "category": "队伍建设",
            "text": "县级司法行政机关每年对司法所人员进行考核,并征求当地党委、政府的意见。",
            "source": "第三篇 三(二)4",
            "mandatory": True,
            "measure": "county_assessment_passed",
            "op": "is_true",
            "missing": "需经县级司法行政机关年度考核合格",
        },
        {
            "key": "SX2008-MEDIATION-LAYOUT",
            "category": "基础设施",
            "text": "司法所应具备统一的调解庭布局。",
            "source": "第三篇 三(三)1",
            "mandatory": True,
            "measure": "practices.mediation_court_layout",
            "op": "is_true",
            "missing": "调解庭需按统一布局设置",
        },
        {
            "key": "SX2008-WORKFLOW",
            "category": "管理制度",
            "text": "建立一套科学、规范、高效的工作流程制度,确保各项工作有效落实。",
            "source": "第三篇 三(五)",
            "mandatory": True,
            "measure": "practices.workflow_rules",
            "op": "is_true",
            "missing": "需建立工作流程制度",
        },
        {
            "key": "SX2008-REPORTS",
            "category": "管理制度",
            "text": "按上级部门要求及时上报相关报表。",
            "source": "第三篇 三(五)8",
            "mandatory": True,
            "measure": "reports_on_time",
            "op": "is_true",
            "missing": "需按要求及时上报报表",
        },
    ],
    "henan-2009": [
        {
            "key": "HN2009-YOUTH-LEAGUE",
            "category": "队伍建设",
            "text": "司法所有3名正式党(团)员的,应建立党(团)支部或党小组。",
            "source": "第五篇 第6条",
            "mandatory": True,
            "measure": "practices.youth_league_organised",
            "op": "is_true",
            "missing": "有3名以上正式团员的应建立团支部或团小组",
        },
        {
            "key": "HN2009-EXAM",
            "category": "队伍建设",
            "text": "司法所政法专项编制工作人员……录取必须坚持“凡进必考”的原则。",
            "source": "第五篇 第8条",
            "mandatory": True,
            "measure": "practices.recruitment_by_exam",
            "op": "is_true",
            "missing": "政法专项编制人员录取需坚持“凡进必考”",
        },
        {
            "key": "HN2009-INDUCTION",
            "category": "队伍建设",
            "text": "新录用司法所工作人员必须参加岗前培训,由县(市、区)司法局统一组织。",
            "source": "第五篇 第11条",
            "mandatory": True,
            "measure": "practices.induction_training",
            "op": "is_true",
            "missing": "新录用工作人员需参加岗前培训",
        },
        {
            "key": "HN2009-DIRECTOR-ROTATION",
            "category": "队伍建设",
            "text": "省司法厅组织司法所长培训班,用2年的时间,对全省司法所长集中轮训一遍。",
            "source": "第五篇 第11条",
            "mandatory": False,
            "measure": "practices.director_provincial_rotation",
            "op": "is_true",
            "missing": "所长应参加省司法厅集中轮训",
        },
        {
            "key": "HN2009-MEDIATION-NETWORK",
            "category": "业务工作",
            "text": "在抓好乡、村、组三级人民调解组织的基础上……实现人民调解组织网络全覆盖。",
            "source": "第五篇 第14条",
            "mandatory": True,
            "measure": "mediation_network_complete",
            "op": "is_true",
            "missing": "需实现村(社区)人民调解委员会全覆盖",
        },
        {
            "key": "HN2009-FULLTIME-MEDIATOR",
            "category": "业务工作",
            "text": "积极推进专职人民调解员队伍建设,力争用3-5年时间,全省所有人民调解委员会配备至少1名专职人民调解员。",
            "source": "第五篇 第14条",
            "mandatory": False,
            "measure": "full_time_mediators",
            "op": ">=",
            "missing": "力争配备专职人民调解员",
            "threshold": 1,
        },
        {
            "key": "HN2009-MEDIATOR-TRAINING",
            "category": "业务工作",
            "text": "确保人民调解员每年有不少于3天的集中培训机会。",
            "source": "第五篇 第14条",
            "mandatory": True,
            "measure": "mediator_min_training_days",
            "op": ">=",
            "missing": "人民调解员每年集中培训需不少于3天",
            "threshold": 3,
        },
        {
            "key": "HN2009-RELEASED-DB",
            "category": "业务工作",
            "text": "建立本辖区刑释解教人员信息库。",
            "source": "第五篇 第17条",
            "mandatory": True,
            "measure": "practices.released_persons_database",
            "op": "is_true",
            "missing": "需建立本辖区刑释解教人员信息库",
        },
        {
            "key": "HN2009-PREMISES-NOT-LENT",
            "category": "基础设施",
            "text": "加强司法所办公用房管理,严禁转接、出让和出租办公用房。",
            "source": "第五篇 第26条",
            "mandatory": True,
            "measure": "practices.premises_not_lent",
            "op": "is_true",
            "missing": "办公用房不得转接、出让或出租",
        },
        {
            "key": "HN2009-NO-OTHER-SIGNS",
            "category": "基础设施",
            "text": "除悬挂司法行政徽、司法所标牌外,不得悬挂其他任何标牌、标识。",
            "source": "第五篇 第27条",
            "mandatory": True,
            "measure": "practices.no_other_signs",
            "op": "is_true",
            "missing": "除司法行政徽、司法所标牌外不得悬挂其他标牌、标识",
        },
        {
            "key": "HN2009-ASSET-LEDGER",
            "category": "基础设施",
            "text": "建立业务装备动态管理机制,建立业务装备资产账目。",
            "source": "第五篇 第29条",
            "mandatory": True,
            "measure": "practices.asset_ledger",
            "op": "is_true",
            "missing": "需建立业务装备资产账目",
        },
    ],
}


def upgrade() -> None:
    bind = op.get_bind()
    # (as the tables' owner, whom row-level security does not restrict)
    for code, criteria in ADDED.items():
        for tenant_id, standard_id in ddl.latest_standard_versions(bind, code):
            have = set(
                bind.scalars(
                    text(
                        "SELECT key FROM standard_criteria WHERE tenant_id = :t"
                        " AND standard_id = :s"
                    ),
                    {"t": tenant_id, "s": standard_id},
                )
            )
            absent = [c for c in criteria if c["key"] not in have]
            if absent:
                _publish_with(bind, tenant_id, standard_id, absent)


def _publish_with(bind: Any, tenant_id: int, standard_id: int, added: list[dict]) -> None:
    ddl.lock_standards(bind, tenant_id)
    keys = ", ".join(c["key"] for c in added)
    new = bind.scalar(
        text(
            "INSERT INTO standards (tenant_id, version, code, title, document, issued_on,"
            " effective_from, notes, published_by, procedure)"
            " SELECT tenant_id, (SELECT max(version) + 1 FROM standards WHERE tenant_id = :t),"
            " code, title, document, issued_on, effective_from, coalesce(notes, '') || :note,"
            " :by, procedure FROM standards WHERE tenant_id = :t AND id = :s RETURNING id"
        ),
        {
            "t": tenant_id,
            "s": standard_id,
            "note": f" Requirements added by migration 0015 (issue 16): {keys}.",
            "by": BY,
        },
    )
    bind.execute(
        text(
            "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category,"
            " text, source, kinds, mandatory, measure, op, threshold, item_values, missing)"
            " SELECT tenant_id, :new, key, position, category, text, source, kinds, mandatory,"
            " measure, op, threshold, item_values, missing FROM standard_criteria"
            " WHERE tenant_id = :t AND standard_id = :s"
        ),
        {"t": tenant_id, "s": standard_id, "new": new},
    )
    last = bind.scalar(
        text(
            "SELECT max(position) FROM standard_criteria WHERE tenant_id = :t AND standard_id = :s"
        ),
        {"t": tenant_id, "s": new},
    )
    for i, c in enumerate(added, start=1):
        bind.execute(
            text(
                "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category,"
                " text, source, mandatory, measure, op, threshold, missing)"
                " VALUES (:t, :s, :key, :position, :category, :text, :source, :mandatory,"
                " :measure, :op, CAST(:threshold AS numeric), :missing)"
            ),
            {"t": tenant_id, "s": new, "position": last + i, "threshold": None, **c},
        )


def downgrade() -> None:
    # Published versions are append-only (standards_append_only): the added versions stay;
    # they are valid versions of the standard whatever the schema revision.
    pass
