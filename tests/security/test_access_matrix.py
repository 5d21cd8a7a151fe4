"""The access matrix, from outside through HTTP: every endpoint × every role × the target's
place relative to the role's home region {own, sibling, parent, other tenant} × the
credential {the password login's token, a personal access token that may write (sent as
HTTP Basic), a read-only one (sent as Bearer)}.

Each cell has an expected allow/deny. A deny must be a 4xx; an allow a 2xx; and any list
an actor gets back must hold only rows inside the actor's region. An access token allows
what its user's login allows, except the account actions that need a password login
(`Rule.interactive`); a read-only one only what reads. An endpoint of the app that has no
entry here fails the test, so new endpoints are born with their rules.
Each cell runs in a savepoint rolled back afterwards, so cells do not disturb each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from conftest import bearer
from factories import office_body, township
from personal_tokens import basic, create

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RELATIONS = ("own", "sibling", "parent", "other_tenant")
CREDENTIALS = ("login", "token", "read_only_token")
READING = ("GET", "HEAD")

# actor → (role, home region, sibling region, parent region)
ACTORS: dict[str, tuple[str, str, str | None, str | None]] = {
    "henan_admin": ("province_admin", "41", None, None),
    "henan_planner": ("province_planner", "41", None, None),
    "henan_viewer": ("viewer", "41", None, None),
    "zhengzhou_city": ("city_bureau", "4101", "4102", "41"),
    "xinzheng_county": ("county_bureau", "410184", "410122", "4101"),
    "zhongmu_county": ("county_bureau", "410122", "410184", "4101"),
    "xincun_staff": ("office_staff", "410184101", "410184102", "410184"),
    "shanxi_admin": ("province_admin", "14", None, None),
}
# a township with an existing office, and a free one, inside each region the matrix uses
OFFICE_TOWNSHIP = {
    "41": "410184101",
    "4101": "410184101",
    "4102": "410222101",
    "410184": "410184101",
    "410122": "410122101",
    "410184101": "410184101",
    "410184102": "410184102",
    "14": "140105100",
}
FREE_TOWNSHIP = {
    "41": "410184103",
    "4101": "410184104",
    "4102": "410222102",
    "410184": "410184105",
    "410122": "410122102",
    "410184101": None,  # the staff's own township already has its office
    "410184102": None,
    "14": "140105200",
}


@dataclass
class World:
    offices: dict[str, int]  # township code → office id
    users: dict[str, int]  # username → id (base users)
    staff: dict[int, int]  # office id → a staff member's id
    evidence: dict[int, int]  # office id → an evidence file's id
    tokens: dict[str, dict[str, Any]]  # actor → {id: a token's id, token, read_only_token}


def target_region(actor: str, relation: str) -> str | None:
    _, home, sibling, parent = ACTORS[actor]
    if relation == "own":
        return home
    if relation == "sibling":
        return sibling
    if relation == "parent":
        return parent
    return "14" if not home.startswith("14") else "41"


Request = tuple[str, str, dict[str, Any]]  # method, url, httpx kwargs
Builder = Callable[[World, str, str], Request | None]


@dataclass
class Rule:
    build: Builder
    allowed: Callable[[str, str], bool]  # (role, relation) → allowed?
    check: Callable[[Any, str], list[str]] | None = None  # extra checks of a 2xx body
    interactive: bool = False  # only with a password login, never with an access token

    def allows(self, credential: str, verb: str, role: str, relation: str) -> bool:
        if credential != "login" and self.interactive:
            return False
        if credential == "read_only_token" and verb not in READING:
            return False
        return self.allowed(role, relation)


def own_only(*roles: str) -> Callable[[str, str], bool]:
    return lambda role, relation: relation == "own" and (not roles or role in roles)


def office_url(suffix: str = "") -> Builder:
    def build(world: World, actor: str, relation: str) -> Request | None:
        region = target_region(actor, relation)
        if region is None or relation == "parent":
            return None
        return "GET", f"/api/v1/offices/{world.offices[OFFICE_TOWNSHIP[region]]}{suffix}", {}

    return build


def office_item(kind: str, suffix: str = "") -> Builder:
    """The URL of an office's staff member or evidence file (`kind` = staff | evidence)."""

    def build(world: World, actor: str, relation: str) -> Request | None:
        req = office_url()(world, actor, relation)
        if req is None:
            return None
        office = int(req[1].rsplit("/", 1)[1])
        item = (world.staff if kind == "staff" else world.evidence)[office]
        return "GET", f"{req[1]}/{kind}/{item}{suffix}", {}

    return build


def with_method(builder: Builder, method: str, **kwargs: Any) -> Builder:
    def build(world: World, actor: str, relation: str) -> Request | None:
        req = builder(world, actor, relation)
        return None if req is None else (method, req[1], kwargs)

    return build


def region_list(path: str, **params: Any) -> Builder:
    def build(world: World, actor: str, relation: str) -> Request | None:
        region = target_region(actor, relation)
        return None if region is None else ("GET", path, {"params": {"region": region, **params}})

    return build


def only_inside(field: Callable[[dict], str]) -> Callable[[Any, str], list[str]]:
    def check(body: Any, actor: str) -> list[str]:
        home = ACTORS[actor][1]
        items = body["items"] if isinstance(body, dict) else body
        return [f"row outside {home}: {field(i)}" for i in items if not field(i).startswith(home)]

    return check


def offices_inside(body: Any, actor: str) -> list[str]:
    """A map's offices (GeoJSON; the township named "name(code)") all in the actor's region."""
    home = ACTORS[actor][1]
    codes = [f["properties"]["township"].rsplit("(", 1)[1].rstrip(")") for f in body["features"]]
    return [f"office outside {home}: {c}" for c in codes if not c.startswith(home)]


def regions_inside(body: Any, actor: str) -> list[str]:
    home = ACTORS[actor][1]
    return [
        f"sub-region outside {home}: {r['code']}"
        for r in body["regions"]
        if not (r["code"].startswith(home) or home.startswith(r["code"]))
    ]


PERSONAL_ROLES = {"province_admin", "city_bureau", "county_bureau", "office_staff"}


def personal_data_hidden(body: Any, actor: str) -> list[str]:
    """Staff names, phones and education reach only the roles that need them."""
    members = body if isinstance(body, list) else [body]
    if ACTORS[actor][0] in PERSONAL_ROLES:
        return [] if all(m["name"] for m in members) else ["names missing for a personal role"]
    return [f"personal data shown to {actor}: {m['name']}" for m in members if m["name"]]


def create_office(world: World, actor: str, relation: str) -> Request | None:
    region = target_region(actor, relation)
    if region is None or relation == "parent" or FREE_TOWNSHIP.get(region) is None:
        return None
    return "POST", "/api/v1/offices", {"json": office_body(FREE_TOWNSHIP[region])}


def division_get(world: World, actor: str, relation: str) -> Request | None:
    region = target_region(actor, relation)
    return None if region is None else ("GET", f"/api/v1/divisions/{region}", {})


def division_import(world: World, actor: str, relation: str) -> Request | None:
    if relation not in ("own", "other_tenant"):
        return None
    region = target_region(actor, relation) or ""
    code = OFFICE_TOWNSHIP["14" if region.startswith("14") else "41"]
    geom, props = township(code)
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        ],
    }
    files = {
        "file": ("d.geojson", json.dumps(fc, ensure_ascii=False).encode(), "application/geo+json")
    }
    return (
        "POST",
        "/api/v1/divisions/import",
        {"files": files, "data": {"valid_from": "2025-01-01"}},
    )


def user_url(world: World, actor: str, relation: str) -> Request | None:
    if relation not in ("own", "other_tenant"):
        return None
    other = ACTORS[actor][1].startswith("14") != (relation == "other_tenant")
    return "GET", f"/api/v1/users/{world.users['shanxi_admin' if other else 'zhongmu_county']}", {}


def user_create(world: World, actor: str, relation: str) -> Request | None:
    region = target_region(actor, relation)
    if region is None:
        return None
    return (
        "POST",
        "/api/v1/users",
        {
            "json": {
                "username": f"matrix_{region}",
                "password": "matrix-password-1",
                "role": "viewer",
                "region_code": region,
            }
        },
    )


def token_url(world: World, actor: str, relation: str) -> Request | None:
    """One of the actor's own access tokens, or another user's (of its tenant or another)."""
    if relation == "own":
        owner: str | None = actor
    elif relation == "other_tenant":
        owner = "henan_viewer" if actor.startswith("shanxi") else "shanxi_admin"
    elif relation == "sibling":  # (another user of the same tenant)
        owner = None if actor.startswith("shanxi") else next(a for a in ACTORS if a != actor)
    else:
        owner = None
    return (
        None
        if owner is None
        else ("DELETE", f"/api/v1/auth/tokens/{world.tokens[owner]['id']}", {})
    )


def self_only(method: str, path: str, **kwargs: Any) -> Builder:
    return lambda world, actor, relation: (method, path, kwargs) if relation == "own" else None


def public(method: str, path: str, **kwargs: Any) -> Builder:
    return self_only(method, path, **kwargs)


def region_listing(
    path: str,
    allowed: Callable[[str, str], bool],
    check: Callable[[Any, str], list[str]] | None = None,
    **params: Any,
) -> dict[tuple[str, str], Rule]:
    """The rule of a GET that lists a region's rows, its path written once for the key and the
    request."""
    return {("GET", path): Rule(region_list(path, **params), allowed, check)}


def own_tenant(
    method: str,
    path: str,
    allowed: Callable[[str, str], bool],
    *,
    example: str | None = None,
    interactive: bool = False,
    **request: Any,
) -> dict[tuple[str, str], Rule]:
    """The rule of an endpoint about the caller or the caller's tenant, not a region (only the
    own relation can be tried), its method and path written once for the key and the request;
    where the path has parameters, the request goes to `example`, a path it matches."""
    asked = self_only(method, example or path, **request)
    return {(method, path): Rule(asked, allowed, interactive=interactive)}


ADMIN = ("province_admin",)
WRITERS = ("province_admin", "county_bureau")
AUDITORS = ("province_admin", "city_bureau", "county_bureau")
ANYONE: Callable[[str, str], bool] = lambda role, relation: relation == "own"  # noqa: E731

MATRIX: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/token"): Rule(
        public("POST", "/api/v1/auth/token", data={"username": "nobody_x", "password": "x" * 12}),
        lambda role, relation: False,  # a wrong password is refused for everyone
    ),
    ("POST", "/api/v1/auth/refresh"): Rule(
        public("POST", "/api/v1/auth/refresh", json={"refresh_token": "1.1.not-a-real-secret"}),
        lambda role, relation: False,
    ),
    **own_tenant("POST", "/api/v1/auth/logout", ANYONE, interactive=True),
    **own_tenant("GET", "/api/v1/me", ANYONE),
    **own_tenant(
        "POST",
        "/api/v1/me/password",
        ANYONE,
        interactive=True,
        json={"current_password": "correct-horse-battery", "new_password": "matrix-new-pass-1"},
    ),
    **own_tenant("POST", "/api/v1/auth/tokens", ANYONE, interactive=True, json={"name": "matrix"}),
    **own_tenant("GET", "/api/v1/auth/tokens", ANYONE),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): Rule(token_url, own_only()),
    **region_listing("/api/v1/users", own_only(*ADMIN), only_inside(lambda u: u["region_code"])),
    ("POST", "/api/v1/users"): Rule(user_create, own_only(*ADMIN)),
    ("GET", "/api/v1/users/{user_id}"): Rule(user_url, own_only(*ADMIN)),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(
        with_method(user_url, "PATCH", json={"display_name": "改名"}), own_only(*ADMIN)
    ),
    ("POST", "/api/v1/divisions/import"): Rule(division_import, own_only(*ADMIN)),
    **region_listing("/api/v1/divisions", own_only(), only_inside(lambda d: d["code"])),
    ("GET", "/api/v1/divisions/{code}"): Rule(division_get, own_only()),
    ("POST", "/api/v1/offices"): Rule(create_office, own_only(*WRITERS)),
    # (ordered by the compliance score: the path that measures every office of the region)
    **region_listing(
        "/api/v1/offices",
        own_only(),
        only_inside(lambda o: o["division"]["code"]),
        sort="score",
        order="desc",
        state=["not_applied"],
    ),
    ("GET", "/api/v1/offices/{office_id}"): Rule(office_url(), own_only()),
    ("PATCH", "/api/v1/offices/{office_id}"): Rule(
        with_method(office_url(), "PATCH", json={"address": "新地址"}, headers={"If-Match": '"2"'}),
        own_only(*WRITERS, "office_staff"),
    ),
    ("DELETE", "/api/v1/offices/{office_id}"): Rule(
        with_method(office_url(), "DELETE", params={"reason": "matrix"}), own_only(*WRITERS)
    ),
    ("GET", "/api/v1/offices/{office_id}/history"): Rule(office_url("/history"), own_only()),
    **region_listing(
        "/api/v1/audit", own_only(*AUDITORS), only_inside(lambda e: e["region_code"] or "")
    ),
}
MATRIX.update(
    {
        ("GET", f"/api/v1/coverage/{report}"): Rule(
            region_list(f"/api/v1/coverage/{report}"), own_only(), only_inside(field)
        )
        for report, field in (
            ("gaps", lambda r: r["code"]),
            ("conflicts", lambda r: r["code"]),
            ("misplaced", lambda r: r["registered_code"]),
        )
    }
)
MATRIX.update(
    {
        **region_listing("/api/v1/coverage/boundaries", own_only()),
        **region_listing(
            "/api/v1/coverage/summary",
            # (a township is already the finest level: its summary is a 422, not a right)
            lambda role, relation: relation == "own" and role != "office_staff",
            only_inside(lambda r: r["code"]),
            level="township",
        ),
        **own_tenant("GET", "/api/v1/tenant", ANYONE),
        **own_tenant(
            "PATCH",
            "/api/v1/tenant",
            own_only(*ADMIN),
            json={"required_kinds": ["town", "township", "street"]},
        ),
        **own_tenant("GET", "/api/v1/offices/import/template", ANYONE),
        # (region scoping of roster rows is tested in tests/offices/test_roster.py: rows outside
        # the caller's region are reported malformed and not stored)
        **own_tenant(
            "POST",
            "/api/v1/offices/import",
            own_only(*WRITERS),
            files={"file": ("r.csv", "司法所名称,乡镇(街道)代码,经度,纬度\r\n".encode())},
        ),
    }
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LAST_YEAR = date.today().year - 1  # every office has a work record of it (the default year)
EDITORS = (*WRITERS, "office_staff")
MATRIX.update(
    {
        ("GET", "/api/v1/offices/{office_id}/facilities"): Rule(
            office_url("/facilities"), own_only()
        ),
        ("PUT", "/api/v1/offices/{office_id}/facilities"): Rule(
            with_method(office_url("/facilities"), "PUT", json={"own_premises": True}),
            own_only(*EDITORS),
        ),
        ("GET", "/api/v1/offices/{office_id}/staff"): Rule(
            office_url("/staff"), own_only(), personal_data_hidden
        ),
        ("POST", "/api/v1/offices/{office_id}/staff"): Rule(
            with_method(
                office_url("/staff"),
                "POST",
                json={"name": "王五", "formal": True, "civil_servant": False},
            ),
            own_only(*EDITORS),
        ),
        ("GET", "/api/v1/offices/{office_id}/staff/{staff_id}"): Rule(
            office_item("staff"), own_only(), personal_data_hidden
        ),
        ("PATCH", "/api/v1/offices/{office_id}/staff/{staff_id}"): Rule(
            with_method(office_item("staff"), "PATCH", json={"training_days": 6}),
            own_only(*EDITORS),
        ),
        ("POST", "/api/v1/offices/{office_id}/staff/{staff_id}/leave"): Rule(
            with_method(office_item("staff", "/leave"), "POST", json={"left_on": "2025-06-30"}),
            own_only(*EDITORS),
        ),
        ("GET", "/api/v1/offices/{office_id}/evidence"): Rule(office_url("/evidence"), own_only()),
        ("POST", "/api/v1/offices/{office_id}/evidence"): Rule(
            with_method(
                office_url("/evidence"), "POST", files={"file": ("a.pdf", PDF, "application/pdf")}
            ),
            own_only(*EDITORS),
        ),
        ("GET", "/api/v1/offices/{office_id}/evidence/{evidence_id}/content"): Rule(
            office_item("evidence", "/content"), own_only()
        ),
        ("GET", "/api/v1/offices/{office_id}/work-records"): Rule(
            office_url("/work-records"), own_only()
        ),
        ("GET", "/api/v1/offices/{office_id}/work-records/{year}"): Rule(
            office_url(f"/work-records/{LAST_YEAR}"), own_only()
        ),
        ("PUT", "/api/v1/offices/{office_id}/work-records/{year}"): Rule(
            with_method(
                office_url(f"/work-records/{LAST_YEAR}"),
                "PUT",
                json={"mediation_cases": 4, "mediation_successes": 4},
            ),
            own_only(*EDITORS),
        ),
        ("DELETE", "/api/v1/offices/{office_id}/work-records/{year}"): Rule(
            with_method(office_url(f"/work-records/{LAST_YEAR}"), "DELETE"), own_only(*EDITORS)
        ),
        **region_listing(
            "/api/v1/work-records", own_only(), only_inside(lambda r: r["division_code"])
        ),
        ("GET", "/api/v1/offices/{office_id}/compliance"): Rule(
            office_url("/compliance"), own_only()
        ),
        ("GET", "/api/v1/offices/{office_id}/acceptance"): Rule(
            office_url("/acceptance"), own_only()
        ),
        # the workflow's role rules per step are tested in tests/acceptance; here: self-check
        ("POST", "/api/v1/offices/{office_id}/acceptance/{step}"): Rule(
            with_method(office_url("/acceptance/self_check"), "POST", json={}),
            own_only("county_bureau", "office_staff"),
        ),
        **region_listing(
            "/api/v1/acceptance", own_only(), only_inside(lambda o: o["division_code"])
        ),
        **region_listing("/api/v1/progress", own_only(), regions_inside),
        **region_listing("/api/v1/spot-checks", own_only(), regions_inside),
        **region_listing(
            "/api/v1/civilised-offices", own_only(), only_inside(lambda o: o["division_code"])
        ),
        **region_listing("/api/v1/compliance", own_only(), regions_inside),
        **own_tenant("GET", "/api/v1/standards", ANYONE),
        **own_tenant("GET", "/api/v1/standards/{ref}", ANYONE, example="/api/v1/standards/current"),
        **own_tenant(
            "POST",
            "/api/v1/standards",
            own_only(*ADMIN),
            json={"seed": "district-2005", "effective_from": "2030-01-01"},
        ),
        **own_tenant("GET", "/api/v1/targets", ANYONE),
        # (that a page holds only the user's region is tested in tests/maps)
        ("GET", "/maps/{theme}"): Rule(region_list("/maps/acceptance"), own_only()),
        ("GET", "/maps/{theme}.{fmt}"): Rule(region_list("/maps/acceptance.pdf"), own_only()),
        ("GET", "/maps/{theme}/offices"): Rule(
            region_list("/maps/acceptance/offices"), own_only(), offices_inside
        ),
        # (what a page's tile holds: tests/maps/test_map_pages.py decodes one)
        ("GET", "/maps/{theme}/tiles/{z}/{y}/{x}"): Rule(
            region_list("/maps/acceptance/tiles/5/12/26"), own_only()
        ),
        **own_tenant(
            "PUT",
            "/api/v1/targets",
            own_only(*ADMIN),
            json={"targets": [{"due_on": "2030-12-31", "share": 1}]},
        ),
    }
)
# Not part of the API: health, docs, redirect — reachable without a token by design.


def ogc_office(world: World, actor: str, relation: str) -> Request | None:
    """An office as an OGC API feature (as /api/v1/offices/{id})."""
    req = office_url()(world, actor, relation)
    if req is None:
        return None
    return "GET", f"/ogc/collections/offices/items/{req[1].rsplit('/', 1)[1]}", {}


def features_inside(body: Any, actor: str) -> list[str]:
    home = ACTORS[actor][1]
    codes = [f["properties"]["code"] for f in body["features"]]
    return [f"feature outside {home}: {c}" for c in codes if not c.startswith(home)]


MATRIX.update(
    {
        **own_tenant("GET", "/ogc", ANYONE),
        **own_tenant("GET", "/ogc/conformance", ANYONE),
        **own_tenant("GET", "/ogc/api", ANYONE),
        **own_tenant("GET", "/ogc/collections", ANYONE),
        **own_tenant(
            "GET", "/ogc/collections/{collection_id}", ANYONE, example="/ogc/collections/townships"
        ),
        **own_tenant(
            "GET",
            "/ogc/collections/{collection_id}/queryables",
            ANYONE,
            example="/ogc/collections/offices/queryables",
        ),
        ("GET", "/ogc/collections/{collection_id}/items"): Rule(
            # (a filter true everywhere: it must not widen the region)
            self_only(
                "GET",
                "/ogc/collections/offices/items",
                params={"limit": 1000, "filter": "id > 0 OR code LIKE '%'"},
            ),
            ANYONE,
            features_inside,
        ),
        ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(
            ogc_office, own_only()
        ),
    }
)


def ogc_feature(code: str) -> dict[str, Any]:
    body = office_body(code)
    point = body["location"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
        "properties": {"name": body["name"]},
    }


def ogc_create(world: World, actor: str, relation: str) -> Request | None:
    req = create_office(world, actor, relation)
    if req is None:
        return None
    code = FREE_TOWNSHIP[target_region(actor, relation) or ""]
    assert code is not None
    return "POST", "/ogc/collections/offices/items", {"json": ogc_feature(code)}


def ogc_replace(world: World, actor: str, relation: str) -> Request | None:
    req = ogc_office(world, actor, relation)
    region = target_region(actor, relation)
    if req is None or region is None:
        return None
    body = ogc_feature(OFFICE_TOWNSHIP[region])
    return "PUT", req[1], {"json": body, "headers": {"If-Match": '"2"'}}


MATRIX.update(
    {
        ("POST", "/ogc/collections/{collection_id}/items"): Rule(ogc_create, own_only(*WRITERS)),
        ("PUT", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(
            ogc_replace, own_only(*WRITERS)
        ),
        ("PATCH", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(
            with_method(
                ogc_office,
                "PATCH",
                json={"properties": {"address": "新地址"}},
                headers={"If-Match": '"2"'},
            ),
            own_only(*WRITERS, "office_staff"),
        ),
        ("DELETE", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(
            with_method(ogc_office, "DELETE", params={"reason": "matrix"}), own_only(*WRITERS)
        ),
    }
)
# Tiles are never refused for a place: outside the caller's region they are empty (204);
# what a region's tile holds is decoded in tests/ogc/test_tiles.py.
TILE = "/ogc/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
MATRIX.update(
    {
        **own_tenant("GET", "/ogc/tileMatrixSets", ANYONE),
        **own_tenant(
            "GET",
            "/ogc/tileMatrixSets/{tileMatrixSetId}",
            ANYONE,
            example="/ogc/tileMatrixSets/WorldCRS84Quad",
        ),
        **own_tenant(
            "GET",
            "/ogc/collections/{collection_id}/tiles",
            ANYONE,
            example="/ogc/collections/townships/tiles",
        ),
        **own_tenant(
            "GET",
            "/ogc/collections/{collection_id}/tiles/{tileMatrixSetId}",
            ANYONE,
            example="/ogc/collections/coverage/tiles/WebMercatorQuad",
        ),
        **own_tenant(
            "GET",
            TILE,
            ANYONE,
            example="/ogc/collections/offices/tiles/WebMercatorQuad/5/12/26",
            params={"filter": "id > 0 OR code LIKE '%'"},
        ),
    }
)
# no tenant's data: the service's own state (/metrics counts requests by route template, and
# answers only the networks of REGISTRY_METRICS_ALLOW: tests/ops/test_metrics.py)
UNSCOPED = {
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/"),
}


def api_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every operation the app serves, from its OpenAPI schema (routers nest, the schema
    lists them all)."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_endpoint_has_an_entry(app):
    served = api_routes(app)
    assert len(served) >= len(MATRIX)  # the enumeration itself sees the routers' endpoints
    missing = served - set(MATRIX) - UNSCOPED
    assert not missing, f"endpoints without access rules in the matrix: {sorted(missing)}"
    stale = set(MATRIX) - served
    assert not stale, f"matrix entries for endpoints that no longer exist: {sorted(stale)}"


def build_world(client, auth, base_data) -> World:
    offices = {}
    for code in sorted(set(OFFICE_TOWNSHIP.values())):
        who = "shanxi_admin" if code.startswith("14") else "henan_admin"
        r = client.post("/api/v1/offices", json=office_body(code), headers=auth(who))
        assert r.status_code == 201, r.text
        offices[code] = r.json()["id"]
    users = {k: v.user_id for k, v in base_data.logins.items()}
    staff, evidence = {}, {}
    for code, office in offices.items():
        who = auth("shanxi_admin" if code.startswith("14") else "henan_admin")
        member = {"name": "赵六", "formal": True, "civil_servant": True, "joined_on": "2020-01-01"}
        r = client.post(f"/api/v1/offices/{office}/staff", json=member, headers=who)
        assert r.status_code == 201, r.text
        staff[office] = r.json()["id"]
        files = {"file": ("e.pdf", PDF, "application/pdf")}
        r = client.post(f"/api/v1/offices/{office}/evidence", files=files, headers=who)
        assert r.status_code == 201, r.text
        evidence[office] = r.json()["id"]
        # (titled 文明司法所, so the civilised-offices report has rows to keep inside regions)
        record = {"mediation_cases": 10, "mediation_successes": 9, "titles": ["civilised_office"]}
        r = client.put(
            f"/api/v1/offices/{office}/work-records/{LAST_YEAR}", json=record, headers=who
        )
        assert r.status_code == 200, r.text
    tokens = {}
    for actor in ACTORS:
        writer = create(client, auth(actor), name="matrix", write=True)
        reader = create(client, auth(actor), name="matrix")
        tokens[actor] = {
            "id": writer["id"],
            "token": writer["token"],
            "read_only_token": reader["token"],
        }
    return World(offices, users, staff, evidence, tokens)


def credential_headers(world: World, auth, actor: str, credential: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The actor's login token, its access token as HTTP Basic's password, or its read-only
    access token as a bearer token."""
    if credential == "login":
        return dict(auth(actor))
    if credential == "read_only_token":
        return bearer(world.tokens[actor]["read_only_token"])
    return basic(actor, world.tokens[actor]["token"])


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_access_matrix(client, auth, base_data, db, credential):
    world = build_world(client, auth, base_data)
    cells = leaks = 0
    failures: list[str] = []
    for _, rule in sorted(MATRIX.items()):
        for actor in ACTORS:
            role = ACTORS[actor][0]
            for relation in RELATIONS:
                request = rule.build(world, actor, relation)
                if request is None:
                    continue
                verb, url, kwargs = request[0], request[1], dict(request[2])
                headers = {
                    **kwargs.pop("headers", {}),
                    **credential_headers(world, auth, actor, credential),
                }
                cells += 1
                savepoint = db.connection.begin_nested()
                try:
                    response = client.request(verb, url, headers=headers, **kwargs)
                finally:
                    savepoint.rollback()
                allowed = rule.allows(credential, verb, role, relation)
                status = response.status_code
                where = f"{verb} {url} as {actor} ({role}, {relation}, {credential}): {status}"
                if allowed and not 200 <= status < 300:
                    failures.append(f"expected allow, got {where} {response.text[:200]}")
                elif not allowed and not 400 <= status < 500:
                    leaks += 1
                    failures.append(f"LEAK: expected deny, got {where}")
                elif allowed and rule.check and "json" in response.headers.get("content-type", ""):
                    problems = rule.check(response.json(), actor)
                    leaks += len(problems)
                    failures += [f"LEAK in {where}: {p}" for p in problems]
    ARTIFACTS.mkdir(exist_ok=True)
    name = "access_matrix.json" if credential == "login" else f"access_matrix_{credential}.json"
    (ARTIFACTS / name).write_text(
        json.dumps(
            {
                "credential": credential,
                "endpoints": len(MATRIX),
                "actors": len(ACTORS),
                "cells": cells,
                "leaks": leaks,
            },
            indent=1,
        )
    )
    assert not failures, "\n".join(failures)
    assert cells >= 250
