"""The operator CLI, `registry`: cluster, migrations, tenants, users, imports, serving."""

from __future__ import annotations

import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape  # file contents are data, not console markup
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from service.accounts.models import Role
from service.cluster import APP_ROLE, OWNER_ROLE, ClusterError, LocalCluster
from service.divisions.cli import import_divisions_cmd
from service.errors import DomainError
from service.operator import (
    bind_operator,
    find_tenant,
    owner_session,
    tenant_session,
)
from service.settings import Settings
from service.standards.cli import standards_app

app = typer.Typer(no_args_is_help=True, help="Operator commands of the 司法所 registry.")
cluster_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL+PostGIS cluster.")
db_app = typer.Typer(no_args_is_help=True, help="Schema migrations (Alembic).")
tenant_app = typer.Typer(no_args_is_help=True, help="Tenants (provincial departments).")
user_app = typer.Typer(no_args_is_help=True, help="User accounts.")
import_app = typer.Typer(no_args_is_help=True, help="Data imports.")
coverage_app = typer.Typer(
    no_args_is_help=True, help="Coverage reports (gaps, conflicts, misplaced, boundaries, summary)."
)
app.add_typer(cluster_app, name="cluster")
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(coverage_app, name="coverage")
app.add_typer(standards_app, name="standards")
import_app.command("divisions")(import_divisions_cmd)

console = Console(stderr=True)


def embedded_cluster(settings: Settings) -> LocalCluster:
    port = int(os.environ.get("REGISTRY_PG_PORT", "54329"))
    return LocalCluster(settings.var_dir / "pg", port=port)


def load_settings() -> Settings:
    """Settings from the environment; without DATABASE_URL, the embedded cluster's URLs."""
    settings = Settings()
    if not settings.database_url:
        cluster = embedded_cluster(settings)
        if not cluster.credentials_file.exists():
            console.print(
                "[red]no database: set DATABASE_URL, or create the embedded cluster with "
                "`registry cluster start` (scripts/run does)[/red]"
            )
            raise typer.Exit(2)
        settings = Settings(
            database_url=cluster.url(APP_ROLE), migration_database_url=cluster.url(OWNER_ROLE)
        )
    return settings


def fail(message: str) -> typer.Exit:
    # (not wrapped by rich: a message may hold a command to copy, and tests look for phrases)
    console.print(f"[red]{escape(message)}[/red]", soft_wrap=True)
    return typer.Exit(1)


# -- cluster -------------------------------------------------------------------------------


@cluster_app.command("start")
def cluster_start() -> None:
    """Create (first time) and start the embedded cluster under var/pg."""
    cluster = embedded_cluster(Settings())
    try:
        cluster.ensure()
    except ClusterError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"cluster running in {cluster.data_dir} on 127.0.0.1:{cluster.credentials()['port']}"
    )


@cluster_app.command("stop")
def cluster_stop() -> None:
    """Stop the embedded cluster (data is kept)."""
    embedded_cluster(Settings()).stop()
    console.print("cluster stopped")


@cluster_app.command("status")
def cluster_status() -> None:
    cluster = embedded_cluster(Settings())
    state = "running" if cluster.is_running() else ("stopped" if cluster.exists() else "absent")
    typer.echo(state)


@cluster_app.command("url")
def cluster_url(owner: bool = typer.Option(False, help="the schema owner's URL")) -> None:
    """Print the service's (or owner's) database URL of the embedded cluster."""
    typer.echo(embedded_cluster(Settings()).url(OWNER_ROLE if owner else APP_ROLE))


# -- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to `revision` (default: head)."""
    from service.migrate import upgrade

    upgrade(load_settings().migration_database_url, revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to `revision` (e.g. base)."""
    from service.migrate import downgrade

    downgrade(load_settings().migration_database_url, revision)
    console.print(f"database at {revision}")


# -- tenants and users ---------------------------------------------------------------------


def _read_password(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise fail(f"cannot read password file {path}: {exc}") from exc


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
                    password=_read_password(password_file),
                    role=Role.province_admin,
                )
    except DomainError as exc:
        raise fail(exc.message) from exc
    console.print(
        escape(f"tenant {code} {name} created" + (f" with admin {admin}" if admin else ""))
    )


@tenant_app.command("list")
def tenant_list() -> None:
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

    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        with tenant_session(settings, found) as session:
            create_user(
                session=session,
                tenant=found,
                username=username,
                password=_read_password(password_file),
                role=role,
                region_code=region,
                display_name=display_name,
            )
    except DomainError as exc:
        raise fail(exc.message) from exc
    console.print(f"user {username} created")


# -- imports -------------------------------------------------------------------------------


class StageBar:
    """A rich progress bar fed by the importers' progress(stage, done, total) callbacks."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@import_app.command("demo")
def import_demo(
    provinces: Annotated[str, typer.Option(help="comma-separated province codes")] = "41,14",
) -> None:
    """Load the demo tenants (河南, 山西): divisions, offices and demo logins. Idempotent;
    refused in a database that holds a real tenant."""
    from service.demo.loader import load_demo

    settings = load_settings()
    try:
        with progress_bar() as progress:
            logins = load_demo(
                settings=settings, provinces=provinces.split(","), progress=StageBar(progress)
            )
    except DomainError as exc:
        raise fail(exc.message) from exc
    typer.echo("\nDemo logins (username / password / role / region):")
    for login in logins:
        typer.echo(f"  {login}")


# -- coverage reports ----------------------------------------------------------------------

ReportFormat = typer.Option("json", "--format", "-f", help="json, csv, xlsx or geojson")


def _report(
    name: str,
    tenant: str | None,
    region: str | None,
    as_of: str | None,
    kind: list[str] | None,
    fmt: str,
    output: Path | None,
    **options: object,
) -> None:
    """Run one coverage report as the operator and write it to a file or stdout."""
    import json

    from service.coverage import service as coverage
    from service.coverage.query import CoverageFilter, required_kinds
    from service.exports import render

    if fmt not in ("json", "csv", "xlsx", "geojson"):
        raise fail("--format must be json, csv, xlsx or geojson")
    if tenant is None:
        if not region:
            raise fail("give --region (its province is the tenant) or --tenant")
        tenant = region[:2]
    if region is not None and not re.fullmatch(
        r"[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3})?)?)?", region
    ):
        raise fail(f"--region {region!r} is not a division code (2, 4, 6 or 9 digits)")
    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        if region is not None and not region.startswith(found.region_prefix):
            raise fail(f"region {region} is outside tenant {found.code}")
        with tenant_session(settings, found) as session:
            f = CoverageFilter(
                tenant_id=found.id,
                region=region if region is not None else found.region_prefix,
                as_of=date.fromisoformat(as_of) if as_of else None,
                kinds=tuple(kind) if kind else None,
                required_kinds=required_kinds(session, found.id),
            )
            if fmt == "geojson" and name != "misplaced":
                options["with_geometry"] = True
            table = getattr(coverage, name)(session, f, **options)
    except DomainError as exc:
        raise fail(exc.message) from exc
    if name == "summary" and fmt in ("csv", "xlsx", "json"):
        table.rows = [*table.rows, table.extra["total"]]
    if fmt == "json":
        body = json.dumps(
            {"total": table.total, "items": table.rows, "note": table.note},
            ensure_ascii=False,
            default=str,
            indent=1,
        ).encode()
    else:
        body = render(
            fmt,  # type: ignore[arg-type]
            table.rows,
            table.columns,
            title=table.title,
            note=table.note,
            geometry=table.geometry,
        )
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        console.print(f"{table.total} rows written to {output}")


_TENANT = typer.Option(None, help="tenant code (default: the region's province)")
_REGION = typer.Option(None, help="division code (default: the whole tenant)")
_AS_OF = typer.Option(None, "--as-of", help="YYYY-MM-DD (default today)")
_KIND = typer.Option(None, help="township kind(s) to include")
_OUT = typer.Option(None, "--output", "-o", help="file to write (default stdout)")


@coverage_app.command("gaps")
def coverage_gaps(
    tenant: str | None = _TENANT,
    region: str | None = _REGION,
    as_of: str | None = _AS_OF,
    kind: list[str] | None = _KIND,
    optional: bool = typer.Option(False, help="the optional kinds instead of the required"),
    fmt: str = ReportFormat,
    output: Path | None = _OUT,
) -> None:
    """Townships with no active office."""
    _report("gaps", tenant, region, as_of, kind, fmt, output, required=not optional)


@coverage_app.command("conflicts")
def coverage_conflicts(
    tenant: str | None = _TENANT,
    region: str | None = _REGION,
    as_of: str | None = _AS_OF,
    kind: list[str] | None = _KIND,
    fmt: str = ReportFormat,
    output: Path | None = _OUT,
) -> None:
    """Townships with two or more active offices."""
    _report("conflicts", tenant, region, as_of, kind, fmt, output)


@coverage_app.command("misplaced")
def coverage_misplaced(
    tenant: str | None = _TENANT,
    region: str | None = _REGION,
    as_of: str | None = _AS_OF,
    fmt: str = ReportFormat,
    output: Path | None = _OUT,
) -> None:
    """Offices whose point is not in their registered township, with a likely cause."""
    _report("misplaced", tenant, region, as_of, None, fmt, output)


@coverage_app.command("boundaries")
def coverage_boundaries(
    tenant: str | None = _TENANT,
    region: str | None = _REGION,
    as_of: str | None = _AS_OF,
    tolerance: float = typer.Option(10000.0, help="ignore areas below this many m²"),
    fmt: str = ReportFormat,
    output: Path | None = _OUT,
) -> None:
    """Township boundary quality: overlaps, uncovered parts of counties, spill-over."""
    _report("boundaries", tenant, region, as_of, None, fmt, output, tolerance_m2=tolerance)


@coverage_app.command("summary")
def coverage_summary(
    tenant: str | None = _TENANT,
    region: str | None = _REGION,
    as_of: str | None = _AS_OF,
    level: str = typer.Option("county", help="city, county or township"),
    fmt: str = ReportFormat,
    output: Path | None = _OUT,
) -> None:
    """Coverage per city or county of the region."""
    if level not in ("city", "county", "township"):
        raise fail("--level must be city, county or township")
    _report("summary", tenant, region, as_of, None, fmt, output, level=level)


# -- serving -------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    import uvicorn

    from service.logs import configure_logging

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    os.environ["REGISTRY_DATABASE_URL"] = settings.database_url
    os.environ["REGISTRY_MIGRATION_DATABASE_URL"] = settings.migration_database_url
    os.environ.pop("DATABASE_URL", None)
    uvicorn.run(
        "service.asgi:app",
        host=host,
        port=port,
        workers=workers,
        http="httptools",
        loop="uvloop",
        # behind a reverse proxy, the client's own address (for the per-address login limits)
        # comes from X-Forwarded-For, trusted only from the configured proxies
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        log_config=None,
        access_log=False,
    )


def main() -> None:
    app()
