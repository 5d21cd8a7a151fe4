"""Map pages: /maps/{theme} for any region the user may see, with filters (region, state,
division kind, date), served as HTML that loads only the registry's own files; and the same
maps to print, /maps/{theme}.pdf and .png."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from maps.data import MapData
from maps.inert import inert_html as escape  # the bar is rendered again as a template
from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.core.byte_cache import ByteCache
from service.core.errors import Invalid, Unavailable
from service.core.settings import Settings
from service.divisions.kinds import TOWNSHIP_KIND_LABELS_ZH, TOWNSHIP_KINDS
from service.http.caching import client_holds, data_tag
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.downloads import attachment
from service.http.params import PageRegionParam, page_date
from service.http.routing import Router
from service.maps.data import Purpose, map_data
from service.offices.states import ACCEPTANCE_LABELS_ZH, AcceptanceState
from service.pages.regions import RegionNav, region_nav

if TYPE_CHECKING:
    from maps.base import Basemap

router = Router(tags=["maps"])
Theme = Literal["coverage", "facility", "staffing", "acceptance", "aggregates"]
THEME_LABELS = {
    "coverage": "覆盖情况",
    "facility": "设施",
    "staffing": "人员",
    "acceptance": "验收状态",
    "aggregates": "分区统计",
}


# the printed versions a map page links to: (format, paper, label)
PRINTS = [
    ("pdf", {"paper": "A4", "orientation": "landscape"}, "PDF A4 横向"),
    ("pdf", {"paper": "A4", "orientation": "portrait"}, "PDF A4 纵向"),
    ("pdf", {"paper": "A3", "orientation": "landscape"}, "PDF A3 横向"),
    ("png", {"paper": "A4", "orientation": "landscape"}, "PNG 图片"),
]


def basemap_of(settings: Settings) -> Basemap:
    from maps.base import Basemap

    key = settings.tianditu_key.get_secret_value() if settings.tianditu_key else None
    return Basemap(
        kind=settings.basemap,
        url=settings.basemap_url,
        key=key,
        attribution=settings.basemap_attribution,
    )


def filter_bar(
    theme: str, region: str, params: dict[str, str], nav: RegionNav, messages: list[str]
) -> str:
    """Where the map is (the region trail, each a link), the other themes, and a GET form for
    the region below and the filters (no script needed). On a phone the bar folds away
    behind one button (a checkbox and CSS)."""
    trail = " › ".join(
        f'<a href="{escape(p.href)}">{escape(p.name)}</a>'
        if i < len(nav.trail) - 1
        else f'<span aria-current="page">{escape(p.name)}</span>'
        for i, p in enumerate(nav.trail)
    )
    links = "".join(
        f'<a class="{"current" if t == theme else ""}" href="/maps/{t}?'
        f'{escape(urlencode({**params, "region": region}))}">{label}</a>'
        for t, label in THEME_LABELS.items()
    )
    children = "".join(
        f'<option value="{escape(c.code)}">{escape(c.name)}</option>' for c in nav.children
    )
    below = (
        f'<label>下级{escape(nav.child_level or "区域")} <select name="region" id="region-filter">'
        f'<option value="{escape(region)}">全部</option>{children}</select></label> '
        if nav.children
        else f'<input type="hidden" name="region" value="{escape(region)}">'
    )
    states = "".join(
        f'<option value="{s.value}"{" selected" if params.get("state") == s.value else ""}>'
        f"{ACCEPTANCE_LABELS_ZH[s]}</option>"
        for s in AcceptanceState
    )
    kinds = "".join(
        f'<option value="{k}"{" selected" if params.get("kind") == k else ""}>{label}</option>'
        for k, label in TOWNSHIP_KIND_LABELS_ZH.items()
    )
    here = {**params, "region": region}
    prints = " · ".join(
        f'<a href="/maps/{theme}.{fmt}?{escape(urlencode({**here, **sheet}))}" download>{label}</a>'
        for fmt, sheet, label in PRINTS
    )
    notices = "".join(
        f'<div class="registry-message" role="status">{escape(m)}</div>' for m in messages
    )
    return (
        f'<div class="registry-bar"><input type="checkbox" id="bar-toggle" class="registry-toggle"'
        ' aria-label="显示区域与筛选">'
        f'<label for="bar-toggle" class="registry-toggle-label">区域与筛选</label>'
        f'<div class="registry-bar-body"><nav class="registry-trail" aria-label="区域">{trail}'
        f' · <a href="/dashboard?{escape(urlencode({"region": region}))}">工作台</a></nav>'
        f'<nav class="registry-themes" aria-label="专题">{links}</nav>'
        f'<form method="get" action="/maps/{theme}">{below}'
        f'<label>状态 <select name="state" id="state-filter"><option value="">全部</option>'
        f"{states}</select></label> "
        f'<label>类型 <select name="kind" id="kind-filter"><option value="">全部</option>'
        f"{kinds}</select></label> "
        f'<label>日期 <input type="date" name="as_of" value="{escape(params.get("as_of", ""))}">'
        f'</label> <button type="submit">筛选</button></form>'
        f'<nav class="registry-prints" aria-label="下载打印版">下载打印版:{prints}</nav>'
        f"</div></div>{notices}"
    )


StateParam = Annotated[
    str | None,
    Query(pattern="^(" + "|".join(s.value for s in AcceptanceState) + ")?$"),
]
KindParam = Annotated[
    list[str] | None,
    Query(description="township kinds (town, township, street, development_zone …)"),
]
AsOfParam = Annotated[str | None, Query(pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
PRINT_MEDIA = {"pdf": "application/pdf", "png": "image/png"}


@dataclass(frozen=True)
class MapQuery:
    """A map's region and filters, checked: the one place the map routes (page, printed
    map, the page's offices) apply the caller's region guard."""

    session: Session
    scope: Scope
    theme: str
    region: str
    as_of: date | None
    state: str | None
    kinds: tuple[str, ...] | None

    def data(self, purpose: Purpose) -> MapData:
        return map_data(
            session=self.session,
            scope=self.scope,
            theme=self.theme,
            region=self.region,
            as_of=self.as_of,
            state=self.state,
            kinds=self.kinds,
            purpose=purpose,
        )


def _map_query(
    theme: Theme,
    scope: CurrentScope,
    session: SessionDep,
    region: PageRegionParam = None,
    state: StateParam = None,
    kind: KindParam = None,
    as_of: AsOfParam = None,
) -> MapQuery:
    """The map of `theme` in the caller's region (or one inside it), with the filters.
    Empty filter fields (as the page's form sends them) mean "no filter"."""
    scope.require(Action.read)
    prefix = scope.region(region or None)
    kinds = tuple(k for k in (kind or []) if k)
    unknown = sorted(set(kinds) - {k.value for k in TOWNSHIP_KINDS})
    if unknown:
        raise Invalid(f"kind: {', '.join(unknown)} is not a township kind", {"field": "kind"})
    return MapQuery(session, scope, theme, prefix, page_date(as_of), state or None, kinds or None)


MapQueryDep = Annotated[MapQuery, Depends(_map_query)]


# Printed maps drawn at once by a worker, their data included: a national one holds ≈450 MB
# while it is made (scripts/bench maps), so a burst of them must queue, not pile up
PRINTS_AT_ONCE = 2
PRINT_WAIT_S = 20.0
_print_slots = threading.BoundedSemaphore(PRINTS_AT_ONCE)


def _print_slot(scope: CurrentScope) -> Iterator[None]:
    """A place among the worker's printed maps, taken before their data is read (after the
    caller's credential); 503 with Retry-After when none frees up within PRINT_WAIT_S."""
    if not _print_slots.acquire(timeout=PRINT_WAIT_S):
        raise Unavailable(
            "too many printed maps are being drawn; try again in a minute",
            {"retry_after": 30},
            headers={"Retry-After": "30"},
        )
    try:
        yield
    finally:
        _print_slots.release()


@router.get(
    "/maps/{theme}.{fmt}",
    response_class=Response,
    responses={200: {"content": {m: {} for m in PRINT_MEDIA.values()}}},
)
def printed_map(
    theme: Theme,
    fmt: Literal["pdf", "png"],
    scope: CurrentScope,
    _slot: Annotated[None, Depends(_print_slot, scope="function")],
    query: MapQueryDep,
    settings: SettingsDep,
    paper: Literal["A4", "A3"] = "A4",
    orientation: Literal["landscape", "portrait"] = "landscape",
) -> Response:
    """The themed map of a region as a page to print (PDF or PNG, A4 or A3): the same
    data, colours and legend counts as the map page, with a title, scale bar, north arrow,
    the data's date and filters, notes and the issuing unit."""
    font = settings.print_font
    if not font.is_file():
        raise Unavailable(
            f"printed maps need a CJK font at {font} (REGISTRY_PRINT_FONT): install Debian's"
            " fonts-noto-cjk",
            {"field": "print_font"},
        )
    data = query.data("print")
    # matplotlib is loaded by the first printed map (as folium by the first map page)
    os.environ.setdefault("MPLCONFIGDIR", str(settings.var_dir / "matplotlib"))
    from maps.printed import Imprint, Sheet, render, title_of

    today = date.today()
    state = data.filters.get("state")
    shown = [ACCEPTANCE_LABELS_ZH[AcceptanceState(state)]] if state else []
    shown += [TOWNSHIP_KIND_LABELS_ZH.get(k, k) for k in data.filters.get("kinds") or ()]
    imprint = Imprint(
        issued_by=scope.tenant_name,
        printed_on=today,
        data_date=data.filters.get("as_of") or today,
        filters="、".join(shown) or None,
    )
    body = render(theme, data, Sheet(paper, orientation), imprint, fmt=fmt, font_path=str(font))
    name = f"{title_of(theme, data)}_{imprint.data_date:%Y%m%d}_{paper}"
    return attachment(body, PRINT_MEDIA[fmt], name, fmt)


@router.get("/maps/{theme}", response_class=HTMLResponse)
def map_page(
    theme: Theme,
    request: Request,
    query: MapQueryDep,
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """The themed map of a region (default: the user's), as a page. Empty filter fields (as
    the page's form sends them) mean "no filter"."""
    # folium is loaded by the first map a process draws (12 MB and 0.3 s of start-up that a
    # worker serving the API, the OGC API or tiles never needs)
    import folium

    from maps.base import page_html
    from maps.themes import build_map

    params = {k: v for k, v in request.query_params.items() if k not in ("region",) and v}
    tag = page_etag(query, params, "page")
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if client_holds(request, tag):
        return HTMLResponse(status_code=304, headers=headers)
    cache: ByteCache = request.app.state.page_cache
    kept = cache.get(tag)
    if kept is not None:
        return HTMLResponse(kept, headers=headers)
    data = query.data("page")
    prefix = data.region_code
    # (urlencode turns the braces of a value into %7B/%7D: only "{theme}" is a placeholder)
    data.drill = f"/maps/{{theme}}?{urlencode({**params, 'region': ''})}"
    m = build_map(theme, data, basemap_of(settings))
    nav = region_nav(session, scope, prefix, f"/maps/{theme}", params)
    bar = filter_bar(theme, prefix, params, nav, data.messages)
    m.get_root().html.add_child(folium.Element(bar))  # type: ignore[attr-defined]
    page = page_html(m).encode()
    cache.put(tag, page)
    return HTMLResponse(page, headers=headers)


def page_etag(query: MapQuery, params: dict[str, str], what: str) -> str:
    """The entity tag of `what` a map route makes ("page", "offices", "offices.gz") from
    its query (service/http/caching.py `data_tag`): the theme, the region shown, the filters
    and the date asked, beside the data (of the region's city) and the caller. `what` is a part of its own, never
    a query parameter: no query can make one route's tag name another route's bytes."""
    as_of = query.as_of.isoformat() if query.as_of else ""
    return data_tag(
        query.session,
        query.scope,
        what,
        query.theme,
        query.region,
        urlencode(sorted(params.items())),
        as_of,
        bounded_by=query.region,  # (a map shows the offices of its region, and what lies in it)
    )


@router.get("/maps/{theme}/offices")
def map_offices(theme: Theme, request: Request, query: MapQueryDep) -> Response:
    """The offices of a province's map page as GeoJSON, each with its mark's style and what
    its popup shows: the page loads them after it has loaded (maps.layers FetchedOffices),
    so that it stays small. The same region guard and filters as the page."""
    from maps.themes import office_features

    if theme == "aggregates":
        raise Invalid("theme: the aggregates map draws no offices", {"field": "theme"})
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    params = {k: v for k, v in request.query_params.items() if k not in ("region",) and v}
    # (its own tag: the same query as the page's, but another body, zipped or not)
    tag = page_etag(query, params, "offices.gz" if zipped else "offices")
    headers = {"ETag": tag, "Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if client_holds(request, tag):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    cache: ByteCache = request.app.state.page_cache
    body = cache.get(tag)
    if body is None:
        features = office_features(theme, query.data("offices"))
        body = json.dumps(features, ensure_ascii=False, separators=(",", ":")).encode()
        # a province's offices are ≈1 MB of repetitive JSON and ≈10 % of it compressed
        if zipped:
            body = gzip.compress(body, compresslevel=5)
        cache.put(tag, body)
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get(
    "/maps/{theme}/tiles/{z}/{y}/{x}",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.mapbox-vector-tile": {}}, "description": "the tile"},
        204: {"description": "nothing of the map in the tile"},
        304: {"description": "the tile the ETag in If-None-Match names is still current"},
    },
)
def map_tile(
    theme: Theme,
    z: Annotated[int, Path()],
    y: Annotated[int, Path()],
    x: Annotated[int, Path()],
    request: Request,
    query: MapQueryDep,
) -> Response:
    """A map page's tile (WebMercatorQuad, z/row/column): its townships and its county and
    city lines as layers of one Mapbox Vector Tile, each made as the OGC API's tile of its
    collection is. The same region guard and filters as the page (the state filter colours
    only the offices)."""
    from service.features.tiles import MVT
    from service.maps.tiles import page_tile

    tag, body = page_tile(
        query.session,
        query.scope,
        request.app.state.tile_cache,
        query.theme,
        query.region,
        query.as_of,
        query.kinds,
        (z, y, x),
        held=lambda tag: client_holds(request, tag),
    )
    # (what a tile holds depends on who asks: revalidated by every client, kept by none)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if body is None:
        return Response(status_code=304, headers=headers)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
