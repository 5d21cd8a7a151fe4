"""Why a misplaced office's point may be wrong — the causes the diagnosis (diagnosis.py)
tells apart — and their Chinese names, for tables, pages and filters."""

from __future__ import annotations

from typing import Literal

LABELS_ZH = {
    "gcj02": "坐标疑似为GCJ-02(高德/腾讯)坐标,未转换为WGS-84",
    "bd09": "坐标疑似为BD-09(百度)坐标,未转换为WGS-84",
    "swapped": "经度与纬度疑似颠倒",
    "unknown": "原因不明:按坐标换算可落入登记乡镇,但证据不足,也可能确实位于相邻乡镇",
    "outside_province": "坐标位于本省边界之外",
    "outside_townships": "坐标不在任何乡镇(街道)范围内",
}
CORRECTIONS_ZH = {"gcj02": "GCJ-02坐标未转换", "bd09": "BD-09坐标未转换", "swapped": "经纬度颠倒"}
# the `?diagnosis=` filter: a label, or "none" for offices with no diagnosis
DiagnosisFilter = Literal[
    "gcj02", "bd09", "swapped", "unknown", "outside_province", "outside_townships", "none"
]
