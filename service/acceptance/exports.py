"""Chinese column sets for the acceptance, progress and compliance tables as CSV/XLSX."""

from __future__ import annotations

from typing import Any

from service.acceptance.reports import PROGRESS_STATUS_ZH
from service.core.exports import Column

STATUS_ZH = PROGRESS_STATUS_ZH


def _pct(value: Any) -> Any:
    return None if value is None else round(float(value) * 100, 1)


# the columns that name an office (with its township and county), and a sub-region, the same
# in every table that lists them
OFFICE = [
    Column("id", "司法所编号"),
    Column("name", "司法所名称"),
    Column("division_code", "乡镇(街道)代码"),
    Column("division_name", "乡镇(街道)"),
    Column("county_name", "县(市、区)"),
]
REGION = [
    Column("code", "区划代码"),
    Column("name", "区划名称"),
]

ACCEPTANCE = [
    *OFFICE,
    Column("state_label", "验收状态"),
    Column("state_changed_on", "状态变更日期"),
    Column("accepted_on", "授予称号日期"),
    Column("reinspected_on", "最近复验日期"),
    Column("due_on", "应复验日期"),
    Column("overdue", "复验逾期"),
]
PROGRESS = [
    *REGION,
    Column("offices", "司法所数"),
    Column("offices_titled", "规范化司法所数"),
    Column("share", "规范化比例(%)", _pct),
    Column("target", "目标比例(%)(全省)", _pct),
    Column("status", "进度", lambda s: STATUS_ZH.get(s, s)),
    Column("short_of_target", "距目标尚差(所)"),
    Column("required", "应设司法所的乡镇(街道)数"),
    Column("accepted", "有规范化司法所的乡镇(街道)数"),
    Column("coverage_share", "乡镇覆盖比例(%)", _pct),
]
COMPLIANCE_REGIONS = [
    *REGION,
    Column("offices", "司法所数"),
    Column("compliant", "必备项全部达标数"),
    Column("compliance_rate", "达标比例(%)", _pct),
    Column("avg_score", "平均得分"),
    Column("most_failed_text", "未达标最多的要求"),
    Column("most_failed_count", "未达标所数"),
]
COMPLIANCE_CRITERIA = [
    Column("key", "条目编号"),
    Column("category", "类别"),
    Column("text", "要求"),
    Column("mandatory", "必备"),
    Column("passed", "达标所数"),
    Column("failed", "未达标所数"),
    Column("unknown", "缺少数据所数"),
]
CHECKLIST = [
    Column("key", "条目编号"),
    Column("category", "类别"),
    Column("text", "要求"),
    Column("source", "依据"),
    Column("mandatory", "必备"),
    Column("status_label", "结果"),
    Column("measured", "实际", lambda v: "、".join(v) if isinstance(v, list) else v),
    Column("required", "标准"),
    Column("todo", "缺什么补什么"),
]
SPOT_CHECKS = [
    *REGION,
    Column("filed", "已备案司法所数"),
    Column("sampled", "省厅已抽检数"),
    Column("share", "抽检比例(%)", _pct),
    Column("findings", "抽检发现问题数"),
    Column("last_sampled_on", "最近抽检日期"),
]

CIVILISED = [
    *OFFICE,
    Column("first_listed", "年度工作记录中首次列有文明司法所称号的年份"),
    Column("state_label", "验收状态"),
    Column("accepted_on", "通过验收日期"),
    Column("deadline", "验收期限"),
    Column("status_label", "结论"),
]
