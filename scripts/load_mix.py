"""The locustfile of `scripts/bench load` (scripts/bench_load.py): what bureau users do, the
same on this tree and on the baseline commit. Runs in locust's own virtualenv, so it imports
nothing of the service.

Each user is its own account (load_<kind>_<n>, made and logged in by bench_load.py) and
acts without a pause: fifty users at once is the load. An action is what a person does with
one click — a map view is the page and everything the browser fetches from us to draw it
(this tree: the offices' GeoJSON and the vector tiles of the viewport; the baseline: nothing
more, its page holds the data). Each action is reported as a request of type ACTION besides
its HTTP requests; bench_load.py counts throughput in actions. Like a browser, a user keeps
the ETag of what it fetched and sends If-None-Match when it asks again.

Expected answers that are not errors: 412 to the deliberately stale If-Match, 304 to a held
ETag. Anything else ≥ 400 fails its request and its action."""

from __future__ import annotations

import datetime
import io
import itertools
import json
import math
import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gevent.pool import Pool
from locust import FastHttpUser, constant, events, task

# account → access token: bench_load.py logs every account in before the run (logins are
# not the mix, and fifty at once from one address would be throttled as a password storm)
TOKENS: dict[str, str] = json.loads(Path(os.environ["LOAD_TOKENS"]).read_text())
# the cities whose bureaus decide (bench_load.py: the same list it made accounts for)
CITIES = os.environ.get("LOAD_CITIES", "4101").split(",")
HENAN_CITIES = os.environ.get("LOAD_PLANNER_CITIES", "4101").split(",")
SEEN = {kind: itertools.count() for kind in ("planner", "city", "county", "staff")}
VIEWPORT = (1280, 720)  # a bureau's screen, in CSS pixels


class Record:
    """Every request and action after all users have logged in (the measured part), written
    to LOAD_OUT as JSON when the test stops: locust's own aggregate would mix the ACTION
    pseudo-requests into the HTTP ones."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.requests: list[float] = []
        # request name → its response times (what the slowest requests are)
        self.by_name: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}
        self.actions: dict[str, list[float]] = {}
        self.failures: dict[str, int] = {}
        self.notes: dict[str, int] = {}
        self.examples: list[str] = []


RECORD = Record()


READY = itertools.count(1)  # users that have logged in and set up


def _ready() -> None:
    """The measured part starts when the last user has logged in: logins are not the mix."""
    if next(READY) == int(os.environ.get("LOAD_USERS", "50")):
        RECORD.__init__()  # type: ignore[misc]
        RECORD.started = time.perf_counter()


@events.request.add_listener
def _request(request_type: str, name: str, response_time: float, exception: Any, **kw: Any) -> None:
    if RECORD.started is None:
        return
    if request_type == "NOTE":
        RECORD.notes[name] = RECORD.notes.get(name, 0) + 1
        return
    if exception is not None:
        key = f"{request_type} {name}"
        RECORD.failures[key] = RECORD.failures.get(key, 0) + 1
        if RECORD.failures[key] == 1:  # the first of each kind
            RECORD.examples.append(f"{key}: {str(exception)[:300]}")
    if request_type == "ACTION":
        RECORD.actions.setdefault(name, []).append(response_time)
        return
    RECORD.requests.append(response_time)
    RECORD.by_name.setdefault(name, []).append(response_time)
    response = kw.get("response")
    status = str(getattr(response, "status_code", "none"))
    RECORD.statuses[status] = RECORD.statuses.get(status, 0) + 1


@events.test_stop.add_listener
def _stopped(**_: Any) -> None:
    out = os.environ.get("LOAD_OUT")
    if not out or RECORD.started is None:
        return
    with open(out, "w") as f:
        json.dump(
            {
                "seconds": time.perf_counter() - RECORD.started,
                "requests": RECORD.requests,
                "by name": RECORD.by_name,
                "statuses": RECORD.statuses,
                "actions": RECORD.actions,
                "failures": RECORD.failures,
                "notes": RECORD.notes,
                "examples": RECORD.examples,
            },
            f,
        )


def tiles_for(bounds: tuple[float, float, float, float]) -> list[tuple[int, int, int]]:
    """The Web Mercator tiles a map fitted to (south, west, north, east) shows: Leaflet's
    fitBounds zoom for the viewport, and every 256-px tile the bounds touch at it."""

    def xy(lat: float, lon: float, z: int) -> tuple[float, float]:
        n = 2**z
        rad = math.radians(lat)
        return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n

    south, west, north, east = bounds
    zoom = 0
    for z in range(18, -1, -1):
        x0, y0 = xy(north, west, z)
        x1, y1 = xy(south, east, z)
        if (x1 - x0) * 256 <= VIEWPORT[0] and (y1 - y0) * 256 <= VIEWPORT[1]:
            zoom = z
            break
    x0, y0 = xy(north, west, zoom)
    x1, y1 = xy(south, east, zoom)
    return [(zoom, x, y) for x in range(int(x0), int(x1) + 1) for y in range(int(y0), int(y1) + 1)]


class Bureau(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    kind = ""

    def on_start(self) -> None:
        self.account = f"load_{self.kind}_{next(SEEN[self.kind])}"
        self.auth = {"Authorization": f"Bearer {TOKENS[self.account]}"}
        self.etags: dict[str, str] = {}
        self.failed = False
        self.setup()
        _ready()

    def setup(self) -> None:
        pass

    @contextmanager
    def action(self, name: str) -> Iterator[None]:
        self.failed = False
        t0 = time.perf_counter()
        error: Exception | None = None
        try:
            yield
        except Exception as exc:  # a broken answer (not JSON, a missing key): the action fails
            error = exc
        if self.failed and error is None:
            error = RuntimeError("a request failed")
        self.environment.events.request.fire(
            request_type="ACTION",
            name=name,
            response_time=(time.perf_counter() - t0) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def get(self, path: str, name: str, **params: Any) -> Any:
        """A GET as a browser makes it: If-None-Match with the ETag it holds for the URL."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{path}?{query}" if query else path
        headers = dict(self.auth)
        if url in self.etags:
            headers["If-None-Match"] = self.etags[url]
        with self.client.get(url, headers=headers, name=name, catch_response=True) as r:
            if r.status_code in (200, 204, 304):  # 204: a tile with nothing in it
                if r.headers.get("etag"):
                    self.etags[url] = r.headers["etag"]
                r.success()
            else:
                self.failed = True
                r.failure(f"{r.status_code} {r.text[:300]}")
        return r

    def get_json(self, path: str, name: str, **params: Any) -> Any:
        """A GET whose body is read: asked without a held ETag."""
        with self.client.get(
            path, params=params, headers=self.auth, name=name, catch_response=True
        ) as r:
            if r.status_code != 200:
                self.failed = True
                r.failure(f"{r.status_code} {r.text[:300]}")
                raise RuntimeError(f"{name}: {r.status_code}")
            r.success()
            return r.json(), r.headers

    def send(self, method: str, path: str, name: str, expect: int = 200, **kw: Any) -> Any:
        headers = {**self.auth, **kw.pop("headers", {})}
        with self.client.request(
            method, path, headers=headers, name=name, catch_response=True, **kw
        ) as r:
            if r.status_code == expect:
                r.success()
            else:
                self.failed = True
                r.failure(f"{r.status_code} (expected {expect}) {r.text[:300]}")
        return r


class Planner(Bureau):
    """A provincial planner: coverage summary, a city's gaps, progress, a coverage map."""

    kind = "planner"
    fixed_count = int(os.environ.get("LOAD_PLANNERS", "10"))

    @task(3)
    def summary(self) -> None:
        with self.action("planner: coverage summary"):
            self.get("/api/v1/coverage/summary", "coverage summary", region="41", level="city")

    @task(3)
    def gaps(self) -> None:
        with self.action("planner: a city's gaps"):
            city = random.choice(HENAN_CITIES)
            self.get("/api/v1/coverage/gaps", "coverage gaps", region=city)

    @task(1)
    def progress(self) -> None:
        with self.action("planner: acceptance progress"):
            self.get("/api/v1/progress", "progress", region="41")

    @task(2)
    def coverage_map(self) -> None:
        with self.action("planner: coverage map of a city"):
            map_view(self, "coverage", random.choice(HENAN_CITIES))


def map_view(user: Bureau, theme: str, region: str) -> None:
    """The map page and what its script fetches from us: the offices' GeoJSON and the vector
    tiles of the fitted view, where the page names them (this tree); the baseline's page
    holds its data. A page answered 304 is drawn from the browser's copy."""
    page = user.get(f"/maps/{theme}", f"map page {theme}", region=region)
    if page.status_code == 304:
        html = user.pages.get((theme, region), "") if hasattr(user, "pages") else ""
    else:
        html = page.text or ""
        if not hasattr(user, "pages"):
            user.pages = {}  # type: ignore[attr-defined]
        user.pages[(theme, region)] = html  # type: ignore[attr-defined]
    for url in set(re.findall(rf"/maps/{theme}/offices\?[^\"' ]+", html)):
        user.get(url, f"map offices {theme}")
    template = re.search(rf"/maps/{theme}/tiles/\{{z\}}/\{{y\}}/\{{x\}}\?[^\"' ]+", html)
    bounds = re.search(r"fitBounds\(\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", html)
    if template and bounds:
        box = tuple(float(v) for v in bounds.groups())
        urls = [
            template.group(0).replace("{z}", str(z)).replace("{y}", str(y)).replace("{x}", str(x))
            for z, x, y in tiles_for(box)  # type: ignore[arg-type]
        ]
        # six at a time, as a browser asks one host over HTTP/1.1
        Pool(6).map(lambda url: user.get(url, f"map tile {theme}"), urls)


class CityBureau(Bureau):
    """A city bureau: its acceptance list, office pages, a rejection of an applied office, its
    acceptance map. (No applied office of the demo meets the mandatory criteria, so a city's
    decision is 退回; accepting would be refused with 409 by both versions.)"""

    kind = "city"
    fixed_count = int(os.environ.get("LOAD_CITY_BUREAUS", "12"))

    def setup(self) -> None:
        n = int(self.account.rsplit("_", 1)[1])
        self.city = CITIES[n % len(CITIES)]
        body, _ = self.get_json(
            "/api/v1/acceptance", "acceptance list", region=self.city, limit=500
        )
        self.offices = [o["id"] for o in body["items"]]

    @task(4)
    def overview(self) -> None:
        with self.action("city: acceptance list"):
            self.get("/api/v1/acceptance", "acceptance list", region=self.city)

    @task(4)
    def office_page(self) -> None:
        with self.action("city: office page"):
            self.get(f"/offices/{random.choice(self.offices)}", "office page")

    @task(1)
    def decide(self) -> None:
        with self.action("city: reject an applied office"):
            body, _ = self.get_json(
                "/api/v1/acceptance", "acceptance list", region=self.city, state="applied"
            )
            if not body["items"]:
                self.environment.events.request.fire(
                    request_type="NOTE", name="no applied office left", response_time=0,
                    response_length=0, exception=None, context={},
                )  # fmt: skip
                return
            office = random.choice(body["items"])["id"]
            self.send(
                "POST",
                f"/api/v1/offices/{office}/acceptance/reject",
                "acceptance step",
                json={
                    "inspection_date": datetime.date.today().isoformat(),
                    "inspectors": ["王明", "李华"],
                    "reasons": ["制度上墙不全,台账缺少 2025 年度记录,请整改后重新申报"],
                },
            )

    @task(1)
    def acceptance_map(self) -> None:
        with self.action("city: acceptance map"):
            map_view(self, "acceptance", self.city)


ROSTER_HEADER = [
    "编号", "司法所名称", "乡镇(街道)代码", "乡镇(街道)名称", "经度", "纬度", "坐标系", "地址",
    "电话", "在岗人数", "在编人数", "公务员人数", "办公用房面积(平方米)", "成立日期",
]  # fmt: skip


class CountyBureau(Bureau):
    """A county bureau: its offices, edits with If-Match (one in nine deliberately stale),
    a self-check of an office its city sent back, its roster checked by an import."""

    kind = "county"
    fixed_count = int(os.environ.get("LOAD_COUNTY_BUREAUS", "15"))

    def setup(self) -> None:
        body, _ = self.get_json("/api/v1/offices", "office list", limit=100)
        self.offices = body["items"]
        self.region = self.offices[0]["division"]["county_code"]
        # edits go to titled offices, whose state nobody changes during the run: an office
        # its city rejects meanwhile would rightly answer 412 to an edit begun before
        titled = {"accepted", "filed", "recommended", "excellent"}
        self.editable = [o for o in self.offices if o["acceptance_state"] in titled]
        self.editable = self.editable or self.offices

    @task(3)
    def office_list(self) -> None:
        with self.action("county: office list"):
            self.get("/api/v1/offices", "office list", region=self.region, limit=100)

    @task(3)
    def edit(self) -> None:
        with self.action("county: edit an office"):
            office = random.choice(self.editable)["id"]
            _, headers = self.get_json(f"/api/v1/offices/{office}", "office")
            phone = f"0371-6{random.randint(0, 9999999):07d}"
            self.send(
                "PATCH",
                f"/api/v1/offices/{office}",
                "office edit",
                json={"phone": phone},
                headers={"If-Match": headers["etag"]},
            )

    @task(1)
    def stale_edit(self) -> None:
        with self.action("county: edit with a stale ETag (412 expected)"):
            office = random.choice(self.offices)["id"]
            self.send(
                "PATCH",
                f"/api/v1/offices/{office}",
                "office edit, stale",
                expect=412,
                json={"phone": "0371-60000000"},
                headers={"If-Match": '"0000000000000000"'},
            )

    @task(1)
    def self_check(self) -> None:
        with self.action("county: self-check an office sent back"):
            body, _ = self.get_json(
                "/api/v1/acceptance", "acceptance list", region=self.region, state="rejected"
            )
            if body["items"]:
                office = random.choice(body["items"])["id"]
                self.get(f"/api/v1/offices/{office}/compliance", "compliance")
                self.send(
                    "POST",
                    f"/api/v1/offices/{office}/acceptance/self_check",
                    "acceptance step",
                    json={"comment": "已对照标准自查,整改中"},
                )
            else:
                office = random.choice(self.offices)["id"]
                self.get(f"/api/v1/offices/{office}/compliance", "compliance")

    @task(1)
    def roster(self) -> None:
        with self.action("county: roster import, checked (dry run)"):
            out = io.StringIO()
            out.write(",".join(ROSTER_HEADER) + "\n")
            for o in self.offices:
                row = [
                    o.get("external_id") or "",
                    o["name"],
                    o["division"]["code"],
                    o["division"]["name"],
                    str(o["location"]["lon"]),
                    str(o["location"]["lat"]),
                    "WGS84",
                    o.get("address") or "",
                    o.get("phone") or "",
                    str(o.get("staff_total") or ""),
                    str(o.get("staff_formal") or ""),
                    str(o.get("staff_civil_servants") or ""),
                    str(o.get("area_m2") or ""),
                    o.get("opened_on") or "",
                ]
                out.write(",".join(v.replace(",", " ") for v in row) + "\n")
            self.send(
                "POST",
                "/api/v1/offices/import",
                "roster import",
                files={"file": ("名册.csv", out.getvalue().encode("utf-8"), "text/csv")},
                data={"dry_run": "true"},
            )


FACILITY_KEYS_OUT = ("office_id", "recorded", "labels", "updated_at", "updated_by", "version")


class OfficeStaff(Bureau):
    """The staff of one office: its facilities (read, and saved as they are), staff list and
    compliance."""

    kind = "staff"
    fixed_count = int(os.environ.get("LOAD_STAFF", "13"))

    def setup(self) -> None:
        body, _ = self.get_json("/api/v1/offices", "office list", limit=5)
        self.office = body["items"][0]["id"]

    @task(3)
    def facilities(self) -> None:
        with self.action("staff: facilities"):
            self.get(f"/api/v1/offices/{self.office}/facilities", "facilities")

    @task(1)
    def save_facilities(self) -> None:
        with self.action("staff: save facilities"):
            body, _ = self.get_json(f"/api/v1/offices/{self.office}/facilities", "facilities")
            record = {k: v for k, v in body.items() if k not in FACILITY_KEYS_OUT}
            self.send("PUT", f"/api/v1/offices/{self.office}/facilities", "facilities save",
                      json=record)  # fmt: skip

    @task(2)
    def staff(self) -> None:
        with self.action("staff: staff list"):
            self.get(f"/api/v1/offices/{self.office}/staff", "staff list")

    @task(1)
    def compliance(self) -> None:
        with self.action("staff: compliance"):
            self.get(f"/api/v1/offices/{self.office}/compliance", "compliance")
