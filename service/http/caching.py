"""Conditional GETs: whether a client already holds the representation an ETag names, and
the tag of what is made from a tenant's data as the caller sees it (map pages, exports)."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy.orm import Session
from starlette.requests import Request

from service.accounts.scope import Scope
from service.core.build import BUILD
from service.core.versions import EVERY_TABLE, data_version


def client_holds(request: Request, tag: str) -> bool:
    """The client holds what `tag` names: If-None-Match on a GET (weak or strong, or *)."""
    sent = request.headers.get("if-none-match", "")
    held = (t.strip().removeprefix("W/") for t in sent.split(","))
    return request.method == "GET" and (sent.strip() == "*" or tag in held)


def data_tag(session: Session, scope: Scope, *parts: str, bounded_by: str = "") -> str:
    """The entity tag of something made from the tenant's data as `scope` sees it: equal
    exactly when it would be made the same — the same code (service/core/build.py), the data
    versions of every versioned table (read in the request's own transaction: a write is in
    the next one), the caller's tenant, own region and role, the `parts` that say what was
    asked (path, region, filters), and the day ("today" for dates, targets, deadlines).
    `bounded_by`: the division everything it shows of offices lies in (a map of a city or a
    county), so that writes in other cities leave the tag as it was (service/core/versions.py);
    "" when it may show more."""
    version = data_version(session, tenant_id=scope.tenant_id, names=EVERY_TABLE, region=bounded_by)
    key = "|".join(
        (
            BUILD,
            str(version),
            str(scope.tenant_id),
            scope.region_code,
            scope.role.value,
            *parts,
            date.today().isoformat(),
        )
    )
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
