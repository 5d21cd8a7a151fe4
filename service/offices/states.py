"""An office's acceptance states (验收状态, docs/glossary.md) and their Chinese names, and which of
them hold the title 规范化司法所 — the one owner of this vocabulary: the workflow, the
reports, the pages, the maps and the demo data all read it from here."""

from __future__ import annotations

from enum import StrEnum


class AcceptanceState(StrEnum):
    """Where an office stands in the 规范化验收 workflow (docs/glossary.md)."""

    not_applied = "not_applied"
    self_checked = "self_checked"
    district_review = "district_review"  # 第一篇 五: applied to the district, awaiting its check
    applied = "applied"
    rejected = "rejected"
    accepted = "accepted"
    filed = "filed"
    recommended = "recommended"
    excellent = "excellent"
    revoked = "revoked"


ACCEPTANCE_LABELS_ZH: dict[str, str] = {  # (a state or its value as the key)
    AcceptanceState.not_applied: "未申报",
    AcceptanceState.self_checked: "已自查",
    AcceptanceState.district_review: "已向区(县)司法局申报待检查",
    AcceptanceState.applied: "已申报待验收",
    AcceptanceState.rejected: "验收未通过",
    AcceptanceState.accepted: "规范化司法所",
    AcceptanceState.filed: "已备案",
    AcceptanceState.recommended: "已推荐省司法厅考核",
    AcceptanceState.excellent: "省级规范化司法所",
    AcceptanceState.revoked: "已撤销称号",
}

# The states that hold the title (accepted and after: filed with the province, recommended
# for, or named, a provincial model office). A StrEnum member equals its value, so these
# serve as SQL parameters (`= ANY(:titled)`) and as dictionary keys alike.
TITLED: tuple[AcceptanceState, ...] = (
    AcceptanceState.accepted,
    AcceptanceState.filed,
    AcceptanceState.recommended,
    AcceptanceState.excellent,
)
