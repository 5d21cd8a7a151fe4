"""The page of one's own personal access tokens (`/account/tokens`): the list — name, the
token's first characters, read-only or write, created, expires, last used, state — with a
revoke button for each active one, and the form that creates one. The forms call the API's
own services (`accounts/access_tokens.py`) with the login cookie and the login's form token
(`form_scope`), so a token can neither be made nor revoked from another site.

A created token is shown by the page that answers the form, this once: it is never put in a
URL (a redirect would have to carry it), and the page is not cached. A revocation comes back
with `?revoked=<id>`; the notice names that token as the list holds it, never text from the
URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from service.accounts import access_tokens
from service.accounts.schemas import AccessTokenCreate, AccessTokenCreated, AccessTokenOut
from service.accounts.scope import Scope
from service.core.errors import DomainError
from service.core.settings import Settings
from service.http.deps import CurrentScope, SessionDep, SettingsDep
from service.http.routing import Router
from service.pages.form_errors import summary
from service.pages.forms import csrf_token, form_scope
from service.pages.record_pages import (
    BEIJING,
    Notice,
    PostedFormDep,
    Refusal,
    saved_id,
    try_save,
)
from service.pages.templating import render

router = Router(include_in_schema=False)
PAGE = "/account/tokens"
LABELS_ZH = {"name": "用途", "expires_in_days": "有效期(天)", "write": "权限"}
STATES_ZH = {"active": "有效", "expired": "已过期", "revoked": "已撤销"}
LIFETIMES = (("30", "30 天"), ("90", "90 天"), ("180", "180 天"), ("365", "365 天"))
BLANK = {"name": "", "expires_in_days": "90", "write": ""}
REFUSALS_ZH = {  # by the domain error's code
    "conflict": f"您已有 {access_tokens.MAX_ACTIVE} 个有效的访问令牌,请先撤销不再使用的令牌",
    "forbidden": "请用用户名和密码登录后再管理访问令牌",
}
FormScope = Annotated[Scope, Depends(form_scope)]


def _local(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _revoked_notice(tokens: list[AccessTokenOut], token_id: int | None) -> Notice | None:
    """The notice of `?revoked=`: that token of the user's, if it is revoked."""
    for token in tokens:
        if token.id == token_id and token.revoked_at is not None:
            return Notice(what=f"已撤销访问令牌“{token.name}”({token.prefix}…)")
    return None


def _page(
    session: Session,
    scope: Scope,
    settings: Settings,
    *,
    form: dict[str, str],
    created: AccessTokenCreated | None = None,
    refusal: Refusal | None = None,
    revoked: int | None = None,
) -> HTMLResponse:
    """The list and the form (with `form` in its fields); at the top the created token, the
    refusal, or the notice of the revocation of token `revoked`."""
    tokens = access_tokens.list_tokens(session=session, scope=scope)
    errors = refusal.errors if refusal else {}
    response = render(
        "tokens.html",
        scope,
        session,
        tokens=tokens,
        states=STATES_ZH,
        lifetimes=LIFETIMES,
        local=_local,
        form=form,
        errors=errors,
        problems=summary(errors, LABELS_ZH),
        labels=LABELS_ZH,
        refusal=refusal.why if refusal else None,
        notice=_revoked_notice(tokens, revoked),
        created=created,
        csrf=csrf_token(settings, scope) if scope.interactive else None,
    )
    response.status_code = refusal.status if refusal else 200
    response.headers["Cache-Control"] = "no-store"  # (it may show a token)
    return response


@router.get(PAGE, response_class=HTMLResponse)
def tokens_page(
    scope: CurrentScope,
    session: SessionDep,
    settings: SettingsDep,
    revoked: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """My access tokens and the form to create one."""
    return _page(session, scope, settings, form=BLANK, revoked=saved_id(revoked))


def _refused(exc: DomainError) -> Refusal:
    return Refusal(REFUSALS_ZH.get(exc.code, "未能创建访问令牌"), exc.status)


@router.post(PAGE, response_class=HTMLResponse)
def create_token(
    scope: FormScope, session: SessionDep, settings: SettingsDep, form: PostedFormDep
) -> HTMLResponse:
    """Create the token, and show it this once above the list; or the form again saying why
    not."""
    typed = {**BLANK, **form.singles()}
    body: dict[str, Any] = {
        "name": typed["name"],
        "expires_in_days": typed["expires_in_days"],
        "write": typed["write"] == "true",
    }
    outcome = try_save(
        session,
        lambda: access_tokens.create_token(
            session=session, scope=scope, data=AccessTokenCreate.model_validate(body)
        ),
        refused=_refused,
    )
    if isinstance(outcome, Refusal):
        return _page(session, scope, settings, form=typed, refusal=outcome)
    return _page(session, scope, settings, form=BLANK, created=outcome)


@router.post(PAGE + "/{token_id}/revoke")
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**63 - 1)], scope: FormScope, session: SessionDep
) -> Response:
    """Revoke the token (another user's: not found), then the list announcing it."""
    access_tokens.revoke_token(session=session, scope=scope, token_id=token_id)
    return RedirectResponse(f"{PAGE}?revoked={token_id}", status_code=303)
