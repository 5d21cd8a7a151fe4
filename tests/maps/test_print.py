"""Printed maps (/maps/{theme}.pdf and .png): rendered by the service and read back as a
reader would — the PDF's text by a PDF text extractor (pypdf), the PNG's pixels — against
the map data and the reports: title, legend with the same counts as the coverage reports,
date, notes, issuing unit, scale, paper size, the colour of known townships. Plus the
region guard, bad parameters, hostile names, and the link on every map page."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
import shapely
from conftest import TENANT_NAMES, scope_of
from fastapi.testclient import TestClient
from office_records import OfficeSpec, register
from PIL import Image
from pypdf import PdfReader

from maps.data import Area, MapData
from maps.printed import PNG_DPI, Imprint, Sheet, draw, equal_area_for, render
from maps.symbols import COVERAGE, legend_of
from service.main import create_app
from service.maps.data import map_data

XINZHENG = "410184"
COVERED = ["410184101", "410184102", "410184103"]
PT_PER_MM = 72 / 25.4


@pytest.fixture
def offices(client, auth) -> dict[str, int]:
    return {code: register(client, auth("xinzheng_county"), code, OfficeSpec()) for code in COVERED}


def pdf_text(body: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1
    return re.sub(r"\s+", " ", reader.pages[0].extract_text()), reader


def coverage_data(session, base_data, user: str, region: str) -> MapData:  # type: ignore[no-untyped-def]
    return map_data(
        session=session,
        scope=scope_of(base_data, user),
        theme="coverage",
        region=region,
        as_of=None,
        state=None,
        kinds=None,
    )


def test_the_printed_coverage_map_says_what_the_reports_say(
    client, auth, session, base_data, offices
):
    r = client.get(
        "/maps/coverage.pdf", params={"region": XINZHENG}, headers=auth("xinzheng_county")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    disposition = unquote(r.headers["content-disposition"])
    assert "attachment" in disposition and "新郑市司法所覆盖情况图" in disposition
    text, reader = pdf_text(r.content)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (
        round(297 * PT_PER_MM),
        round(210 * PT_PER_MM),
    )
    assert "新郑市司法所覆盖情况图" in text
    assert f"数据日期:{date.today():%Y年%m月%d日}" in text
    assert f"制图单位:{TENANT_NAMES['41']}" in text
    assert "比例尺 1:" in text and "北" in text and "公里" in text
    # the legend: every class with its count, the same as the coverage reports
    gaps = client.get(
        "/api/v1/coverage/gaps",
        params={"region": XINZHENG, "limit": 5000},
        headers=auth("xinzheng_county"),
    ).json()
    data = coverage_data(session, base_data, "xinzheng_county", XINZHENG)
    counts = Counter(a.props["coverage"] for a in data.townships)
    assert counts["gap"] == gaps["total"] > 0
    assert counts["covered"] == len(COVERED)
    for key, (_, label) in COVERAGE.items():
        assert f"{label} {counts.get(key, 0)}" in text, (label, text)
    # the notes: how the gaps are counted, and that the boundaries are generated
    spec = legend_of("coverage", data)
    assert spec.note and re.sub(r"\s+", "", spec.note)[:20] in text.replace(" ", "")
    if data.note:
        assert re.sub(r"\s+", "", data.note)[:12] in text.replace(" ", "")


def test_the_printed_map_colours_each_township_by_its_class(
    client, auth, session, base_data, offices
):
    r = client.get(
        "/maps/coverage.png",
        params={"region": XINZHENG, "paper": "A3", "orientation": "portrait"},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert image.size == (int(297 / 25.4 * PNG_DPI), int(420 / 25.4 * PNG_DPI))  # A3 portrait
    # where each township is on the page: the figure the service saved, drawn again
    data = coverage_data(session, base_data, "xinzheng_county", XINZHENG)
    fig = draw("coverage", data, Sheet("A3", "portrait"), imprint(), font_path=FONT)
    to_map, ax = equal_area_for(data.bounds), fig.axes[0]
    scale = PNG_DPI / fig.dpi

    def colour_inside(area: Area) -> str:
        """The colour most of the township's inner points have (its office's mark aside)."""
        inner = shapely.geometry.shape(area.geometry).buffer(-0.002)
        xmin, ymin, xmax, ymax = inner.bounds
        seen: Counter[str] = Counter()
        for i in range(1, 8):
            for j in range(1, 8):
                lon, lat = xmin + (xmax - xmin) * i / 8, ymin + (ymax - ymin) * j / 8
                if not inner.contains(shapely.Point(lon, lat)):
                    continue
                px, py = ax.transData.transform(to_map.transform(lon, lat))
                rgb = image.getpixel((int(px * scale), image.size[1] - int(py * scale)))
                seen["#{:02x}{:02x}{:02x}".format(*rgb)] += 1
        assert seen, area.code
        return seen.most_common(1)[0][0]

    checked = Counter()
    for area in data.townships:
        status = area.props["coverage"]
        assert colour_inside(area) == COVERAGE[status][0], (area.code, status)
        checked[status] += 1
    assert checked["covered"] == len(COVERED) and checked["gap"] > 0


FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def imprint() -> Imprint:
    return Imprint(issued_by="测试单位", printed_on=date.today(), data_date=date.today())


HOSTILE = "$\\frac{1}{0}$ <script>alert(1)</script> =cmd|' /C calc'!A0 ${x} %s {0}"


def test_hostile_names_are_printed_as_plain_text():
    square = {"type": "Polygon", "coordinates": [[[113, 34], [113.1, 34], [113.1, 34.1], [113, 34.1], [113, 34]]]}  # fmt: skip
    data = MapData(
        title="coverage",
        region_code="410184",
        region_name=HOSTILE,
        bounds=[[34, 113], [34.1, 113.1]],
        townships=[Area("410184101", HOSTILE, square, {"coverage": "gap"})],
        counties=[Area("410184", HOSTILE, square)],
        note=HOSTILE,
    )
    body = render(
        "coverage",
        data,
        Sheet(),
        Imprint(issued_by=HOSTILE, printed_on=date.today(), data_date=date.today()),
        fmt="pdf",
        font_path=FONT,
    )
    text, _ = pdf_text(body)
    assert f"{HOSTILE}司法所覆盖情况图" in text
    assert f"制图单位:{HOSTILE}" in text


def test_a_printed_map_only_of_the_users_region(client, auth, offices):
    for user, region in (("zhengzhou_city", "4102"), ("xinzheng_county", "410122")):
        r = client.get("/maps/coverage.pdf", params={"region": region}, headers=auth(user))
        assert r.status_code == 403, (user, region, r.text)
    r = client.get("/maps/coverage.pdf", params={"region": XINZHENG})
    assert r.status_code == 401
    # the nation's printed map is only a nationwide user's: asked for by code or left empty,
    # a province's or city's user gets their own region
    for user in ("henan_admin", "zhengzhou_city"):
        r = client.get("/maps/coverage.pdf", params={"region": "00"}, headers=auth(user))
        assert r.status_code == 403, (user, r.text)
    r = client.get("/maps/coverage.pdf", params={"region": ""}, headers=auth("zhengzhou_city"))
    assert "郑州市司法所覆盖情况图" in pdf_text(r.content)[0]
    # a city's own map holds its counties only
    r = client.get("/maps/acceptance.pdf", headers=auth("zhengzhou_city"))
    text, _ = pdf_text(r.content)
    assert "郑州市规范化验收状态图" in text and "通许" not in text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/maps/coverage.pdf", {"paper": "A5"}, "paper"),
        ("/maps/coverage.pdf", {"orientation": "sideways"}, "orientation"),
        ("/maps/coverage.svg", {}, "fmt"),
        ("/maps/nowhere.pdf", {}, "theme"),
        ("/maps/coverage.pdf", {"kind": "castle"}, "kind"),
        ("/maps/coverage.pdf", {"as_of": "2024-13-40"}, "as_of"),
    ],
)
def test_bad_print_parameters_are_named(client, auth, path, params, field):
    r = client.get(path, params=params, headers=auth("xinzheng_county"))
    assert r.status_code in (400, 422), r.text
    assert field in r.text


def test_without_the_font_the_operator_is_told_what_to_install(settings, base_data, auth):
    app = create_app(settings.model_copy(update={"print_font": Path("/nonexistent/font.ttc")}))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/maps/coverage.pdf", headers=auth("xinzheng_county"))
    assert r.status_code == 503
    assert "fonts-noto-cjk" in r.json()["message"] and "REGISTRY_PRINT_FONT" in r.text


def test_every_map_page_links_its_printed_versions(client, auth, offices):
    for theme in ("coverage", "facility", "staffing", "acceptance", "aggregates"):
        r = client.get(
            f"/maps/{theme}",
            params={"region": XINZHENG if theme != "aggregates" else "4101", "state": "accepted"},
            headers=auth("xinzheng_county" if theme != "aggregates" else "zhengzhou_city"),
        )
        assert r.status_code == 200, r.text
        assert "下载打印版" in r.text
        links = re.findall(rf'href="(/maps/{theme}\.(?:pdf|png)\?[^"]+)"', r.text)
        assert len(links) == 4, links
        for link in links:
            assert "state=accepted" in link and "region=" in link
        # the link works, with the page's filters
        got = client.get(
            links[0].replace("&amp;", "&"),
            headers=auth("xinzheng_county" if theme != "aggregates" else "zhengzhou_city"),
        )
        assert got.status_code == 200 and got.content.startswith(b"%PDF"), got.text[:300]


def test_a_printed_national_map_shows_every_township(client, auth, session, base_data, offices):
    """The ministry's question on one page: every township of the tenant coloured by its
    coverage, the legend counting them all."""
    from service.core.errors import Invalid

    scope = scope_of(base_data, "henan_admin")
    nation = {"session": session, "scope": scope, "theme": "coverage", "region": ""}
    with pytest.raises(Invalid, match="without offices"):
        map_data(**nation, as_of=None, state=None, kinds=None, purpose="offices")
    data = map_data(**nation, as_of=None, state=None, kinds=None, purpose="print")
    assert data.offices == [] and not data.tiles  # (drawn whole, no office marks)
    province = coverage_data(session, base_data, "henan_admin", "41")
    assert len(data.townships) == len(province.townships) > 0
    counts = Counter(a.props["coverage"] for a in data.townships)
    assert counts == Counter(a.props["coverage"] for a in province.townships)
    body = render("coverage", data, Sheet("A3"), imprint(), fmt="pdf", font_path=FONT)
    text, reader = pdf_text(body)
    assert round(float(reader.pages[0].mediabox.width)) == round(420 * PT_PER_MM)
    for key, (_, label) in COVERAGE.items():
        assert f"{label} {counts.get(key, 0)}" in text


def test_a_printed_map_of_an_empty_date_says_why(client, auth):
    r = client.get(
        "/maps/coverage.pdf",
        params={"region": XINZHENG, "as_of": "1990-01-01"},
        headers=auth("xinzheng_county"),
    )
    assert r.status_code == 200, r.text
    text, _ = pdf_text(r.content)
    assert "数据日期:1990年01月01日" in text
    assert "没有区划数据" in text.replace(" ", "")


def test_a_busy_worker_queues_printed_maps_then_says_when_to_retry(client, auth, monkeypatch):
    from service.maps import router

    monkeypatch.setattr(router, "PRINT_WAIT_S", 0.2)
    taken = [router._print_slots.acquire(timeout=1) for _ in range(router.PRINTS_AT_ONCE)]
    try:
        assert all(taken)
        r = client.get(
            "/maps/coverage.pdf", params={"region": XINZHENG}, headers=auth("xinzheng_county")
        )
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "30" and "too many printed maps" in r.json()["message"]
    finally:
        for _ in taken:
            router._print_slots.release()
    r = client.get(
        "/maps/coverage.pdf", params={"region": XINZHENG}, headers=auth("xinzheng_county")
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
