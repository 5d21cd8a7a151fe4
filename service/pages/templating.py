"""The pages' Jinja environment and the one way a page is rendered: the user's role and
region in the header, autoescaped, percentages in the pages' format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.accounts.roles import ROLE_LABELS_ZH
from service.accounts.scope import Scope
from service.standards.compliance import division_names

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render(name: str, scope: Scope, session: Any, **context: Any) -> HTMLResponse:
    names = division_names(session, scope.tenant_id, [scope.region_code])
    context.setdefault("nav", None)
    html = TEMPLATES.get_template(name).render(
        scope=scope,
        role_label=ROLE_LABELS_ZH[scope.role],
        region_name=names.get(scope.region_code, scope.tenant_name),
        pct=pct,
        **context,
    )
    return HTMLResponse(html)
