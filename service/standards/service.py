"""Publishing standards as tenant data, finding the one that applies, and the target curve."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.scope import Scope
from service.audit import service as audit
from service.core.errors import NotFound
from service.standards.definition import StandardDefinition, seed
from service.standards.definition import Target as TargetDefinition
from service.standards.models import Standard, StandardCriterion, Target

# The seeds each province starts with, and the day each takes effect. 第五篇 carries no date;
# it implements 司法部 司法〔2009〕19号, so it is taken to apply from 2010-01-01.
DEFAULT_STANDARDS: dict[str, list[tuple[str, date]]] = {
    "41": [("henan-2004", date(2004, 7, 22)), ("henan-2009", date(2010, 1, 1))],
    "14": [("shanxi-2008", date(2008, 7, 17))],
}


class StandardNotFound(NotFound):
    code = "standard_not_found"


# a criterion's fields as its definition writes them: stored, and shown, unchanged
AS_WRITTEN = ("key", "category", "text", "source", "kinds", "mandatory", "measure")


def as_written(criterion: Any) -> dict[str, Any]:
    """The AS_WRITTEN fields of a criterion (of a definition, or a stored one)."""
    return {field: getattr(criterion, field) for field in AS_WRITTEN}


def publish(
    *,
    session: Session,
    tenant_id: int,
    definition: StandardDefinition,
    effective_from: date,
    published_by: str,
    replace_targets: bool = True,
    target_region: str = "",
) -> Standard:
    """Store `definition` as the tenant's next version; its targets (if any) become the target
    curve of `target_region` ('' = the whole tenant; a district's standard sets the district's
    own schedule). Published versions are never changed (the table refuses it)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('standards'), :t)"), {"t": tenant_id}
    )
    version = (
        session.scalar(select(func.max(Standard.version)).where(Standard.tenant_id == tenant_id))
        or 0
    ) + 1
    standard = Standard(
        tenant_id=tenant_id,
        version=version,
        code=definition.code,
        title=definition.title,
        document=definition.document,
        issued_on=definition.issued_on,
        effective_from=effective_from,
        notes=definition.notes,
        published_by=published_by,
        procedure=definition.procedure,
        civilised_title_years=definition.civilised_title_years,
    )
    session.add(standard)
    session.flush()
    session.execute(
        insert(StandardCriterion),
        [
            {
                "tenant_id": tenant_id,
                "standard_id": standard.id,
                "position": i,
                **as_written(c),
                "op": c.op.value,
                "threshold": c.value,
                "item_values": c.values,
                "missing": c.missing,
            }
            for i, c in enumerate(definition.criteria, start=1)
        ],
    )
    if definition.targets and replace_targets:
        session.execute(
            text("DELETE FROM targets WHERE tenant_id = :t AND region_code = :r"),
            {"t": tenant_id, "r": target_region},
        )
        session.execute(
            insert(Target),
            [
                {
                    "tenant_id": tenant_id,
                    "region_code": target_region,
                    "due_on": t.due_on,
                    "share": t.share,
                    "aspirational": t.aspirational,
                    "source": f"{definition.title}({definition.document})",
                }
                for t in definition.targets
            ],
        )
    return standard


def ensure_default_standards(*, session: Session, tenant_id: int, tenant_code: str) -> int:
    """Publish the province's seed standards if the tenant has none yet; returns how many."""
    if session.scalar(select(Standard.id).where(Standard.tenant_id == tenant_id).limit(1)):
        return 0
    seeds = DEFAULT_STANDARDS.get(tenant_code, [])
    for code, effective_from in seeds:
        publish(
            session=session,
            tenant_id=tenant_id,
            definition=seed(code),
            effective_from=effective_from,
            published_by="system:seed",
        )
    return len(seeds)


def resolve(
    *, session: Session, tenant_id: int, ref: str | None, as_of: date | None = None
) -> Standard:
    """The standard a question is asked against: `ref` as a version number or a code (its
    latest version), else the version in force on `as_of` (default today)."""
    query = select(Standard).where(Standard.tenant_id == tenant_id)
    if ref is None or ref == "":
        query = query.where(Standard.effective_from <= (as_of or date.today())).order_by(
            Standard.effective_from.desc(), Standard.version.desc()
        )
        what = f"in force on {as_of or date.today()}"
    elif ref.isdigit():
        query = query.where(Standard.version == int(ref))
        what = f"version {ref}"
    else:
        query = query.where(Standard.code == ref).order_by(Standard.version.desc())
        what = f"code {ref!r}"
    standard = session.scalars(query.limit(1)).first()
    if standard is None:
        raise StandardNotFound(
            f"no standard {what} is published for this tenant", {"standard": ref}
        )
    return standard


def list_standards(*, session: Session, scope: Scope) -> list[dict[str, Any]]:
    scope.require(Action.read)
    rows = session.execute(
        text(
            """
            SELECT s.id, s.version, s.code, s.title, s.document, s.issued_on,
                   s.effective_from, s.published_at, s.published_by,
                   count(c.key) AS criteria,
                   count(c.key) FILTER (WHERE c.mandatory) AS mandatory
              FROM standards s
              LEFT JOIN standard_criteria c ON c.tenant_id = s.tenant_id
                                           AND c.standard_id = s.id
             WHERE s.tenant_id = :t
             GROUP BY s.tenant_id, s.id
             ORDER BY s.version
            """
        ),
        {"t": scope.tenant_id},
    )
    return [dict(r._mapping) for r in rows]


def criteria_of(*, session: Session, standard: Standard) -> list[StandardCriterion]:
    return list(
        session.scalars(
            select(StandardCriterion)
            .where(
                StandardCriterion.tenant_id == standard.tenant_id,
                StandardCriterion.standard_id == standard.id,
            )
            .order_by(StandardCriterion.position)
        )
    )


def targets_of(*, session: Session, tenant_id: int) -> list[Target]:
    return list(
        session.scalars(
            select(Target)
            .where(Target.tenant_id == tenant_id)
            .order_by(Target.region_code, Target.due_on)
        )
    )


def curve_for(targets: list[Target], code: str) -> list[Target]:
    """The schedule that judges region `code`: that of the longest region containing it
    (a district's own schedule, else the tenant's)."""
    regions = {t.region_code for t in targets if code.startswith(t.region_code)}
    if not regions:
        return []
    own = max(regions, key=len)
    return [t for t in targets if t.region_code == own]


def target_at(targets: list[Target], as_of: date) -> tuple[Target | None, Target | None]:
    """(the target in force at `as_of`, the next one) on one curve: the latest target due on
    or before `as_of` (None before the first, and where the standards set none), and the
    first one due after it."""
    current = None
    for t in targets:
        if t.due_on <= as_of:
            current = t
        else:
            return current, t
    return current, None


def target_curves(*, session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Every target curve: the tenant's (region "") and those set for one region."""
    scope.require(Action.read)
    return [
        {
            "region": t.region_code,
            "due_on": t.due_on,
            "share": float(t.share),
            "aspirational": t.aspirational,
            "source": t.source,
        }
        for t in targets_of(session=session, tenant_id=scope.tenant_id)
    ]


def _audited(target: dict[str, Any]) -> dict[str, Any]:
    out = {"due_on": str(target["due_on"]), "share": target["share"]}
    out |= {"region": target["region"]} if target["region"] else {}
    return out | ({"aspirational": True} if target["aspirational"] else {})


def set_targets(
    *, session: Session, scope: Scope, region: str | None, targets: Sequence[TargetDefinition]
) -> list[dict[str, Any]]:
    """Replace the tenant's target curve, or with `region` that region's own schedule
    (province admins; audited with the curves before and after)."""
    scope.require(Action.publish_standard)
    code = scope.region(region) if region else ""
    before = target_curves(session=session, scope=scope)
    session.execute(
        text("DELETE FROM targets WHERE tenant_id = :t AND region_code = :r"),
        {"t": scope.tenant_id, "r": code},
    )
    if targets:
        session.execute(
            insert(Target),
            [
                {
                    "tenant_id": scope.tenant_id,
                    "region_code": code,
                    "due_on": t.due_on,
                    "share": t.share,
                    "aspirational": t.aspirational,
                    "source": f"set by {scope.username}",
                }
                for t in targets
            ],
        )
    after = target_curves(session=session, scope=scope)
    audit.record_tenant_update(
        session,
        tenant_id=scope.tenant_id,
        tenant_code=scope.tenant_code,
        entity_type="targets",
        before={"targets": [_audited(t) for t in before]},
        after={"targets": [_audited(t) for t in after]},
    )
    return after
