"""Report exports (CSV, XLSX, GeoJSON) kept by the data versions they read.

A router of reports declares `KEPT_EXPORTS` among its dependencies and `ExportRoute` as its
route class. For a GET asking `format=csv|xlsx|geojson`, the dependency names the file by an
ETag — the code (service/core/build.py), the data versions of everything a report reads
(service/core/versions.py, read in the request's own transaction: a write is in the next
export), the caller's tenant, region and role, the path, the query and the day — and answers
304 to a client that holds it, or the file a worker kept under it, before the report is
computed; else the route computes it and the route class keeps the file under the tag.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.accounts.scope import Scope
from service.core.byte_cache import ByteCache
from service.http.caching import client_holds, data_tag
from service.http.deps import CurrentScope, SessionDep

EXPORTS = frozenset({"csv", "xlsx", "geojson"})
_KEPT_HEADERS = ("content-type", "content-disposition")


class Kept(Exception):
    """The answer is known before the report is computed: 304, or the kept file."""

    def __init__(self, response: Response) -> None:
        super().__init__("kept")
        self.response = response


def export_etag(request: Request, scope: Scope, session: Session) -> str:
    query = urlencode(sorted(request.query_params.multi_items()))
    return data_tag(session, scope, request.url.path, query)


async def kept_export(request: Request, scope: CurrentScope, session: SessionDep) -> None:
    if request.method != "GET" or request.query_params.get("format") not in EXPORTS:
        return
    tag = await run_in_threadpool(export_etag, request, scope, session)
    request.state.export_tag = tag
    if client_holds(request, tag):
        raise Kept(Response(status_code=304, headers={"ETag": tag}))
    cache: ByteCache = request.app.state.page_cache
    found = cache.get(tag)
    if found is not None:
        head, _, body = found.partition(b"\n")
        headers = {**json.loads(head), "ETag": tag}
        raise Kept(Response(body, headers=headers))


KEPT_EXPORTS = Depends(kept_export)


class ExportRoute(APIRoute):
    """A route whose file answers are kept under the tag `kept_export` named (and which
    answers what `kept_export` found without computing the report)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except Kept as kept:
                return kept.response
            tag: str | None = getattr(request.state, "export_tag", None)
            if tag is None or response.status_code != 200:
                return response
            if "content-disposition" in response.headers and hasattr(response, "body"):
                head = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
                cache: ByteCache = request.app.state.page_cache
                cache.put(tag, json.dumps(head).encode() + b"\n" + bytes(response.body))
                response.headers["ETag"] = tag
            return response

        return handle
