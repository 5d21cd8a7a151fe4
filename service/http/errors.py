"""The one place that maps domain errors (`service/core/errors.py`), validation errors and
database errors to HTTP responses: JSON for the API, a Chinese page for a browser."""

from __future__ import annotations

import logging
import re
from html import escape
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.errors import DomainError, ReadOnly, error_body
from service.core.metrics import DB_WAITS
from service.http.hop import check_credential, checks_own_credential

log = logging.getLogger("registry.errors")


def _field_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append(
            {
                "field": ".".join(loc) or str(err.get("loc", ("body",))[0]),
                "problem": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "")),
            }
        )
    return out


# What a person in a browser is told, by status (the API keeps its English codes and details)
PAGE_ERRORS_ZH = {
    400: "请求有误。",
    403: "您的角色或辖区不能查看或办理此项。",
    404: "未找到该页面,或该司法所、区划不在您的辖区内。",
    405: "不支持此操作。",
    409: "数据已被他人更改或与现有数据冲突,请刷新页面后重试。",
    422: "填写或链接中的内容有误,请检查后重试。",
    428: "请刷新页面后重试。",
    429: "尝试次数过多,请稍后再试。",
    503: "数据库暂时不可用,请稍后再试。",
}
_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/pages.css"></head>
<body><main><h1>{title}</h1><p>{message}</p>
<p><a href="{back}">返回</a> · <a href="/dashboard">工作台</a> ·
<a href="/login?next={next}">重新登录</a></p><p class="hint">错误代码:{status}</p></main></body></html>"""


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not an API client): it is shown a page, not JSON."""
    path = request.url.path
    return not path.startswith(("/api/", "/openapi", "/docs", "/redoc")) and "text/html" in (
        request.headers.get("accept", "")
    )


# Desktop GIS clients (GDAL, QGIS) answer a Basic challenge by sending or asking for a
# username and access token; under the OGC API they are offered one beside Bearer. Nowhere
# else: a browser would open its own login dialog over the pages.
OGC_PREFIX = "/ogc"
BASIC_CHALLENGE = 'Basic realm="registry"'
READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction

_OFFICE_PAGE = re.compile(r"^(/offices/[0-9]{1,18})/")


def page_of(path: str) -> str:
    """The page a form or sub-page belongs to (an office's page for its forms), else the
    dashboard: where "back" and a login renewed after a post lead (no script needed)."""
    match = _OFFICE_PAGE.match(path)
    return match.group(1) if match else "/dashboard"


def page_error(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """The Chinese page for an error of a page request; an expired or missing login goes to
    the login page, which brings the user back here."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # (a form's address cannot be opened again: its page can)
        here = page_of(request.url.path)
    if status == 401:
        return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)
    title = "系统内部错误" if status >= 500 and status != 503 else "无法完成请求"
    message = PAGE_ERRORS_ZH.get(status, "系统内部错误,操作未执行。请稍后再试或联系管理员。")
    body = _PAGE.format(
        title=title,
        message=message,
        next=escape(quote(here, safe="/")),
        back=escape(quote(page_of(request.url.path), safe="/")),
        status=status,
    )
    return HTMLResponse(body, status_code=status, headers=headers)


async def _answer(request: Request, error: Exception) -> Response:
    """The answer the app's handler of `error`'s kind gives (it is raised again if none)."""
    handlers = request.app.exception_handlers
    handler = next((handlers[k] for k in type(error).__mro__ if k in handlers), None)
    if handler is None:
        raise error
    response: Response = await handler(request, error)
    return response


def register_error_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to the common error body — or,
    for a browser navigating to a page, to a page in Chinese (or the login page)."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if wants_page(request):  # (its headers too: Retry-After of a 429 …)
            return page_error(request, exc.status, exc.headers)
        response = JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers={
                **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}),
                **(exc.headers or {}),
            }
            or None,
        )
        path = request.url.path
        if exc.status == 401 and (path == OGC_PREFIX or path.startswith(OGC_PREFIX + "/")):
            response.headers.append("WWW-Authenticate", BASIC_CHALLENGE)
        return response

    async def _validation(
        request: Request, exc: RequestValidationError | ValidationError
    ) -> Response:
        if isinstance(exc, RequestValidationError) and checks_own_credential(request):
            # (a route in one hop checks the credential after FastAPI read its parameters:
            # a request it refuses is refused first, as FastAPI's dependencies do, and its
            # client learns nothing of them — service/http/hop.py)
            try:
                await check_credential(request)
            except Exception as refused:
                return await _answer(request, refused)
        if wants_page(request):
            return page_error(request, 422)
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        return JSONResponse(
            error_body("invalid_request", f"invalid request: {summary}", fields), status_code=422
        )

    # Request parsing errors and model errors raised inside a route look the same to clients.
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _validation)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_page(request):
            return page_error(request, exc.status_code)
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # Checks run before writing; this is what a race between two requests looks like.
        if wants_page(request):
            return page_error(request, 409)
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        return JSONResponse(
            error_body(
                "conflict",
                "the change conflicts with existing data (made concurrently?); retry",
                {"constraint": constraint},
            ),
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        if wants_page(request):
            return page_error(request, 422)
        return JSONResponse(
            error_body("invalid", "a value is out of range or of the wrong type", None),
            status_code=422,
        )

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> Response:
        # every pooled connection stayed in use for the pool's whole timeout: too many
        # requests at once for this worker; the client may retry (counted for operators)
        DB_WAITS.labels(database="primary").inc()
        log.error("no database connection free in time: %s", exc)
        return _unavailable_response(request)

    @app.exception_handler(OperationalError)
    async def _unavailable(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable: %s", exc.orig)
        return _unavailable_response(request)

    def _unavailable_response(request: Request) -> Response:
        if wants_page(request):
            return page_error(request, 503, {"Retry-After": "5"})
        return JSONResponse(
            error_body("unavailable", "the database is unavailable; try again shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(InternalError)
    async def _internal(request: Request, exc: InternalError) -> Response:
        # a route that tried to write in a read-only access token's transaction: the
        # database refused it (the method check lets no change through, so this is a GET)
        if getattr(exc.orig, "sqlstate", None) != READ_ONLY_SQLSTATE:
            return await _unexpected(request, exc)
        return await _domain(
            request, ReadOnly("this access token is read-only: the request would write")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if wants_page(request):
            return page_error(request, 500)
        return JSONResponse(
            error_body("internal_error", "internal error; the request was not applied"),
            status_code=500,
        )
