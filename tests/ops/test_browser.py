"""The maps in a real browser (Debian's headless Chromium through ChromeDriver) against
`registry serve` on the demo data: a city bureau logs in, opens its city's coverage map,
toggles every layer, opens a popup, filters by state; a province planner uses the tiled
maps. No request may leave 127.0.0.1, the
console must stay free of errors, and no office of another city may be on the page.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from live import chromium_driver, log_in_through_the_form
from operator_env import owner_connection, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

FIND_LAYERS = """
return Object.keys(window).filter(function (k) {
  return k.indexOf('geo_json_') === 0 && window[k] && window[k].getLayers;
}).map(function (k) { return [k, window[k].getLayers().length]; });
"""


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    driver = chromium_driver(tmp_path / "chromium", logs=True)
    yield driver
    driver.quit()


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def offices_of_city(env: dict[str, str], city: str) -> set[int]:
    with owner_connection(env) as conn:
        rows = conn.execute(
            "SELECT o.id FROM offices o JOIN tenants t ON t.id = o.tenant_id"
            " WHERE t.code = '41' AND o.closed_at IS NULL AND o.division_code LIKE %s",
            (city + "%",),
        ).fetchall()
    return {r[0] for r in rows}


def shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def toggle_every_layer(driver: Any, count: int) -> None:
    """Every layer off and on again through the layer control, which lists `count`."""
    boxes = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays input")
    assert len(boxes) == count
    for box in boxes:
        box.click()
        assert not box.is_selected()
        box.click()
        assert box.is_selected()


def test_city_bureau_uses_the_coverage_map(demo_loaded, browser):
    """A city's map draws from the tiles and loads its offices after it (this city's only);
    a county's map, which carries its own layers, draws too."""
    env = demo_loaded
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    city = next(x for x in logins if x["username"] == "henan_zhengzhou")
    server, base = serve(env)
    try:
        driver = browser
        log_in_through_the_form(driver, base, city["username"], city["password"], "/maps/coverage")
        WebDriverWait(driver, 60).until(
            lambda d: (
                d.execute_script(TILED_READY) == 2
                and d.find_elements(By.CLASS_NAME, "registry-legend")
            )
        )
        served = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].decodedBodySize"
        )
        assert 0 < served < 300_000
        tiles = driver.find_elements(By.CSS_SELECTOR, "svg.leaflet-tile path.leaflet-interactive")
        assert len(tiles) > 50  # the city's townships
        shot(driver, "1-coverage-zhengzhou")

        toggle_every_layer(driver, 4)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)

        # a popup of an office, by a real click
        text = click_until_popup(
            driver, ".leaflet-registryOffices-pane path.leaflet-interactive", "验收状态"
        )
        assert "查看司法所详情" in text
        shot(driver, "2-popup")

        # the page loaded this city's offices only
        loaded = {int(p["id"]) for p in driver.execute_script(LOADED_OFFICES)}
        zhengzhou = offices_of_city(env, "4101")
        assert loaded and loaded <= zhengzhou
        assert not loaded & offices_of_city(env, "4102")

        # filter by state through the bar's form: the offices loaded again, of that state
        Select(driver.find_element(By.ID, "state-filter")).select_by_value("accepted")
        driver.find_element(By.CSS_SELECTOR, ".registry-bar button").click()
        WebDriverWait(driver, 30).until(lambda d: "state=accepted" in d.current_url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
        states = {p["state"] for p in driver.execute_script(LOADED_OFFICES)}
        assert states == {"accepted"}
        shot(driver, "3-filtered-accepted")

        # the other themes draw too (the aggregates carry the city's counties themselves)
        for theme in ("facility", "staffing", "acceptance"):
            driver.get(f"{base}/maps/{theme}")
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
            shot(driver, f"4-{theme}")
        driver.get(f"{base}/maps/aggregates")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 1)
        shot(driver, "4-aggregates")
        # the aggregates' rate switch recolours the same counties (drawn from the tiles)
        radios = driver.find_elements(By.CSS_SELECTOR, ".registry-metric input[type=radio]")
        assert len(radios) == 3
        fills = []
        for radio in radios:
            radio.click()
            assert radio.is_selected()
            fills.append(driver.execute_script(FILLS))
        assert len(fills[0]) >= 10 and len(set(map(tuple, fills))) > 1, fills
        shot(driver, "4-aggregates-progress")

        # a county's map carries its townships and offices in the page
        driver.get(f"{base}/maps/coverage?region=410184")
        WebDriverWait(driver, 30).until(lambda d: len(d.execute_script(FIND_LAYERS)) == 4)
        layers = dict(driver.execute_script(FIND_LAYERS))
        assert min(layers.values()) > 0, layers  # townships, offices, lines
        on_page = {int(i) for i in re.findall(r'"type":"Feature","id":(\d+),', driver.page_source)}
        assert on_page and on_page <= offices_of_city(env, "410184")
        text = driver.execute_script(OPEN_FIRST_POPUP, "Point")
        assert text and "验收状态" in text and "查看司法所详情" in text
        shot(driver, "4-coverage-xinzheng")

        # the dashboard and an office page of the city, from the popup's link
        driver.get(f"{base}/dashboard")
        assert "郑州市 工作台" in driver.page_source
        shot(driver, "5-dashboard")
        driver.get(f"{base}/offices/{min(loaded)}")
        assert "对照标准自查" in driver.page_source and "验收记录" in driver.page_source
        shot(driver, "6-office")

        assert console_errors(driver) == []
        # (Chromium's own chrome:// pages are not network requests)
        network = [u for u in requested_urls(driver) if u.startswith(("http", "ws"))]
        assert any(u.startswith(f"{base}/static/vendor/leaflet/") for u in network)
        assert [u for u in network if not u.startswith(base + "/")] == []
    finally:
        server.terminate()
        server.wait(timeout=10)


# the popup's text of the first feature of a geometry type (arguments[0]) in the page's
# GeoJSON layers, opened as a click would
OPEN_FIRST_POPUP = """
var keys = Object.keys(window).filter(function (k) {
  return k.indexOf('geo_json_') === 0 && window[k] && window[k].getLayers; });
for (var i = 0; i < keys.length; i++) {
  var layers = window[keys[i]].getLayers();
  if (layers.length && layers[0].feature.geometry.type === arguments[0]) {
    layers[0].openPopup(); break; }
}
var popup = document.querySelector('.leaflet-popup-content');
return popup ? popup.textContent : null;
"""

# the fill of every path the tiles drew
FILLS = """
return Array.from(document.querySelectorAll('svg.leaflet-tile path'))
  .map(function (p) { return p.getAttribute('fill'); });
"""

# the properties (with the id) of the offices a page has loaded
LOADED_OFFICES = """
var out = [];
Object.keys(window).forEach(function (k) {
  if (k.indexOf('fetched_offices_') === 0 && window[k] && window[k].getLayers) {
    window[k].getLayers().forEach(function (l) {
      out.push(Object.assign({id: l.feature.id}, l.feature.properties));
    });
  }
});
return out;
"""


TILED_READY = """
var keys = Object.keys(window).filter(function (k) {
  return (k.indexOf('vector_tiles_') === 0 || k.indexOf('fetched_offices_') === 0) && window[k];
});
return keys.length && keys.every(function (k) { return window[k].registryLoaded; })
  ? keys.length : 0;
"""
POPUP = """
var popup = document.querySelector('.leaflet-popup-content');
return popup ? popup.textContent : null;
"""


# points of the page where an element of `css` (arguments[0]) is what a click meets (it is
# not covered by another), a few per element, at most 40
CLICKABLE = """
var out = [];
var els = document.querySelectorAll(arguments[0]);
for (var i = 0; i < els.length && out.length < 40; i++) {
  var b = els[i].getBoundingClientRect();
  for (var fx = 0.2; fx < 1; fx += 0.2) {
    for (var fy = 0.2; fy < 1; fy += 0.2) {
      var x = Math.round(b.x + b.width * fx), y = Math.round(b.y + b.height * fy);
      if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) { continue; }
      if (document.elementFromPoint(x, y) === els[i]) { out.push([x, y]); fx = fy = 1; }
    }
  }
}
return out;
"""


def click_until_popup(driver: Any, css: str, wanted: str) -> str:
    """Click (a real click of the pointer) points where an element of `css` is on top,
    until a popup says `wanted`; its text."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    points = driver.execute_script(CLICKABLE, css)
    assert points, f"no element of {css} can be clicked"
    for x, y in points:
        actions = ActionBuilder(driver)
        actions.pointer_action.move_to_location(x, y).click()
        actions.perform()
        text = driver.execute_script(POPUP)
        if text and wanted in text:
            return str(text)
    raise AssertionError(f"no element of {css} opened a popup with {wanted}")


def test_province_planner_uses_the_tiled_maps(demo_loaded, browser):
    """A province's coverage map draws its townships and lines from vector tiles and loads
    its offices after the page: every layer toggles, a township (an SVG path of a tile) and
    an office open their popups by a real click, the kind filter reaches the tiles, and a
    township seen close up is drawn at full detail (screenshot)."""
    env = demo_loaded
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    planner = next(x for x in logins if x["username"] == "henan_planner")
    server, base = serve(env)
    try:
        driver = browser
        log_in_through_the_form(
            driver, base, planner["username"], planner["password"], "/maps/coverage"
        )
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
        served = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].decodedBodySize"
        )
        assert 0 < served < 300_000  # the page as served (its data come as tiles)
        tiles = driver.find_elements(By.CSS_SELECTOR, "svg.leaflet-tile path.leaflet-interactive")
        assert len(tiles) > 100  # the province's townships
        shot(driver, "7-coverage-henan-tiles")

        toggle_every_layer(driver, 4)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)

        # a township of a tile, then an office, by real clicks (the offices' pane must not
        # take the clicks meant for the townships under it)
        text = click_until_popup(driver, "svg.leaflet-tile path.leaflet-interactive", "覆盖情况")
        assert "代码" in text and "打开所在县(市、区)的地图" in text
        shot(driver, "8-township-popup")
        driver.execute_script(
            "document.querySelectorAll('.leaflet-popup-close-button')"
            ".forEach(function (b) { b.click(); });"
        )
        text = click_until_popup(
            driver, ".leaflet-registryOffices-pane path.leaflet-interactive", "验收状态"
        )
        assert "查看司法所详情" in text

        # close up on a township: the tiles of zoom 14 (full detail), still clickable
        driver.execute_script(
            """
            var m = Object.keys(window).filter(function (k) { return k.indexOf('map_') === 0; })
              .map(function (k) { return window[k]; })[0];
            m.setView([34.40, 113.74], 14, {animate: false});
            """
        )
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
        urls = requested_urls(driver)
        assert any("/maps/coverage/tiles/14/" in u for u in urls)
        shot(driver, "9-township-zoom-14")

        # the kind filter goes to the tiles (CQL2) and the offices
        Select(driver.find_element(By.ID, "kind-filter")).select_by_value("street")
        driver.find_element(By.CSS_SELECTOR, ".registry-bar button").click()
        WebDriverWait(driver, 30).until(lambda d: "kind=street" in d.current_url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
        urls = requested_urls(driver)
        assert any("/maps/coverage/tiles/" in u and "kind=street" in u for u in urls)
        assert any("/maps/coverage/offices?" in u and "kind=street" in u for u in urls)
        shot(driver, "10-coverage-henan-streets")

        # every theme of the province draws
        for theme in ("acceptance", "facility", "staffing"):
            driver.get(f"{base}/maps/{theme}")
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(TILED_READY) == 2)
            shot(driver, f"11-{theme}-henan")

        assert console_errors(driver) == []
        network = [u for u in requested_urls(driver) if u.startswith(("http", "ws"))]
        assert any(u.startswith(f"{base}/static/vendor/vectorgrid/") for u in network)
        assert [u for u in network if not u.startswith(base + "/")] == []
    finally:
        server.terminate()
        server.wait(timeout=10)
