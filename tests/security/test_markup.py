"""No stored string is ever interpreted as markup: the hostile site (conftest.py) is read in
a real headless Chromium — the dashboard and every planted office's page, every map theme
with each feature's tooltip hovered and popup opened, the login page — and after each
page no payload has run (`window.__pwned` unset), no payload's tag exists (`[data-pwn]`),
and the strings show literally where they appear (tooltip, popup, title, page text)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from hostile import MARKUP, PASSWORD, Planted
from live import log_in_through_the_form
from operator_env import server_log
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

THEMES = {
    "coverage": "司法所覆盖情况图",
    "facility": "司法所设施达标情况图",
    "staffing": "司法所人员配备情况图",
    "acceptance": "规范化验收状态图",
    "aggregates": "分区统计图",
}
# each feature of each GeoJSON layer: hover (as the mouse would: mouseover on the feature,
# which reaches a tooltip bound to the feature or to its layer), read the tooltip, leave;
# then (a second pass: an open popup pans the map) open its popup, read it, close it
HOVER_AND_OPEN = """
var features = [];
Object.keys(window).filter(function (k) {
  return (k.indexOf('geo_json_') === 0 || k.indexOf('fetched_offices_') === 0)
    && window[k] && window[k].getLayers;
}).forEach(function (k) {
  window[k].getLayers().forEach(function (layer) {
    var p = layer.feature && layer.feature.properties;
    if (p && p.name !== undefined) { features.push([window[k], layer, p]); }
  });
});
var out = features.map(function (f) {
  var group = f[0], layer = f[1], p = f[2];
  var at = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
  layer.fire('mouseover', {latlng: at}, true);
  var bound = (layer.getTooltip && layer.getTooltip()) || group.getTooltip();
  var tip = bound && bound.isOpen() ? bound.getElement().textContent : null;
  layer.fire('mouseout', {latlng: at}, true);
  return {name: p.name, tip: tip, title: null, text: null, township: p.township || null,
          county: p.county || null, missing: p.facility_missing || null, at: at};
});
features.forEach(function (f, i) {
  var layer = f[1];
  if (layer.getPopup && layer.getPopup()) {
    layer.openPopup(out[i].at);
    var content = layer.getPopup().getElement().querySelector('.leaflet-popup-content');
    out[i].title = content.querySelector('b').textContent;
    out[i].text = content.textContent;
    layer.closePopup();
  }
  delete out[i].at;
});
return out;
"""
RAN = """return [window.__pwned === undefined ? null : String(window.__pwned),
                 document.querySelectorAll('[data-pwn]').length, document.title];"""
# the features of the vector-tile layers drawn in view (VectorGrid keeps each tile's
# features by id): each hovered and clicked as the layer's events deliver them (the event's
# `layer` is the feature), the tooltip and the popup read from the page
TILED_HOVER_AND_OPEN = """
var map = Object.keys(window).filter(function (k) { return k.indexOf('map_') === 0; })
  .map(function (k) { return window[k]; })[0];
var at = map.getCenter(), out = [];
// the tooltip or popup open now (a closed one fades out for a moment: opacity 0)
function shown(css) {
  return Array.from(document.querySelectorAll(css))
    .filter(function (e) { return e.style.opacity !== '0'; })[0];
}
Object.keys(window).filter(function (k) {
  // (the layers that answer the pointer: not the county and city lines)
  return k.indexOf('vector_tiles_') === 0 && window[k] && window[k]._vectorTiles
    && window[k].options.interactive;
}).forEach(function (k) {
  var layer = window[k], seen = {};
  Object.keys(layer._vectorTiles).forEach(function (key) {
    var features = layer._vectorTiles[key]._features || {};
    Object.keys(features).forEach(function (id) {
      var f = features[id].feature, p = f.properties;
      if (seen[id] || !p || p.name === undefined) { return; }
      seen[id] = true;
      layer.fire('mouseover', {layer: f, latlng: at});
      var tip = shown('.leaflet-tooltip');
      tip = tip ? tip.textContent : null;
      layer.fire('mouseout', {layer: f, latlng: at});
      layer.fire('click', {layer: f, latlng: at});
      var content = shown('.leaflet-popup');
      content = content && content.querySelector('.leaflet-popup-content');
      out.push({name: p.name, tip: tip, title: content && content.querySelector('b').textContent,
                text: content && content.textContent, township: null, county: null,
                missing: null});
      map.closePopup();
    });
  });
});
return out;
"""
# a page's layers are there: GeoJSON carried by the page, or tiles and loaded offices drawn
LAYERS_READY = """
var keys = Object.keys(window);
if (keys.some(function (k) {
  return k.indexOf('geo_json_') === 0 && window[k] && window[k].getLayers; })) { return true; }
var loading = keys.filter(function (k) {
  return (k.indexOf('vector_tiles_') === 0 || k.indexOf('fetched_offices_') === 0) && window[k];
});
return loading.length > 0 && loading.every(function (k) { return window[k].registryLoaded; });"""


def log_in(driver: Any, base: str, username: str) -> None:
    driver.delete_all_cookies()
    log_in_through_the_form(driver, base, username, PASSWORD, "/dashboard")


def nothing_ran(driver: Any, where: str) -> str:
    """No payload ran or became an element; returns the page's title. Image errors arrive
    after the page is built, so a map, whose scripts may run them, is given a moment."""
    if "/maps/" in where:
        time.sleep(0.5)
    pwned, tags, title = driver.execute_script(RAN)
    assert (pwned, tags) == (None, 0), f"{where}: a payload ran ({pwned}) or made {tags} tags"
    return str(title)


# sections a page loads beside itself (htmx swaps each placeholder for its fragment)
SECTIONS_LOADED = "return document.querySelectorAll('[hx-trigger=\"load\"]').length === 0"


def page_text(driver: Any, base: str, path: str) -> str:
    driver.get(base + path)
    # the dashboard's progress and coverage arrive after the page: read them too
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(SECTIONS_LOADED))
    nothing_ran(driver, path)
    return str(driver.execute_script("return document.body.innerText;"))


# what the browser shows, for a map that never drew its layers
SHOWN = """return [location.href, document.title,
                 document.body ? document.body.innerText.slice(0, 800) : null];"""


def open_map(driver: Any, base: str, path: str) -> tuple[str, list[dict[str, Any]]]:
    driver.get(base + path)
    try:
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(LAYERS_READY))
    except TimeoutException:
        href, title, body = driver.execute_script(SHOWN)
        pytest.fail(
            f"{path}: no map layer after 30 s; the browser shows {href} {title!r}: {body!r}"
            f"\nthe server's last log lines:\n{server_log(base)}"
        )
    features = driver.execute_script(HOVER_AND_OPEN) + driver.execute_script(TILED_HOVER_AND_OPEN)
    return nothing_ran(driver, path), features


@pytest.fixture(scope="module")
def site(hostile_site: Planted) -> Planted:
    return hostile_site


def test_maps_show_hostile_names_as_text(site: Planted, chromium: Any) -> None:
    """Tooltips, popups and titles of every theme of 郑州市 (markup names everywhere): the
    townships from the tiles, the offices the page loads, the counties of its statistics map (tiles too)."""
    log_in(chromium, site.base, "zz_city")
    city = site.divisions["4101"]
    townships = {n for c, n in site.divisions.items() if len(c) == 9}
    for theme, label in THEMES.items():
        title, features = open_map(chromium, site.base, f"/maps/{theme}")
        assert title == city + label
        names = {f["name"] for f in features}
        if theme == "aggregates":  # a city's map: its counties
            assert names == {site.divisions["410184"], site.divisions["410122"]}
        elif theme in ("coverage", "acceptance"):
            assert names == set(site.offices) | townships
        else:
            assert names == set(site.offices)
        for f in features:
            assert f["tip"] == f["name"], theme
            assert f["title"] == f["name"], theme
            for part in (f["township"], f["county"], f["missing"]):
                assert part is None or part in f["text"], theme
        if theme == "facility":  # the standard's what-is-missing texts reach the popups
            assert any(m in (f["missing"] or "") for f in features for m in MARKUP)


def test_aggregates_and_formula_names_of_the_province(site: Planted, chromium: Any) -> None:
    log_in(chromium, site.base, "henan_admin")
    title, features = open_map(chromium, site.base, "/maps/aggregates?region=41")
    assert title == site.divisions["41"] + THEMES["aggregates"]
    names = {f["name"] for f in features}
    assert {site.divisions[c] for c in ("4101", "410184", "410122")} <= names
    assert all(f["tip"] == f["name"] == f["title"] for f in features)
    title, features = open_map(chromium, site.base, "/maps/coverage?region=410122")
    assert all(f["tip"] == f["name"] == f["title"] for f in features)


def test_pages_show_hostile_strings_as_text(site: Planted, chromium: Any) -> None:
    """The dashboards of a city bureau and of the province, and every planted office's page
    (details, checklist of the hostile standard, acceptance history, work records with a
    markup-named annual summary)."""
    log_in(chromium, site.base, "henan_admin")
    text = page_text(chromium, site.base, "/dashboard")
    for code in ("41", "4101"):
        assert site.divisions[code] in text
    assert "截至" in text and "覆盖率" in text  # the progress and coverage sections are in
    log_in(chromium, site.base, "zz_city")
    text = page_text(chromium, site.base, "/dashboard")
    for code in ("4101", "410184", "410122"):
        assert site.divisions[code] in text
    assert "截至" in text and "覆盖率" in text
    for name, office_id in site.offices.items():
        text = page_text(chromium, site.base, f"/offices/{office_id}")
        assert chromium.title == f"{name} · 司法所登记系统"
        assert name in text and site.addresses[office_id] in text
        assert [s for s in site.standard_texts if s not in text] == []
        assert [s for s in site.steps.get(office_id, []) if s not in text] == []
        assert "年度工作记录" in text and "95%" in text  # every office has last year's record
        assert office_id not in site.summaries or site.summaries[office_id] in text
    assert set(site.steps) == set(site.workflow.values()) == set(site.summaries)


def test_login_page_keeps_a_hostile_next_as_text(site: Planted, chromium: Any) -> None:
    chromium.delete_all_cookies()
    for payload in MARKUP:
        page_text(chromium, site.base, "/login?next=" + quote("/dashboard" + payload))
        value = chromium.find_element(By.NAME, "next").get_attribute("value")
        assert value == "/dashboard" + payload


def test_lists_pickers_and_record_forms_show_hostile_strings_as_text(
    site: Planted, chromium: Any
) -> None:
    """The pages of issue 17 over the same planted strings: the office list (its region
    choices, rows and cards), the gap list, the region picker's fragment, and every record
    form of every office (details with its map data, facilities, staff, evidence) as the
    county bureau that keeps them sees them — typed values back in their fields."""
    log_in(chromium, site.base, "zz_city")
    text = page_text(chromium, site.base, "/offices?size=100")
    assert all(name in text for name in site.offices)
    assert site.divisions["410184"] in text and site.divisions["410122"] in text
    assert site.divisions["4101"] in page_text(chromium, site.base, "/gaps?region=4101")
    text = page_text(chromium, site.base, "/regions/children?region=4101&path=/offices")
    assert site.divisions["410184"] in text and site.divisions["410122"] in text
    chromium.delete_all_cookies()
    log_in_through_the_form(chromium, site.base, "xz_county", PASSWORD, "/offices")
    listed = page_text(chromium, site.base, "/offices?size=100")
    mine = {n: i for n, i in site.offices.items() if n in listed}
    assert mine  # (the county's offices of the planted ones)
    for name, office_id in mine.items():
        for key in ("facilities", "staff", "evidence", "details"):
            assert name in page_text(chromium, site.base, f"/offices/{office_id}/{key}"), key
        field = chromium.find_element(By.ID, "f-address")  # (the details page, last)
        assert field.get_attribute("value") == site.addresses[office_id]
