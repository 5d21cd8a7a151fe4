"""`registry standards …`: list and publish a tenant's standard versions from the shell."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import fail, group, load_settings
from service.core.errors import DomainError

standards_app = group("Standards (规范化标准) as versioned data.")


@standards_app.command("list")
def standards_list(tenant: Annotated[str, typer.Option(help="tenant code, e.g. 41")]) -> None:
    """The tenant's published versions."""
    from service.core.operator import tenant_session
    from service.standards.models import Standard
    from service.tenants.service import find_tenant

    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
    except DomainError as exc:
        raise fail(exc.message) from exc
    with tenant_session(settings, found) as session:
        for s in session.query(Standard).order_by(Standard.version):
            typer.echo(f"{s.version}\t{s.code}\t{s.effective_from}\t{s.title}")


@standards_app.command("publish")
def standards_publish(
    tenant: Annotated[str, typer.Option(help="tenant code, e.g. 41")],
    effective_from: Annotated[str, typer.Option(help="YYYY-MM-DD the version takes effect")],
    seed: Annotated[str | None, typer.Option(help="a seed standard, e.g. henan-2009")] = None,
    file: Annotated[Path | None, typer.Option(help="a standard definition as JSON")] = None,
    keep_targets: Annotated[
        bool, typer.Option(help="keep the tenant's target curve instead of the file's")
    ] = False,
) -> None:
    """Publish a new version from a seed or a JSON definition (validated before storing)."""
    from pydantic import ValidationError

    from service.core.operator import operator_name, tenant_session
    from service.standards.definition import StandardDefinition
    from service.standards.definition import seed as load_seed
    from service.standards.service import publish
    from service.tenants.service import find_tenant

    if (seed is None) == (file is None):
        raise fail("give exactly one of --seed or --file")
    try:
        day = date.fromisoformat(effective_from)
        definition = (
            load_seed(seed)
            if seed
            else StandardDefinition.model_validate(json.loads(Path(file).read_text("utf-8")))  # type: ignore[arg-type]
        )
    except (ValueError, OSError, ValidationError) as exc:
        raise fail(f"cannot publish: {exc}") from exc
    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        with tenant_session(settings, found) as session:
            standard = publish(
                session=session,
                tenant_id=found.id,
                definition=definition,
                effective_from=day,
                published_by=operator_name(),
                replace_targets=not keep_targets,
            )
            version = standard.version
    except DomainError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"published {definition.code} as version {version} of tenant {tenant}")
