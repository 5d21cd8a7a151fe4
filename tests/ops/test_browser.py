"""The maps in a real browser (Debian's headless Chromium through ChromeDriver) against
`registry serve` on the demo data: a city bureau logs in, opens its city's coverage map,
toggles every layer, opens a popup, filters by state. No request may leave 127.0.0.1, the
console must stay free of errors, and no office of another city may be on the page.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json
import re
import time
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


def test_city_bureau_uses_the_coverage_map(demo_loaded, browser):
    env = demo_loaded
    logins = json.loads((Path(env["REGISTRY_VAR_DIR"]) / "demo_logins.json").read_text())
    city = next(x for x in logins if x["username"] == "henan_zhengzhou")
    server, base = serve(env)
    try:
        driver = browser
        log_in_through_the_form(driver, base, city["username"], city["password"], "/maps/coverage")
        WebDriverWait(driver, 30).until(
            lambda d: (
                d.execute_script(FIND_LAYERS) and d.find_elements(By.CLASS_NAME, "registry-legend")
            )
        )
        layers = dict(driver.execute_script(FIND_LAYERS))
        assert len(layers) == 4 and min(layers.values()) > 0, layers  # townships, offices, lines
        shot(driver, "1-coverage-zhengzhou")

        # every layer off and on again through the layer control
        boxes = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays input")
        assert len(boxes) == 4
        for box in boxes:
            box.click()
            assert not box.is_selected()
            box.click()
            assert box.is_selected()

        # a popup of an office, opened as a click would
        text = driver.execute_script(
            """
            var keys = Object.keys(window).filter(function (k) {
              return k.indexOf('geo_json_') === 0 && window[k] && window[k].getLayers; });
            for (var i = 0; i < keys.length; i++) {
              var layers = window[keys[i]].getLayers();
              if (layers.length && layers[0].feature.geometry.type === 'Point') {
                layers[0].openPopup(); break; }
            }
            var popup = document.querySelector('.leaflet-popup-content');
            return popup ? popup.textContent : null;
            """
        )
        assert text and "验收状态" in text and "查看司法所详情" in text
        shot(driver, "2-popup")

        # the page holds this city's offices only
        on_page = {int(i) for i in re.findall(r'"type":"Feature","id":(\d+),', driver.page_source)}
        zhengzhou = offices_of_city(env, "4101")
        assert on_page and on_page <= zhengzhou
        assert not on_page & offices_of_city(env, "4102")

        # filter by state through the bar's form
        Select(driver.find_element(By.ID, "state-filter")).select_by_value("accepted")
        driver.find_element(By.CSS_SELECTOR, ".registry-bar button").click()
        WebDriverWait(driver, 30).until(lambda d: "state=accepted" in d.current_url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(FIND_LAYERS))
        states = driver.execute_script(
            """
            var out = [];
            Object.keys(window).forEach(function (k) {
              if (k.indexOf('geo_json_') === 0 && window[k] && window[k].getLayers) {
                window[k].getLayers().forEach(function (l) {
                  if (l.feature.geometry.type === 'Point') { out.push(l.feature.properties.state); }
                });
              }
            });
            return out;
            """
        )
        assert states and set(states) == {"accepted"}
        shot(driver, "3-filtered-accepted")

        # the other themes draw too
        for theme in ("facility", "staffing", "acceptance", "aggregates"):
            started = time.monotonic()
            driver.get(f"{base}/maps/{theme}")
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(FIND_LAYERS))
            assert time.monotonic() - started < 30
            shot(driver, f"4-{theme}")
        # the aggregates' rate switch recolours the same polygons
        radios = driver.find_elements(By.CSS_SELECTOR, ".registry-metric input[type=radio]")
        assert len(radios) == 3
        for radio in radios:
            radio.click()
            assert radio.is_selected()
        shot(driver, "4-aggregates-progress")

        # the dashboard and an office page of the city, from the popup's link
        driver.get(f"{base}/dashboard")
        assert "郑州市 工作台" in driver.page_source
        shot(driver, "5-dashboard")
        driver.get(f"{base}/offices/{min(on_page)}")
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
