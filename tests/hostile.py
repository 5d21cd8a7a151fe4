"""Hostile stored strings and how they are planted: a markup corpus (each payload, if it ever
ran, would set `window.__pwned`; each tag it could create carries `data-pwn`, so markup that
is parsed but blocked by the page's CSP is caught too) and a corpus of spreadsheet formula
prefixes. `plant` writes them through the registry's real write paths over HTTP — division
import, roster import, users, staff, evidence, a published standard, acceptance steps — so
every page, map and export that shows stored strings gets them."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from office_records import full_facilities, full_work_record, staff_member, township_point

from service.standards.definition import seed

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "correct-horse-battery"

MARKUP = (
    '<img src=x data-pwn onerror="window.__pwned=1">',
    '<svg data-pwn onload="window.__pwned=2">',
    '"><img src=x data-pwn onerror="window.__pwned=3">',
    "'><img src=x data-pwn onerror='window.__pwned=4'>",
    "<script data-pwn>window.__pwned=5</script>",
    "</script><script data-pwn>window.__pwned=6</script>",
    '<iframe data-pwn srcdoc="<script>parent.__pwned=7</script>"></iframe>',
    '<a data-pwn href="javascript:window.__pwned=8">点此</a>',
    "javascript:window.__pwned=9//",
    "{{7*7}}${7*7}#{7*7}<%= 7*7 %>",
    "{{ lipsum.__name__ }}{% if 1 %}{# x",  # Jinja: evaluated, or a syntax error, if re-read
    "&lt;b data-pwn&gt;&amp;amp;&#60;i&#62;",
    "<!--",
    "<style data-pwn>body{display:none}</style>",
)
# what spreadsheets read as the start of a formula (OWASP's list and the full-width forms,
# see service/core/exports.py); \t and \r cannot be stored (every text field refuses control
# characters), so the unit tests of service/core/exports.py cover them
FORMULA = (
    '=HYPERLINK("http://127.0.0.1:9/","点我")',
    "+1+2",
    "-1+2",
    "@SUM(1,2)",
    "=cmd|' /C calc'!A0",
    "＝1+2",
    "＋1+2",
    "－1+2",
    "＠SUM(1,2)",
)
RTLO = "\u202e"  # right-to-left override: allowed only in standard texts
SHEET_TITLE_NAME = "'[新村]:/?*\\司法所'"  # every character a sheet title may not hold


@dataclass
class Planted:
    """What was written, to look for on pages, maps and in exports."""

    base: str
    logins: dict[str, str]  # username → password
    divisions: dict[str, str] = field(default_factory=dict)  # code → stored name
    offices: dict[str, int] = field(default_factory=dict)  # stored office name → id
    addresses: dict[int, str] = field(default_factory=dict)
    steps: dict[int, list[str]] = field(default_factory=dict)  # comments, reasons, inspectors
    standard_texts: list[str] = field(default_factory=list)  # title, categories, texts, sources
    missing_texts: list[str] = field(default_factory=list)  # of the facility criteria
    workflow: dict[str, int] = field(default_factory=dict)  # "rejected"/"accepted" → id
    # office id → its work record's annual summary (a markup file name), on its page
    summaries: dict[int, str] = field(default_factory=dict)

    def markup(self) -> list[str]:
        """Every stored string that carries a markup payload."""
        return [s for s in self.strings() if any(p in s for p in MARKUP)]

    def strings(self) -> list[str]:
        return [
            *self.divisions.values(),
            *self.offices,
            *self.addresses.values(),
            *(t for texts in self.steps.values() for t in texts),
            *self.standard_texts,
            *self.missing_texts,
            *self.summaries.values(),
        ]


def division_names() -> dict[str, str]:
    """Hostile new names for 郑州市, its counties and their townships: markup in and around
    新郑市, formula prefixes in 中牟县. The real name stays at the end, so the kind still
    follows from the suffix."""
    features = json.loads((FIXTURES / "mini_henan.geojson").read_text("utf-8"))["features"]
    names = {f["properties"]["code"]: f["properties"]["name"] for f in features}
    out = {"41": MARKUP[0] + names["41"], "4101": MARKUP[1] + names["4101"]}
    out["410184"] = MARKUP[2] + names["410184"]
    out["410122"] = FORMULA[0] + names["410122"]
    xinzheng = sorted(c for c in names if c.startswith("410184") and len(c) == 9)
    zhongmu = sorted(c for c in names if c.startswith("410122") and len(c) == 9)
    for i, code in enumerate(xinzheng):
        out[code] = MARKUP[(i + 3) % len(MARKUP)] + names[code]
    for i, code in enumerate(zhongmu):
        out[code] = FORMULA[i % len(FORMULA)] + names[code]
    return out


def division_file(names: dict[str, str]) -> bytes:
    data = json.loads((FIXTURES / "mini_henan.geojson").read_text("utf-8"))
    for f in data["features"]:
        f["properties"]["name"] = names.get(f["properties"]["code"], f["properties"]["name"])
    return json.dumps(data, ensure_ascii=False).encode()


def roster_rows() -> list[dict[str, Any]]:
    """One office per township of 新郑市 (markup) and of 中牟县 (formulas)."""
    rows: list[dict[str, Any]] = []
    codes = [c for c in division_names() if len(c) == 9]
    for i, code in enumerate(codes):
        lon, lat = township_point(code)
        corpus = MARKUP if code.startswith("410184") else FORMULA
        name = corpus[i % len(corpus)] + f"第{i}司法所"  # unique: the corpus is shorter
        if code == "410184108":
            name = SHEET_TITLE_NAME
        rows.append(
            {
                "编号": f"H-{i:03d}",
                "司法所名称": name,
                "乡镇(街道)代码": code,
                "经度": lon,
                "纬度": lat,
                "地址": corpus[(i + 1) % len(corpus)] + "政府院内",
                "电话": "+86 371 6269 1234" if i % 2 else "-371-62691234",
                "办公用房面积(平方米)": 200 if i < 2 else 50,  # the first two go through steps
            }
        )
    return rows


def roster_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def hostile_standard() -> tuple[dict[str, Any], list[str], list[str]]:
    """河南 2009 with hostile title, categories, texts, sources and what-is-missing texts;
    returns it, the texts every checklist shows and the facility criteria's missing texts."""
    definition = seed("henan-2009").model_dump(mode="json")
    texts: list[str] = []
    missing: list[str] = []
    definition["title"] = MARKUP[0] + "河南规范化标准"
    texts.append(definition["title"])
    renamed = {"组织机构": "<b data-pwn>组织</b>", "队伍建设": "=1+2队伍建设"}
    for i, c in enumerate(definition["criteria"]):
        if c["key"] == "HN2009-NAME":  # hostile names are not in the official form: advice only
            c["mandatory"] = False
        c["category"] = renamed.get(c["category"], c["category"])
        if i % 3 == 0:
            c["text"] = MARKUP[(i // 3) % len(MARKUP)] + c["text"]
        elif i % 3 == 1:
            c["text"] = FORMULA[(i // 3) % len(FORMULA)] + c["text"]
        else:
            c["text"] = RTLO + c["text"]
        c["source"] = MARKUP[(i + 4) % len(MARKUP)][:90] + "第五篇"
        if c["category"] == "基础设施":
            c["missing"] = MARKUP[i % len(MARKUP)] + c["missing"]
            missing.append(c["missing"])
        texts += [c["category"], c["text"], c["source"]]
    return definition, texts, missing


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)


_LOGINS: dict[tuple[str, str], dict[str, str]] = {}


def token(client: Any, username: str) -> dict[str, str]:
    """Bearer headers of `username` on the site `client` talks to: one login per site and
    user, kept for the tests that follow (a token lives 30 minutes; more logins than the
    service allows a username in 15 minutes, 5, would be refused with 429)."""
    key = (str(client.base_url), username)
    if key not in _LOGINS:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        _LOGINS[key] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return _LOGINS[key]


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.url, r.text[:2000])
    return r.json()


def plant(client: Any, base: str, admin: str) -> Planted:
    """Write the corpus through the API as the tenant's province admin `admin` and the
    users it creates; `client` is an httpx client on the live server."""
    planted = Planted(base=base, logins={admin: PASSWORD})
    h = token(client, admin)
    planted.divisions = division_names()
    _ok(
        client.post(
            "/api/v1/divisions/import",
            files={"file": ("hostile.geojson", division_file(planted.divisions))},
            data={"valid_from": "2020-01-01"},
            headers=h,
        )
    )
    for username, role, region, display in (
        ("zz_city", "city_bureau", "4101", MARKUP[0]),
        ("xz_county", "county_bureau", "410184", FORMULA[0]),
    ):
        body = {"username": username, "password": PASSWORD, "role": role}
        body |= {"region_code": region, "display_name": display}
        _ok(client.post("/api/v1/users", json=body, headers=h), 201)
        planted.logins[username] = PASSWORD
    definition, planted.standard_texts, planted.missing_texts = hostile_standard()
    body = {"definition": definition, "effective_from": str(date.today()), "replace_targets": False}
    _ok(client.post("/api/v1/standards", json=body, headers=h), 201)

    rows = roster_rows()
    files = {"file": ("名册.csv", roster_csv(rows), "text/csv")}
    _ok(client.post("/api/v1/offices/import", files=files, headers=h))
    listed = _ok(client.get("/api/v1/offices", params={"limit": 500}, headers=h))
    by_name = {o["name"]: o["id"] for o in listed["items"]}
    for row in rows:
        office_id = by_name[row["司法所名称"]]
        planted.offices[row["司法所名称"]] = office_id
        planted.addresses[office_id] = row["地址"]
        # last year's work record of every office: the region export's default year
        url = f"/api/v1/offices/{office_id}/work-records/{date.today().year - 1}"
        _ok(client.put(url, json=WORK_RECORD, headers=h))

    county, city = token(client, "xz_county"), token(client, "zz_city")
    rejected, accepted = (
        planted.offices[rows[0]["司法所名称"]],
        planted.offices[rows[1]["司法所名称"]],
    )
    planted.workflow = {"rejected": rejected, "accepted": accepted}
    for office_id in (rejected, accepted):
        url = f"/api/v1/offices/{office_id}"
        _ok(client.put(f"{url}/facilities", json=full_facilities(), headers=county))
        for i in range(5):
            director = i == 0
            member = staff_member(
                "director" if director else "staff", name=MARKUP[i][:100], party_member=director
            )
            _ok(client.post(f"{url}/staff", json=member, headers=county), 201)
        upload = {"file": (MARKUP[0] + ".png", PNG, "image/png")}
        summary = _ok(
            client.post(
                f"{url}/evidence", files=upload, data={"description": MARKUP[1]}, headers=county
            ),
            201,
        )
        record = WORK_RECORD | {"summary_evidence_id": summary["id"]}
        _ok(client.put(f"{url}/work-records/{date.today().year}", json=record, headers=county))
        planted.summaries[office_id] = summary["filename"]
        steps = [
            ("self_check", county, {"comment": MARKUP[3]}),
            ("apply", county, {"comment": FORMULA[1]}),
        ]
        inspection = {"inspection_date": str(date.today()), "inspectors": [MARKUP[8], "+王五"]}
        if office_id == rejected:
            steps.append(("reject", city, inspection | {"reasons": [MARKUP[4], FORMULA[2]]}))
        else:
            steps.append(("accept", city, inspection | {"comment": MARKUP[6]}))
        texts = planted.steps.setdefault(office_id, [])
        for step, who, body in steps:
            _ok(client.post(f"{url}/acceptance/{step}", json=body, headers=who))
            texts += [body["comment"]] if "comment" in body else []
            texts += [*body.get("reasons", []), *body.get("inspectors", [])]
    return planted


# a year that meets every criterion reading it (the workflow offices apply against them), with
# 19 of 20 mediations successful: 95 %, on the pages and in the export
WORK_RECORD: dict[str, Any] = full_work_record() | {
    "mediation_cases": 20,
    "mediation_successes": 19,
}
