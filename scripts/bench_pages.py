"""`scripts/bench pages`: the people's pages (not the maps: `scripts/bench maps`) over HTTP on
the national set — the dashboard of the nation, a province and a city, the gap list, the
office list, an office page and its forms — as each role opens them, against the fixed cost
of an authenticated call measured in the same run (`GET /api/v1/me`). A page that loads
sections beside itself (the dashboard) is measured alone, each section alone, and complete
(the page, then its sections at once, as a browser fetches them). Bar: p50 <= 300 ms."""

from __future__ import annotations

import html
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import benchlib as bench

BAR_MS = 300
CITY_USER = "bench_city_4101"


def _user(client: Any, headers: dict[str, str], username: str, role: str, region: str) -> None:
    r = client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": bench.PASSWORD,
            "role": role,
            "region_code": region,
        },
        headers=headers,
    )
    if r.status_code not in (201, 409):
        r.raise_for_status()


def _headers(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": bench.PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}", "Accept": "text/html"}


def _p50(
    client: Any, path: str, params: dict[str, str], headers: dict[str, str], runs: int
) -> float:
    for _ in range(2):  # warm
        client.get(path, params=params, headers=headers).raise_for_status()
    return statistics.median(bench.timed_get(client, path, params, headers)[1] for _ in range(runs))


# the sections a page loads beside itself (htmx, hx-trigger="load")
SECTION = re.compile(r'hx-get="([^"]+)" hx-trigger="load"')


def _complete_p50(
    client: Any, path: str, params: dict[str, str], headers: dict[str, str], runs: int
) -> float:
    """The page until everything on it has arrived, as a browser fetches it: the page, then
    its sections at once (two connections, as browsers open several)."""
    fragment = {**headers, "HX-Request": "true"}
    times = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i in range(runs + 2):
            t0 = time.perf_counter()
            r = client.get(path, params=params, headers=headers)
            r.raise_for_status()
            urls = [html.unescape(u) for u in SECTION.findall(r.text)]
            for part in pool.map(lambda u: client.get(u, headers=fragment), urls):
                part.raise_for_status()
            if i >= 2:  # (two to warm)
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_pages(runs: int) -> dict[str, Any]:
    import httpx2 as httpx

    c = bench.cluster()
    bench.ensure_national_offices(c)
    out: dict[str, Any] = {"benchmark": "pages", "runs": runs, "bar_ms": BAR_MS}
    port = 18768
    server = bench.serve(c, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            nation = _headers(client, "nation_admin")
            _user(client, nation, CITY_USER, "city_bureau", "4101")
            city = _headers(client, CITY_USER)
            office = client.get(
                "/api/v1/offices", params={"region": "4101", "limit": 1}, headers=nation
            ).json()["items"][0]["id"]
            pages: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
                "nation dashboard": ("/dashboard", {}, nation),
                "nation gaps": ("/gaps", {}, nation),
                "nation office list": ("/offices", {}, nation),
                "province dashboard 41": ("/dashboard", {"region": "41"}, nation),
                "city dashboard 4101": ("/dashboard", {}, city),
                "province gaps 41": ("/gaps", {"region": "41"}, nation),
                "province office list 41 by score": (
                    "/offices",
                    {"region": "41", "sort": "score"},
                    nation,
                ),
                "city office list 4101": ("/offices", {}, city),
                "office page": (f"/offices/{office}", {}, city),
            }
            base = _p50(client, "/api/v1/me", {}, city, runs)
            out["baseline GET /api/v1/me p50_ms"] = round(base, 1)
            for name, (path, params, headers) in pages.items():
                r = client.get(path, params=params, headers=headers)
                if r.status_code == 404:  # a page this version does not have
                    out[name] = {"skipped": f"{path} is not served"}
                    continue
                r.raise_for_status()
                ms = _p50(client, path, params, headers, runs)
                out[name] = {
                    "http_p50_ms": round(ms, 1),
                    "ratio_to_baseline": round(ms / base, 1),
                    "kb": round(len(r.content) / 1024, 1),
                    "within_bar": ms <= BAR_MS,
                }
                sections = SECTION.findall(r.text)
                if sections:  # what htmx loads beside the page: each, and the page complete
                    fragment = {**headers, "HX-Request": "true"}
                    for url in sections:
                        part = urlsplit(html.unescape(url))
                        query = dict(parse_qsl(part.query))
                        p50 = _p50(client, part.path, query, fragment, runs)
                        out[name][part.path] = {
                            "http_p50_ms": round(p50, 1),
                            "within_bar": p50 <= BAR_MS,
                        }
                    whole = _complete_p50(client, path, params, headers, runs)
                    out[name]["complete_p50_ms"] = round(whole, 1)
                    out[name]["complete_within_bar"] = whole <= BAR_MS
    finally:
        server.terminate()
        server.wait(timeout=10)
    return out
