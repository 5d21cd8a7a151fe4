"""Codes, levels and kinds read from names, labels and the forms files use."""

import pytest

from service.divisions.codes import normalize_code
from service.divisions.kinds import (
    DivisionKind,
    DivisionLevel,
    kind_from_label,
    kind_from_name,
    level_from_label,
    parent_code_of,
)


@pytest.mark.parametrize(
    ("raw", "level", "code"),
    [
        ("41", None, "41"),
        ("4101", None, "4101"),
        ("410184", None, "410184"),
        ("410184101", None, "410184101"),
        (" 410184101 ", None, "410184101"),
        (410184101, None, "410184101"),
        (410184101.0, None, "410184101"),
        ("410184101000", None, "410184101"),
        ("410184000000", None, "410184"),
        ("410000", None, "41"),
        ("410100", None, "4101"),
        ("156410184", None, "410184"),
        ("156410000", None, "41"),
        # cities without districts: the county-level unit is coded xxxx00 (东莞 441900)
        ("441900", DivisionLevel.county, "441900"),
        ("441900", DivisionLevel.city, "4419"),
        ("441900", None, "4419"),
        ("441900000000", DivisionLevel.county, "441900"),
        ("350527000", DivisionLevel.township, "350527000"),
        # 9 digits are a township: 金门县's township-level entry is not the county 350527
        ("350527000", None, "350527000"),
        ("350527000", DivisionLevel.county, None),
    ],
)
def test_normalize_code(raw, level, code):
    assert normalize_code(raw, level) == code


@pytest.mark.parametrize(
    "raw", [None, "", "abc", "41018X002", "4101841", "410184101001", 1.5, float("nan"), "４１"]
)
def test_not_a_code(raw):
    assert normalize_code(raw) is None


def test_parent_codes():
    assert [parent_code_of(c) for c in ("41", "4101", "410184", "410184101")] == [
        None,
        "41",
        "4101",
        "410184",
    ]


@pytest.mark.parametrize(
    ("level", "name", "kind"),
    [
        (DivisionLevel.township, "城关镇", DivisionKind.town),
        (DivisionLevel.township, "新建路街道", DivisionKind.street),
        (DivisionLevel.township, "新华路街道办事处", DivisionKind.street),
        (DivisionLevel.township, "刁家乡", DivisionKind.township),
        (DivisionLevel.township, "马头回族乡", DivisionKind.township),
        (DivisionLevel.township, "达尔罕苏木", DivisionKind.township),
        (DivisionLevel.township, "新郑新区", DivisionKind.development_zone),
        (DivisionLevel.township, "郑州经济技术开发区", DivisionKind.development_zone),
        (DivisionLevel.township, "黄泛区农场", DivisionKind.farm),
        (DivisionLevel.township, "国营种畜场", DivisionKind.farm),
        (DivisionLevel.township, "小秦岭林场", DivisionKind.forest_area),
        (DivisionLevel.township, "具茨山国家级森林公园", DivisionKind.forest_area),
        (DivisionLevel.township, "平顶山矿区", DivisionKind.mining_area),
        (DivisionLevel.township, "某某监狱", DivisionKind.other),
        (DivisionLevel.county, "中原区", DivisionKind.district),
        (DivisionLevel.county, "中牟县", DivisionKind.county),
        (DivisionLevel.county, "新郑市", DivisionKind.county_city),
        (DivisionLevel.county, "鄂托克旗", DivisionKind.county),
        (DivisionLevel.county, "郑州航空港经济综合实验区", DivisionKind.development_zone),
        (DivisionLevel.county, "郑州高新技术产业开发区", DivisionKind.development_zone),
    ],
)
def test_kind_from_name(level, name, kind):
    assert kind_from_name(name, level) is kind


def test_kind_and_level_labels():
    assert kind_from_label("街道") is DivisionKind.street
    assert kind_from_label("Town") is DivisionKind.town
    assert kind_from_label("castle") is None
    assert level_from_label("乡镇") is DivisionLevel.township
    assert level_from_label("City") is DivisionLevel.city
