"""Where a page is and where it can go: the trail from the user's home region down to the
region shown, and a tree of the regions below (province → city → county → township), never
above or beside the user's own region. Every page that takes `region` draws the same picker;
the requested region is checked by `Scope.region`, the one guard of the API too.

Sub-regions are the current divisions whose parent is the region (2 → 4 → 6 → 9 digits, the
breakdown the reports use, and a county directly under its province too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.scope import Scope
from service.core.errors import Invalid
from service.divisions.codes import REGION_PATTERN
from service.divisions.models import Division
from service.divisions.predicates import version_valid
from service.http.deps import CurrentScope, SessionDep
from service.http.params import PageRegionParam
from service.http.routing import Router
from service.pages.templating import TEMPLATES
from service.standards.compliance import division_names

router = Router(include_in_schema=False)
RegionParam = PageRegionParam  # "" or absent: the user's own region
WIDTHS = (2, 4, 6, 9)
LEVEL_NAMES = {2: "省", 4: "市", 6: "县(市、区)", 9: "乡镇(街道)"}
# pages whose links the picker may build (a fragment request names one of them)
PICKER_PATHS = (
    "/dashboard",
    "/dashboard/progress",
    "/dashboard/coverage",
    "/offices",
    "/gaps",
    "/maps/coverage",
    "/maps/acceptance",
    "/maps/facility",
    "/maps/staffing",
    "/maps/aggregates",
)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    href: str


@dataclass(frozen=True)
class RegionNav:
    """The trail (home region first, the shown region last) and the shown region's children,
    on the page at `path` (where the picker's next level links to)."""

    trail: list[Place]
    children: list[Place]
    child_level: str | None
    path: str


@dataclass(frozen=True)
class RegionPageRequest:
    """A request for a page of a region: the request, who asks, the session, and the region
    as asked (None or "": the user's own; `Scope.region` checks it where the page reads it)."""

    request: Request
    scope: Scope
    session: Session
    region: str | None


def region_page(
    request: Request, scope: CurrentScope, session: SessionDep, region: RegionParam = None
) -> RegionPageRequest:
    return RegionPageRequest(request, scope, session, region)


RegionPage = Annotated[RegionPageRequest, Depends(region_page)]


def children_of(session: Any, tenant_id: int, region: str) -> list[tuple[str, str]]:
    """(code, name) of the current divisions directly below `region` (its parent code:
    a county directly under its province is found too), by code."""
    d = Division.__table__
    # (ix_divisions_current_children answers both)
    below = d.c.parent_code == region if region else d.c.parent_code.is_(None)
    rows = session.execute(
        select(d.c.code, d.c.name)
        .where(d.c.tenant_id == tenant_id, version_valid(d, None), below)
        .order_by(d.c.code)
    ).all()
    return [(r.code, r.name) for r in rows]


Params = Mapping[str, str] | Sequence[tuple[str, str]]


def link(path: str, params: Params, region: str) -> str:
    """The same page for another region: its filters kept (a repeated one too), paging reset."""
    pairs = params.items() if isinstance(params, Mapping) else params
    kept = [(k, v) for k, v in pairs if k not in ("region", "page", "offset") and v]
    return f"{path}?{urlencode([*kept, ('region', region)])}"


def region_nav(session: Any, scope: Scope, region: str, path: str, params: Params) -> RegionNav:
    home = scope.region_prefix
    codes = [home] + [region[:w] for w in WIDTHS if len(home) < w <= len(region)]
    codes = [c for i, c in enumerate(codes) if c not in codes[:i]]
    names = division_names(session, scope.tenant_id, [c for c in codes if c])
    trail = [  # (a level the region skips, e.g. a county directly under its province: left out)
        Place(c, names.get(c, c or scope.tenant_name), link(path, params, c))
        for c in codes
        if c in (home, region) or c in names
    ]
    kids = children_of(session, scope.tenant_id, region)
    level = LEVEL_NAMES.get(len(kids[0][0])) if kids else None
    return RegionNav(trail, [Place(c, n, link(path, params, c)) for c, n in kids], level, path)


@router.get("/regions/children", response_class=HTMLResponse)
def region_children(
    scope: CurrentScope,
    session: SessionDep,
    region: Annotated[str, Query(pattern=REGION_PATTERN)],
    path: Annotated[str, Query(max_length=40)] = "/dashboard",
) -> HTMLResponse:
    """The picker's next level as a list fragment (htmx loads it when a node is opened);
    only regions inside the user's own."""
    if path not in PICKER_PATHS:
        raise Invalid("path: not a page with a region picker", {"field": "path"})
    prefix = scope.region(region)
    html = TEMPLATES.get_template("region_children.html").render(
        children=[
            Place(c, n, link(path, {}, c)) for c, n in children_of(session, scope.tenant_id, prefix)
        ],
        path=path,
    )
    return HTMLResponse(html)
