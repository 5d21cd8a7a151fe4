"""Workflow steps taken from the office page: a form posted with the login cookie and a
CSRF token bound to the login session (HMAC with the signing key), checked before anything
else. The step itself is the same service call as the API's."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import Form, Request
from pydantic import ValidationError

from service.acceptance.schemas import StepIn
from service.accounts.scope import Scope
from service.core.errors import DomainError, Forbidden, Invalid, NotAuthenticated
from service.core.settings import Settings
from service.http.deps import TOKEN_COOKIE, SessionDep, SettingsDep, scope_for_token

REFUSALS_ZH = {
    "standard_not_met": "必备项未全部达标,请先对照上方“缺什么补什么”补齐",
    "illegal_transition": "司法所当前状态不能办理此环节",
    "forbidden": "您的角色不能办理此环节",
    "invalid": "填写内容有误",
    "evidence_not_found": "所附材料不属于本司法所",
    "office_not_found": "不在您的辖区或不存在",
}
LIST_SPLIT = re.compile(r"[\n,,、;;]+")


def csrf_token(settings: Settings, scope: Scope) -> str:
    message = f"csrf:{scope.tenant_id}:{scope.user_id}:{scope.session_id}".encode()
    return hmac.new(settings.signing_key().encode(), message, hashlib.sha256).hexdigest()[:40]


def form_scope(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=100)],
) -> Scope:
    """The cookie's user, if the form carries the token of their login session."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise NotAuthenticated("log in again: the login cookie is missing")
    scope = scope_for_token(request, session, settings, token)
    if not hmac.compare_digest(csrf, csrf_token(settings, scope)):
        raise Forbidden("the form has expired or did not come from this site; reload the page")
    return scope


def _items(text: str | None) -> list[str]:
    return [part.strip() for part in LIST_SPLIT.split(text or "") if part.strip()]


def step_input(
    *,
    comment: str | None,
    reasons: str | None,
    inspection_date: str | None,
    inspectors: str | None,
) -> StepIn:
    """A step's form fields as the API's body (lists one item a line, or comma-separated)."""
    try:
        return StepIn(
            comment=comment or None,
            reasons=_items(reasons),
            inspection_date=date.fromisoformat(inspection_date) if inspection_date else None,
            inspectors=_items(inspectors),
        )
    except (ValueError, ValidationError) as exc:
        raise Invalid("the form is not valid", {"field": "form"}) from exc


def why_refused(exc: DomainError, todo: Mapping[str, str]) -> str:
    """A refusal in Chinese: the open mandatory criteria by what is to be done about each
    (`todo`, by criterion key), the state, or what the form lacks — never the API's English
    message."""
    why = REFUSALS_ZH.get(exc.code, "办理失败")
    details = exc.details if isinstance(exc.details, dict) else {}
    if exc.code == "standard_not_met":
        open_ = [todo.get(k, k) for k in details.get("mandatory_open", [])]
        return f"{why}:" + ";".join(open_) if open_ else why
    if exc.code == "invalid" and details.get("field") in FIELDS_ZH:
        return f"{why}:{FIELDS_ZH[details['field']]}"
    return why


FIELDS_ZH = {
    "inspection_date": "需填写检查日期(不能晚于今天,不能早于上一环节)",
    "inspectors": "需填写检查人员",
    "reasons": "需填写理由",
    "form": "日期或内容格式不正确",
}
