"""The real app on a real port (uvicorn in a thread, its own connection pool, committed data)
and a headless Chromium: shared by the tests that need real concurrency or a real browser."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from service.core.cluster import free_port
from service.core.settings import Settings
from service.main import create_app


@contextmanager
def live_app(settings: Settings, app: FastAPI | None = None) -> Iterator[str]:
    """`app` (by default `create_app(settings)`) served on a free port; yields its base URL."""
    port = free_port()
    app = app or create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def chromium_driver(user_data_dir: Path, *, logs: bool = False) -> Any:
    """Debian's headless Chromium through ChromeDriver, with nothing reaching the network."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and chromedriver, "scripts/test installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(60)
    return driver


def log_in_through_the_form(
    driver: Any, base: str, username: str, password: str, next_path: str
) -> None:
    """Log in with the login page's form, then wait until the browser shows `next_path` —
    its path, not merely its name in the address: the login page's own address names it
    (?next=…), and a wait for the name went on before the login was answered, so that the
    test's next page could meet no session."""
    driver.get(f"{base}/login?next={next_path}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: urlsplit(d.current_url).path == next_path)
