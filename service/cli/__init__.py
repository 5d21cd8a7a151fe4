"""The `registry` command: operator commands of the 司法所 registry, one module per group.
Each module imports only typer at load time; a command imports rich and the service when
it runs, so `registry --help` does not load the application."""

from __future__ import annotations

from service.cli.backup import backup, restore
from service.cli.cluster import cluster_app, db_app
from service.cli.common import group
from service.cli.coverage import coverage_app
from service.cli.imports import import_app
from service.cli.serve import serve
from service.cli.standards import standards_app
from service.cli.tenants import tenant_app, user_app

app = group("Operator commands of the 司法所 registry.")
app.add_typer(cluster_app, name="cluster")
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(coverage_app, name="coverage")
app.add_typer(standards_app, name="standards")
app.command("serve")(serve)
app.command("backup")(backup)
app.command("restore")(restore)


def main() -> None:
    app()
