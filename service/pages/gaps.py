"""The townships without an office, as a page: the whole list of a region (filtered by kind
and date, paged, counted), each county a link to its own list, and the export of exactly
what is filtered. The filter is the coverage API's own (`coverage_filter`), so the page, the
export and the dashboard count the same townships."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from service.core.errors import Invalid
from service.coverage import service as coverage
from service.coverage.dependencies import coverage_filter
from service.divisions.kinds import (
    TOWNSHIP_KIND_LABELS_ZH,
    DivisionKind,
)
from service.http.deps import CurrentScope, SessionDep
from service.http.params import page_date
from service.http.routing import Router
from service.pages.regions import RegionParam, link, region_nav
from service.pages.templating import render

router = Router(include_in_schema=False)
PAGE_SIZES = (20, 50, 100)


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    scope: CurrentScope,
    session: SessionDep,
    region: RegionParam = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    as_of: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per: Annotated[int, Query(ge=1, le=100)] = 50,
) -> HTMLResponse:
    """Required townships with no active office standing in them (the dashboard's 空白)."""
    if kind and kind not in TOWNSHIP_KIND_LABELS_ZH:
        raise Invalid(f"kind: {kind} is not a township kind", {"field": "kind"})
    per = per if per in PAGE_SIZES else 50
    f = coverage_filter(
        scope,
        region=region or None,
        as_of=page_date(as_of),
        kind=[DivisionKind(kind)] if kind else None,
    )
    table = coverage.gaps(session, f, limit=per, offset=(page - 1) * per)
    params = {k: v for k, v in request.query_params.items() if k in ("kind", "as_of", "per") and v}
    pages = max(1, -(-table.total // per))
    export = urlencode(
        {
            "region": f.region,
            **({"kind": kind} if kind else {}),
            **({"as_of": as_of} if as_of else {}),
        }
    )
    return render(
        "gaps.html",
        scope,
        session,
        nav=region_nav(session, scope, f.region, "/gaps", params),
        region=f.region,
        table=table,
        kind=kind or "",
        as_of=as_of or "",
        per=per,
        page=page,
        pages=pages,
        page_sizes=PAGE_SIZES,
        kinds=TOWNSHIP_KIND_LABELS_ZH,
        page_link=lambda n: link("/gaps", params, f.region) + f"&page={n}",
        county_link=lambda code: link("/gaps", params, code),
        export=export,
        note=table.note,
    )
