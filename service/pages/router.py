"""Server-rendered pages for people (Chinese): login and logout. A login sets the access
token as an HttpOnly, SameSite=Strict cookie that only GET pages and maps accept."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import sessions
from service.accounts.security import decode_token
from service.context import client_ip_var, request_id_var
from service.db import SessionDep, bind_context
from service.deps import TOKEN_COOKIE, SettingsDep
from service.errors import DomainError

router = APIRouter(include_in_schema=False)

LOGIN = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>登录 · 司法所登记系统</title><link rel="stylesheet" href="/static/maps.css"></head>
<body class="registry-page"><h1>司法所登记系统</h1>
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="username">用户名</label><input id="username" name="username" autocomplete="username" required>
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
{error}<button type="submit">登录</button></form></body></html>"""


def safe_next(target: str | None) -> str:
    """Only a path on this site may be a redirect target (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\\\" in target:
        return "/dashboard"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(next: str | None = None) -> HTMLResponse:
    return HTMLResponse(LOGIN.format(next=escape(safe_next(next)), error=""))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    try:
        pair = sessions.login(
            session=session,
            db=request.app.state.db,
            settings=settings,
            username=username,
            password=password,
            ip=client_ip_var.get(),
            user_agent=request.headers.get("user-agent"),
            request_id=request_id_var.get(),
        )
    except DomainError as exc:
        message = "用户名或密码错误" if exc.status == 401 else "登录失败次数过多,请稍后再试"
        return HTMLResponse(
            LOGIN.format(
                next=escape(safe_next(next)),
                error=f'<p class="registry-error">{escape(message)}</p>',
            ),
            status_code=exc.status,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        pair.access_token,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """End the login session of the cookie's token (a forged logout harms nobody) and
    forget the cookie."""
    claims = decode_token(request.cookies.get(TOKEN_COOKIE) or "", key=settings.signing_key())
    if claims is not None:
        try:
            tenant_id, user_id = int(claims["tid"]), int(claims["sub"])
            bind_context(session, tenant_id=tenant_id, user_id=user_id, username=claims.get("usr"))
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
