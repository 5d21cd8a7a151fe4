"""`registry tenant …` and `registry user …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.accounts.roles import Role
from service.cli.common import fail, group, load_settings, read_password, say
from service.core.errors import DomainError

tenant_app = group("Tenants (provincial departments).")
user_app = group("User accounts.")


@tenant_app.command("create")
def tenant_create(
    code: Annotated[str, typer.Option(help="2-digit province code, e.g. 41")],
    name: Annotated[str, typer.Option(help="e.g. 河南省司法厅")],
    admin: Annotated[str | None, typer.Option(help="username of the first province admin")] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="file holding the admin's password")
    ] = None,
) -> None:
    """Create a tenant and, optionally, its first province admin."""
    from service.accounts.service import create_user
    from service.core.operator import bind_operator, owner_session
    from service.tenants.service import create_tenant

    if admin and not password_file:
        raise fail("--admin needs --password-file")
    settings = load_settings()
    try:
        with owner_session(settings) as session:
            tenant = create_tenant(session=session, code=code, name=name)
            bind_operator(session, tenant.id)
            if admin and password_file:
                create_user(
                    session=session,
                    tenant=tenant,
                    username=admin,
                    password=read_password(password_file),
                    role=Role.province_admin,
                )
    except DomainError as exc:
        raise fail(exc.message) from exc
    say(f"tenant {code} {name} created" + (f" with admin {admin}" if admin else ""))


@tenant_app.command("list")
def tenant_list() -> None:
    from service.core.operator import owner_session
    from service.tenants.service import list_tenants

    with owner_session(load_settings()) as session:
        for tenant in list_tenants(session=session):
            typer.echo(f"{tenant.code}\t{tenant.name}" + ("\tdemo" if tenant.demo else ""))


@user_app.command("create")
def user_create(
    tenant: Annotated[str, typer.Option(help="tenant code")],
    username: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()],
    password_file: Annotated[Path, typer.Option()],
    region: Annotated[str | None, typer.Option(help="home region code")] = None,
    display_name: str = "",
) -> None:
    """Create a user of a tenant."""
    from service.accounts.service import create_user
    from service.core.operator import tenant_session
    from service.tenants.service import find_tenant

    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        with tenant_session(settings, found) as session:
            create_user(
                session=session,
                tenant=found,
                username=username,
                password=read_password(password_file),
                role=role,
                region_code=region,
                display_name=display_name,
            )
    except DomainError as exc:
        raise fail(exc.message) from exc
    say(f"user {username} created")
