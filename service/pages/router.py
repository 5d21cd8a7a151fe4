"""Server-rendered pages for people (Chinese): login and logout. A login sets the access
token as an HttpOnly, SameSite=Strict cookie that only GET pages and maps accept."""

from __future__ import annotations

import hmac
import secrets
from html import escape
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import sessions
from service.accounts.security import DEVICE_TTL, decode_token
from service.core.context import client_ip_var, request_id_var
from service.core.db import bind_context
from service.core.errors import DomainError
from service.http.deps import TOKEN_COOKIE, SessionDep, SettingsDep
from service.http.routing import Router

router = Router(include_in_schema=False)

LOGIN = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 司法所登记系统</title><link rel="stylesheet" href="/static/maps.css"></head>
<body class="registry-page"><main><h1>司法所登记系统</h1>
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="form_token" value="{form_token}">
<label for="username">用户名</label><input id="username" name="username" autocomplete="username" required>
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
{error}<button type="submit">登录</button></form></main></body></html>"""
LOGIN_FORM_COOKIE = "registry_login_form"
DEVICE_COOKIE = "registry_device"
LOGIN_REFUSALS_ZH = {
    401: "用户名或密码错误",
    403: "登录页面已失效,请重新打开登录页面后再试",
    429: "登录失败次数过多,请稍后再试",
}


def safe_next(target: str | None) -> str:
    """Only a path on this site may be a redirect target (no open redirect): browsers read
    a backslash as a slash and drop tabs and newlines, so "/\\evil" or "/<tab>/evil" would
    leave the site."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        return "/dashboard"
    return target


def _login_page(
    next_url: str | None, form_token: str, error: str = "", status: int = 200
) -> Response:
    """The login form; its token is also set as a SameSite=Strict cookie, so that a form
    posted from another site (which cannot read the token, and whose post carries no such
    cookie) cannot log the browser in as someone else (login CSRF)."""
    html = LOGIN.format(
        next=escape(safe_next(next_url)),
        form_token=escape(form_token),
        error=f'<p class="registry-error">{escape(error)}</p>' if error else "",
    )
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        LOGIN_FORM_COOKIE,
        form_token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(next: str | None = None) -> Response:
    return _login_page(next, secrets.token_urlsafe(24))


def _same_site(request: Request) -> bool:
    """False when the browser says the form came from another site (Fetch metadata, or an
    Origin naming another host; the scheme is not compared, as a proxy may end TLS)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin in (None, "null"):
        return True
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


@router.post("/login")
async def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    form_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    cookie = request.cookies.get(LOGIN_FORM_COOKIE) or ""
    fresh = secrets.token_urlsafe(24)
    if not (cookie and hmac.compare_digest(cookie, form_token) and _same_site(request)):
        return _login_page(next, fresh, LOGIN_REFUSALS_ZH[403], 403)
    try:
        pair = await sessions.login(
            db=request.app.state.db,
            settings=settings,
            limiter=request.app.state.password_limiter,
            username=username,
            password=password,
            client=sessions.Client(
                ip=client_ip_var.get(),
                user_agent=request.headers.get("user-agent"),
                request_id=request_id_var.get(),
                device_token=request.cookies.get(DEVICE_COOKIE),
            ),
        )
    except DomainError as exc:
        message = LOGIN_REFUSALS_ZH.get(exc.status, LOGIN_REFUSALS_ZH[401])
        return _login_page(next, fresh, message, exc.status)
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        TOKEN_COOKIE,
        pair.access_token,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    if pair.device_token:
        response.set_cookie(
            DEVICE_COOKIE,
            pair.device_token,
            max_age=int(DEVICE_TTL.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/login",
        )
    response.delete_cookie(LOGIN_FORM_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """End the login session of the cookie's token (a forged logout harms nobody) and
    forget the cookie."""
    claims = decode_token(request.cookies.get(TOKEN_COOKIE) or "", key=settings.signing_key())
    if claims is not None:
        try:
            tenant_id, user_id = int(claims["tid"]), int(claims["sub"])
            bind_context(
                session,
                tenant_id=tenant_id,
                region=None,
                user_id=user_id,
                username=claims.get("usr"),
            )
            sessions.logout(
                session=session,
                tenant_id=tenant_id,
                user_id=user_id,
                session_id=int(claims["sid"]),
                everywhere=False,
            )
        except (KeyError, TypeError, ValueError):
            pass
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response
