"""A tenant's policy (provincial choices the documents leave open): which township kinds
must have an office, and how often a titled office is re-inspected. Read by the reports,
pages and the command line; changed by province admins, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.audit import service as audit
from service.core.errors import Invalid
from service.divisions.kinds import TOWNSHIP_KINDS, DivisionKind
from service.tenants.models import DEFAULT_REQUIRED_KINDS

DEFAULT_REINSPECTION_MONTHS = 24


@dataclass(frozen=True)
class Policy:
    code: str
    name: str
    required_kinds: tuple[str, ...]
    reinspection_months: int


def policy_of(session: Session, tenant_id: int) -> Policy:
    row = session.execute(
        text("SELECT code, name, required_kinds, reinspection_months FROM tenants WHERE id = :t"),
        {"t": tenant_id},
    ).one()
    return Policy(
        code=row.code,
        name=row.name,
        required_kinds=tuple(row.required_kinds or DEFAULT_REQUIRED_KINDS),
        reinspection_months=int(row.reinspection_months),
    )


def required_kinds(session: Session, tenant_id: int) -> tuple[str, ...]:
    """The township kinds that must have an office (docs/glossary.md: towns, townships, streets
    unless the province says otherwise)."""
    kinds = session.scalar(
        text("SELECT required_kinds FROM tenants WHERE id = :t"), {"t": tenant_id}
    )
    return tuple(kinds or DEFAULT_REQUIRED_KINDS)


def reinspection_months(session: Session, tenant_id: int) -> int:
    """The re-inspection period (provincial policy; 24 months unless set)."""
    months = session.scalar(
        text("SELECT reinspection_months FROM tenants WHERE id = :t"), {"t": tenant_id}
    )
    return int(months) if months is not None else DEFAULT_REINSPECTION_MONTHS


def set_required_kinds(*, session: Session, scope: Scope, kinds: Sequence[DivisionKind]) -> None:
    """Which township kinds must have an office (province admins; audited)."""
    scope.require(Action.manage_tenant)
    if any(k not in TOWNSHIP_KINDS for k in kinds):
        raise Invalid(
            "required_kinds must be township-level kinds",
            [
                {
                    "field": "required_kinds",
                    "problem": "town, township, street, development_zone ...",
                }
            ],
        )
    before = list(required_kinds(session, scope.tenant_id))
    after = sorted({k.value for k in kinds})
    session.execute(
        text("UPDATE tenants SET required_kinds = CAST(:k AS varchar[]) WHERE id = :t"),
        {"k": after, "t": scope.tenant_id},
    )
    audit.record_tenant_update(
        session,
        tenant_id=scope.tenant_id,
        tenant_code=scope.tenant_code,
        entity_type="tenants",
        before={"required_kinds": before},
        after={"required_kinds": after},
    )
