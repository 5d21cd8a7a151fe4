"""Map builders keep stored strings inert: branca parses each rendered script again as a
Jinja template, so a name holding template syntax must neither be evaluated (server-side
code execution) nor break the page; layer names reach Leaflet's layer control (innerHTML)
escaped. The same strings in a real browser: tests/security/test_markup.py."""

from __future__ import annotations

import pytest

from maps.data import Area, MapData, OfficeMark
from maps.layers import polygon_layer
from maps.themes import BUILDERS, build_map

NAME = "{{ lipsum.__name__ }}{% if 1 %}{# <b data-pwn>"
SQUARE = {"type": "Polygon", "coordinates": [[[113, 34], [114, 34], [114, 35], [113, 34]]]}


def hostile_data() -> MapData:
    office = OfficeMark(
        id=1,
        name=NAME,
        lon=113.7,
        lat=34.4,
        division_code="410184101",
        division_name=NAME,
        county_name=NAME,
        staff_total=3,
        area_m2=None,
        state="not_applied",
        state_label="未申报",
        url="/offices/1",
        props={"facility": "unknown", "facility_missing": NAME, "civil_servants": 1},
    )
    props = {"kind": "town", "offices": 1, "coverage": "covered", "state": "not_applied"}
    township = Area("410184101", NAME, SQUARE, props)
    county = Area("410184", NAME, SQUARE, {"coverage_rate": 0.5, "acceptance_rate": 0.2})
    return MapData(
        title="t",
        region_code="4101",
        region_name=NAME,
        bounds=[[34, 113], [35, 114]],
        townships=[township],
        counties=[county],
        offices=[office],
    )


@pytest.mark.parametrize("theme", sorted(BUILDERS))
def test_template_syntax_in_stored_names_is_never_evaluated(theme: str) -> None:
    html = build_map(theme, hostile_data()).get_root().render()
    assert "generate_lorem_ipsum" not in html  # what {{ lipsum.__name__ }} evaluates to
    assert "<title>&#123;&#123; lipsum.__name__ }}&#123;% if 1 %}&#123;# &lt;b data-pwn&gt;" in html


def test_layer_names_reach_the_layer_control_escaped() -> None:
    m = build_map("coverage", MapData(title="t", region_code="41", region_name="河南", bounds=None))
    polygon_layer(m, "<b data-pwn>层</b>", [], lambda f: {})
    html = m.get_root().render()
    assert '"\\u0026lt;b data-pwn\\u0026gt;层\\u0026lt;/b\\u0026gt;"' in html
