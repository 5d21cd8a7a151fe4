"""Division levels and kinds (行政区划层级与类型), and how a kind is read from a name or a label."""

from __future__ import annotations

import re
from enum import StrEnum


class DivisionLevel(StrEnum):
    """Administrative level, fixed by the length of the statistical code."""

    province = "province"  # 2 digits
    city = "city"  # 4 digits
    county = "county"  # 6 digits
    township = "township"  # 9 digits


# the length of a level's codes (a report broken down "by county" groups by 6 digits)
LEVEL_WIDTH: dict[str, int] = {"province": 2, "city": 4, "county": 6, "township": 9}


class DivisionKind(StrEnum):
    """What sort of unit a division is; township-level kinds as docs/glossary.md lists them."""

    province = "province"
    city = "city"
    district = "district"  # 市辖区
    county = "county"  # 县, 旗, 自治县, 特区, 林区
    county_city = "county_city"  # 县级市
    town = "town"  # 镇
    township = "township"  # 乡, 民族乡, 苏木
    street = "street"  # 街道
    development_zone = "development_zone"  # 开发区, 园区, 新区, 管理区 ...
    farm = "farm"  # 农场, 牧场, 种畜场 ...
    forest_area = "forest_area"  # 林场
    mining_area = "mining_area"  # 矿区
    other = "other"


CODE_LENGTH_LEVEL = {
    2: DivisionLevel.province,
    4: DivisionLevel.city,
    6: DivisionLevel.county,
    9: DivisionLevel.township,
}

TOWNSHIP_KINDS = frozenset(
    {
        DivisionKind.town,
        DivisionKind.township,
        DivisionKind.street,
        DivisionKind.development_zone,
        DivisionKind.farm,
        DivisionKind.forest_area,
        DivisionKind.mining_area,
        DivisionKind.other,
    }
)
LEVEL_KINDS: dict[DivisionLevel, frozenset[DivisionKind]] = {
    DivisionLevel.province: frozenset({DivisionKind.province}),
    DivisionLevel.city: frozenset({DivisionKind.city, DivisionKind.other}),
    DivisionLevel.county: frozenset(
        {
            DivisionKind.district,
            DivisionKind.county,
            DivisionKind.county_city,
            DivisionKind.development_zone,
            DivisionKind.forest_area,
            DivisionKind.other,
        }
    ),
    DivisionLevel.township: TOWNSHIP_KINDS,
}

KIND_LABELS_ZH: dict[str, str] = {  # (a kind or its value as the key)
    DivisionKind.province: "省",
    DivisionKind.city: "市",
    DivisionKind.district: "市辖区",
    DivisionKind.county: "县",
    DivisionKind.county_city: "县级市",
    DivisionKind.town: "镇",
    DivisionKind.township: "乡",
    DivisionKind.street: "街道",
    DivisionKind.development_zone: "开发区/园区",
    DivisionKind.farm: "农场",
    DivisionKind.forest_area: "林场",
    DivisionKind.mining_area: "矿区",
    DivisionKind.other: "其他",
}

# the township-level kinds and their names, in the enum's order (filters, legends, popups)
TOWNSHIP_KIND_LABELS_ZH: dict[str, str] = {
    k: label for k, label in KIND_LABELS_ZH.items() if k in TOWNSHIP_KINDS
}

# Chinese labels a file may carry in a "kind"/"类型" column, besides the English enum values.
_LABEL_TO_KIND = {
    "镇": DivisionKind.town,
    "乡": DivisionKind.township,
    "民族乡": DivisionKind.township,
    "苏木": DivisionKind.township,
    "街道": DivisionKind.street,
    "开发区": DivisionKind.development_zone,
    "园区": DivisionKind.development_zone,
    "农场": DivisionKind.farm,
    "林场": DivisionKind.forest_area,
    "矿区": DivisionKind.mining_area,
    "其他": DivisionKind.other,
    "区": DivisionKind.district,
    "市辖区": DivisionKind.district,
    "县": DivisionKind.county,
    "旗": DivisionKind.county,
    "县级市": DivisionKind.county_city,
    "省": DivisionKind.province,
    "市": DivisionKind.city,
}

_TOWNSHIP_SUFFIXES: list[tuple[re.Pattern[str], DivisionKind]] = [
    (re.compile(r"街道(办事处)?$"), DivisionKind.street),
    (re.compile(r"(镇|镇人民政府)$"), DivisionKind.town),
    (re.compile(r"(乡|苏木|地区)$"), DivisionKind.township),
    (re.compile(r"林场$|林业局$|林区$|苗圃$|森林公园$"), DivisionKind.forest_area),
    (re.compile(r"矿区$|煤矿$"), DivisionKind.mining_area),
    (
        re.compile(
            r"(农场|牧场|[种畜养殖渔茶果盐园艺马牛羊猪]+场|总场|农垦.*|[一二三四五六七八九十]+团)$"
        ),
        DivisionKind.farm,
    ),
    (
        re.compile(
            r"(开发区|园区|新区|示范区|工业区|管理区|管委会|产业园|高新区|试验区|实验区|"
            r"保税区|保税港区|经济区|合作区|度假区|风景区|旅游区|新城|科技城|生态城|片区|基地)"
            r"(（.*）)?$"
        ),
        DivisionKind.development_zone,
    ),
]

_COUNTY_SUFFIXES: list[tuple[re.Pattern[str], DivisionKind]] = [
    (re.compile(r"区$"), DivisionKind.district),
    (re.compile(r"(县|旗|特区|林区)$"), DivisionKind.county),
    (re.compile(r"市$"), DivisionKind.county_city),
]


def kind_from_label(label: str) -> DivisionKind | None:
    """A kind from an explicit label: the English enum value or a Chinese word (镇, 街道 ...)."""
    text = label.strip()
    if not text:
        return None
    try:
        return DivisionKind(text.lower())
    except ValueError:
        return _LABEL_TO_KIND.get(text)


def kind_from_name(name: str, level: DivisionLevel) -> DivisionKind:
    """Guess the kind from the name's suffix (城关镇 → town, 经济技术开发区 → development_zone)."""
    text = name.strip()
    if level is DivisionLevel.province:
        return DivisionKind.province
    if level is DivisionLevel.city:
        return (
            DivisionKind.city if text.endswith(("市", "州", "盟", "地区")) else DivisionKind.other
        )
    if level is DivisionLevel.county:
        for pattern, kind in _TOWNSHIP_SUFFIXES[-1:]:  # county-level zones first: 新区 ends in 区
            if pattern.search(text):
                return kind
        for pattern, kind in _COUNTY_SUFFIXES:
            if pattern.search(text):
                return kind
        return DivisionKind.other
    for pattern, kind in _TOWNSHIP_SUFFIXES:
        if pattern.search(text):
            return kind
    return DivisionKind.other


def parent_code_of(code: str) -> str | None:
    """The parent's code: a township's first 6 digits, a county's first 4, a city's first 2."""
    return {9: code[:6], 6: code[:4], 4: code[:2]}.get(len(code))


_LEVEL_LABELS = {
    "province": DivisionLevel.province,
    "省": DivisionLevel.province,
    "省级": DivisionLevel.province,
    "city": DivisionLevel.city,
    "市": DivisionLevel.city,
    "地级": DivisionLevel.city,
    "市级": DivisionLevel.city,
    "county": DivisionLevel.county,
    "县": DivisionLevel.county,
    "县级": DivisionLevel.county,
    "区县": DivisionLevel.county,
    "township": DivisionLevel.township,
    "乡": DivisionLevel.township,
    "乡镇": DivisionLevel.township,
    "乡级": DivisionLevel.township,
}


def level_from_label(label: str) -> DivisionLevel | None:
    """A level from a file's level column (English value or 省/市/县/乡镇)."""
    return _LEVEL_LABELS.get(label.strip().lower())
