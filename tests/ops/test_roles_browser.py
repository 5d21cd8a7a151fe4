"""Each role's everyday task through the pages alone, in a real browser (Debian's headless
Chromium) against `registry serve` on the demo data, at a desktop width (1400 px) and a
phone's (390 px): clicks are counted from the first screen, every page passes axe-core's
checks with no "serious" or "critical" violation, and screenshots are kept in
test-artifacts/browser/roles/.

- a provincial planner finds 开封's townships without an office and exports them;
- a city bureau lists the offices of one county that applied for acceptance, and accepts one;
- a county bureau records a missing facility and sees the office's checklist change;
- office staff reach their office's checklist from the first screen.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import shapely
import shapely.geometry
from live import chromium_driver
from office_records import OfficeSpec, register_at
from openpyxl import load_workbook
from operator_env import serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from service.offices.naming import expected_name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser" / "roles"
AXE = ROOT / "assets" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}
RUN_AXE = """
var done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(function (r) {
  done(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })};
  }));
}, function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });
"""


@pytest.fixture(scope="module")
def site(demo_loaded) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    env = demo_loaded
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    server, base = serve(env)
    try:
        yield {"base": base, "logins": {x["username"]: x for x in logins}}
    finally:
        server.terminate()
        server.wait(timeout=10)


class User:
    """One person at one screen size: logs in through the login page, counts the clicks
    that move them on, checks each page with axe-core and keeps screenshots."""

    def __init__(self, driver: Any, site: dict[str, Any], username: str, width: str) -> None:
        self.driver, self.base, self.width = driver, site["base"], width
        self.login = site["logins"][username]
        self.clicks = 0
        self.shots = 0
        self.name = f"{width}-{username}"
        driver.set_window_size(*WIDTHS[width])

    def start(self) -> None:
        """The login page, then the user's first screen."""
        d = self.driver
        d.get(f"{self.base}/login")
        self.check("login")
        d.find_element(By.ID, "username").send_keys(self.login["username"])
        d.find_element(By.ID, "password").send_keys(self.login["password"])
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(d, 30).until(lambda d: "/login" not in d.current_url)
        self.check("first-screen")

    def click(self, element: WebElement, label: str) -> None:
        """A click that moves the user on (counted), then the new page is checked."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()
        self.clicks += 1
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        self.check(label)

    def check(self, label: str) -> None:
        """No serious or critical accessibility violation; a screenshot of the page."""
        d = self.driver
        d.set_script_timeout(60)
        d.execute_script(AXE.read_text())
        violations = d.execute_async_script(RUN_AXE)
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert bad == [], (d.current_url, bad)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        d.save_screenshot(str(ARTIFACTS / f"{self.name}-{self.shots}-{label}.png"))

    def link(self, css: str, text: str | None = None) -> WebElement:
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            if text is None or element.text.strip() == text:
                return element
        raise AssertionError(f"no {css} {text!r} on {self.driver.current_url}")

    def cookies(self) -> dict[str, str]:
        return {c["name"]: c["value"] for c in self.driver.get_cookies()}

    def fits_the_screen(self) -> None:
        """Nothing wider than the window (tables become cards on a phone)."""
        wide = self.driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        culprits = self.driver.execute_script(
            "var w = window.innerWidth; return Array.from(document.querySelectorAll('body *'))"
            ".filter(function (e) { var r = e.getBoundingClientRect();"
            " return r.right > w + 1 && !e.closest('.scroll'); }).slice(0, 5)"
            ".map(function (e) { return e.tagName + '.' + e.className + ' ' +"
            " Math.round(e.getBoundingClientRect().right); });"
        )
        assert wide <= 1, (f"{self.driver.current_url} is {wide}px wider than the screen", culprits)


@pytest.fixture
def browser(tmp_path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    driver = chromium_driver(tmp_path / "chromium")
    yield driver
    driver.quit()


def api(site: dict[str, Any], username: str, password: str | None = None) -> httpx.Client:
    """An API client logged in as `username`, one per user for the module (logging in
    again and again would meet the login limiter, as a script hammering it should)."""
    clients = site.setdefault("clients", {})
    if username not in clients:
        clients[username] = _login(site, username, password)
    return clients[username]  # type: ignore[no-any-return]


def _login(site: dict[str, Any], username: str, password: str | None) -> httpx.Client:
    # an idle connection is dropped by the client before the server's keep-alive (uvicorn: 5 s)
    # closes it: reused as the server closed it, a request got no answer at all
    client = httpx.Client(
        base_url=site["base"], timeout=60, limits=httpx.Limits(keepalive_expiry=1.0)
    )
    password = password or site["logins"][username]["password"]
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


@pytest.mark.parametrize("width", WIDTHS)
def test_planner_finds_kaifengs_gaps_and_exports_them(site, browser, width):
    user = User(browser, site, "henan_planner", width)
    user.start()
    assert "/dashboard" in browser.current_url
    # 开封's row in the coverage table: its gap count opens the list of its gaps
    row = next(
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "#coverage tbody tr")
        if r.find_element(By.CSS_SELECTOR, "th").text.strip() == "开封市"
    )
    user.click(row.find_element(By.CSS_SELECTOR, "td[data-label=空白] a"), "kaifeng-gaps")
    assert "/gaps?region=4102" in browser.current_url
    expected = api(site, "henan_planner").get(
        "/api/v1/coverage/gaps", params={"region": "4102", "limit": 5000}
    )
    total = expected.json()["total"]
    assert total > 0 and f"共 {total} 个乡镇(街道)" in browser.page_source
    if width == "phone":
        user.fits_the_screen()
    export = user.link("a", "导出当前结果(XLSX)")
    href = export.get_attribute("href")
    user.clicks += 1  # the download itself: fetched here with the browser's login cookie
    r = httpx.get(href, cookies=user.cookies(), timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert codes == {g["code"] for g in expected.json()["items"]}
    assert user.clicks <= 3

    # the region picker: the next level opens in place (htmx), its links go to the same page
    browser.get(f"{site['base']}/dashboard")
    browser.find_element(By.CSS_SELECTOR, "details.picker summary").click()
    expand = browser.find_element(
        By.CSS_SELECTOR, 'button.expand[aria-label="展开开封市的下级区域"]'
    )
    expand.click()
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, "ul.tree ul.tree a[href^='/dashboard?region=4102']"
        )
    )
    user.check("picker-open")


def _applied_office_meeting_the_standard(site: dict[str, Any], city: str) -> dict[str, Any]:
    """A new office in a township of the city without one, recorded to meet the standard in
    force and applied for by its county bureau — through the API, as a county would (the
    demo's applied offices lack records the 2009 standard asks for). The province admin
    opens an account for that county's bureau first."""
    admin = api(site, "henan_admin")
    gaps = admin.get("/api/v1/coverage/gaps", params={"region": city, "format": "geojson"}).json()[
        "features"
    ]
    props, geometry = gaps[0]["properties"], gaps[0]["geometry"]
    county = props["code"][:6]
    username = f"browser_county_{county}"
    password = "县局浏览器测试-" + county
    r = admin.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": password,
            "role": "county_bureau",
            "region_code": county,
        },
    )
    assert r.status_code in (201, 409), r.text
    client = api(site, username, password)
    area = max(shapely.get_parts(shapely.geometry.shape(geometry)), key=lambda g: g.area)
    x, y = shapely.maximum_inscribed_circle(area).coords[0]
    spec = OfficeSpec(name=expected_name(props["county_name"], props["name"], props["kind"]))
    office_id = register_at(client, (x, y), spec)
    for step in ("self_check", "apply"):
        r = client.post(f"/api/v1/offices/{office_id}/acceptance/{step}", json={})
        assert r.status_code == 200, r.text
    return client.get(f"/api/v1/offices/{office_id}").json()


@pytest.mark.parametrize("width", WIDTHS)
def test_city_bureau_lists_a_countys_applications_and_accepts_one(site, browser, width):
    office = _applied_office_meeting_the_standard(site, "4101")
    county = office["division"]["county_code"]
    user = User(browser, site, "henan_zhengzhou", width)
    user.start()
    # the county's count of 已申报待验收 on the dashboard opens that list
    row = next(
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "#states tbody tr")
        if f"region={county}" in r.find_element(By.CSS_SELECTOR, "th a").get_attribute("href")
    )
    cell = row.find_element(By.CSS_SELECTOR, "td[data-label=已申报待验收] a")
    user.click(cell, "county-applied")
    assert f"region={county}" in browser.current_url and "state=applied" in browser.current_url
    if width == "phone":
        user.fits_the_screen()
    user.click(user.link(f'a[href="/offices/{office["id"]}"]'), "office")
    form = browser.find_element(By.ID, "step-accept")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", form)
    date_input = form.find_element(By.NAME, "inspection_date")
    browser.execute_script(
        "arguments[0].value = new Date().toISOString().slice(0, 10);", date_input
    )
    form.find_element(By.NAME, "inspectors").send_keys("王检查、李验收")
    user.click(form.find_element(By.CSS_SELECTOR, "button[type=submit]"), "accepted")
    notice = browser.find_element(By.CSS_SELECTOR, "[role=status]")
    assert "已办理:验收通过" in notice.text
    # the result is where the eye is: in the window, not thousands of pixels below
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", notice)
    assert 0 <= top < WIDTHS[width][1]
    state = api(site, "henan_zhengzhou").get(f"/api/v1/offices/{office['id']}").json()
    assert state["acceptance_state"] == "accepted"
    assert user.clicks <= 4


@pytest.mark.parametrize("width", WIDTHS)
def test_office_staff_reach_their_checklist_from_the_first_screen(site, browser, width):
    user = User(browser, site, "henan_xincun", width)
    user.start()
    assert "/offices/" in browser.current_url  # their office is the first screen
    contents = user.link("nav.contents a", None)
    assert contents is not None
    user.click(user.link('nav.contents a[href="#checklist"]'), "checklist")
    checklist = browser.find_element(By.ID, "checklist")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", checklist)
    assert -2 <= top < WIDTHS[width][1] / 2
    assert "对照标准自查" in checklist.text
    if width == "phone":
        user.fits_the_screen()
    assert user.clicks <= 1


@pytest.mark.parametrize("width", WIDTHS)
def test_a_map_page_passes_the_same_checks(site, browser, width):
    """The coverage map of a city, reached from the menu: axe-core's checks, the legend and
    filters folded on a phone (the map stays visible), unfolded by a tap."""
    user = User(browser, site, "henan_kaifeng", width)
    user.start()
    user.click(user.link("header nav a", "覆盖情况图"), "coverage-map")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".registry-legend"))
    body = browser.find_element(By.CSS_SELECTOR, ".registry-legend-body")
    legend_toggle = browser.find_element(By.CSS_SELECTOR, ".registry-legend .registry-toggle-label")
    if width == "phone":
        assert not body.is_displayed() and legend_toggle.is_displayed()
        legend_toggle.click()
        assert body.is_displayed()
        user.check("legend-open")
        user.fits_the_screen()
    else:
        assert body.is_displayed() and not legend_toggle.is_displayed()
    assert "空白" in body.text


def _office_missing_an_item(site: dict[str, Any], county: str, skip: set[int]):  # type: ignore[no-untyped-def]
    """An office of the county whose mandatory criteria are not all met, one of them an item
    of its facilities (equipment, rooms …) recorded as absent: (office, measure, todo)."""
    client = api(site, "henan_xinzheng")
    items = client.get(
        "/api/v1/offices",
        params={"region": county, "compliance": "not_met", "limit": 500},
    ).json()["items"]
    for office in items:
        if office["id"] in skip:
            continue
        report = client.get(f"/api/v1/offices/{office['id']}/compliance").json()
        for item in report["items"]:
            if (
                item["mandatory"]
                and item["status"] == "fail"
                and item["measure"].split(".")[0] in ("equipment", "rooms")
            ):
                return office, item
    raise AssertionError("the demo has no office missing a mandatory item in " + county)


RECORDED: set[int] = set()


@pytest.mark.parametrize("width", WIDTHS)
def test_county_bureau_records_a_missing_facility_and_sees_the_checklist_change(
    site, browser, width
):
    office, item = _office_missing_an_item(site, "410184", RECORDED)
    RECORDED.add(office["id"])
    user = User(browser, site, "henan_xinzheng", width)
    user.start()
    user.click(user.link("#todo a", "必备项未全部达标的司法所"), "offices-not-met")
    assert "compliance=not_met" in browser.current_url
    if width == "phone":
        user.fits_the_screen()
    user.click(user.link(f'a[href="/offices/{office["id"]}"]'), "office")
    missing = browser.find_element(By.CSS_SELECTOR, "ul.missing")
    assert item["todo"] in missing.text
    user.click(missing.find_element(By.LINK_TEXT, item["todo"]), "facilities-form")
    # the field of the missing item (or of its group: every item of the group is there)
    field = browser.find_element(By.ID, "f-" + item["measure"].replace(".", "-"))
    root = item["measure"].split(".")[0]
    boxes = field.find_elements(By.CSS_SELECTOR, f'input[type=checkbox][name="{root}"]')
    assert boxes and not all(b.is_selected() for b in boxes)
    for box in boxes:
        if not box.is_selected():
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
            box.click()
    save = browser.find_element(By.CSS_SELECTOR, "main form[method=post] button[type=submit]")
    user.click(save, "saved")
    assert browser.current_url.split("?")[0].endswith(f"/offices/{office['id']}")
    notice = browser.find_element(By.CSS_SELECTOR, "[role=status]")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", notice)
    assert 0 <= top < WIDTHS[width][1]
    missing = browser.find_elements(By.CSS_SELECTOR, "ul.missing")
    assert not missing or item["todo"] not in missing[0].text  # the checklist changed
    report = api(site, "henan_xinzheng").get(f"/api/v1/offices/{office['id']}/compliance")
    (after,) = [i for i in report.json()["items"] if i["key"] == item["key"]]
    assert after["status"] == "pass"
    assert user.clicks <= 5


@pytest.mark.parametrize("width", WIDTHS)
def test_every_record_form_passes_the_same_checks(site, browser, width):
    """Each record page of an office (details with its map, facilities, staff, evidence),
    as the county bureau that keeps them opens it from the office page."""
    office = (
        api(site, "henan_xinzheng")
        .get("/api/v1/offices", params={"region": "410184", "limit": 1})
        .json()["items"][0]
    )
    user = User(browser, site, "henan_xinzheng", width)
    user.start()
    for key in ("details", "facilities", "staff", "evidence"):
        browser.get(f"{site['base']}/offices/{office['id']}")
        user.click(user.link(f'p.records a[href="/offices/{office["id"]}/{key}"]'), key)
        assert browser.find_elements(By.CSS_SELECTOR, "main form[method=post]"), key
        if width == "phone":
            user.fits_the_screen()
