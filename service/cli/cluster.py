"""`registry cluster …` (the embedded PostgreSQL+PostGIS cluster) and `registry db …`
(schema migrations)."""

from __future__ import annotations

import typer

from service.cli.common import embedded_cluster, fail, group, load_settings, say

cluster_app = group("The embedded PostgreSQL+PostGIS cluster.")
db_app = group("Schema migrations (Alembic).")


@cluster_app.command("start")
def cluster_start() -> None:
    """Create (first time) and start the embedded cluster under var/pg."""
    from service.core.cluster import ClusterError
    from service.core.settings import Settings

    cluster = embedded_cluster(Settings())
    try:
        cluster.ensure()
    except ClusterError as exc:
        raise fail(str(exc)) from exc
    say(f"cluster running in {cluster.data_dir} on 127.0.0.1:{cluster.credentials()['port']}")


@cluster_app.command("stop")
def cluster_stop() -> None:
    """Stop the embedded cluster (data is kept)."""
    from service.core.settings import Settings

    embedded_cluster(Settings()).stop()
    say("cluster stopped")


@cluster_app.command("status")
def cluster_status() -> None:
    from service.core.settings import Settings

    cluster = embedded_cluster(Settings())
    state = "running" if cluster.is_running() else ("stopped" if cluster.exists() else "absent")
    typer.echo(state)


@cluster_app.command("replica")
def cluster_replica(
    action: str = typer.Argument(..., help="start or stop"),
    port: int = typer.Option(0, help="its port (default: the embedded cluster's + 1)"),
) -> None:
    """A streaming replica of the embedded cluster under var/pg-replica (pg_basebackup -R the
    first time), to try DATABASE_READ_URL: `start` prints the URL to set."""
    from service.core.cluster import APP_ROLE, ClusterError, LocalCluster
    from service.core.settings import Settings

    settings = Settings()
    cluster = embedded_cluster(settings)
    base = settings.var_dir / "pg-replica"
    if action == "stop":
        LocalCluster(base).stop()
        say("replica stopped")
        return
    if action != "start":
        raise fail(f"{action}: not an action (start or stop)")
    if not cluster.is_running():
        raise fail("the embedded cluster is not running: registry cluster start")
    try:
        replica = cluster.replica(base, port or int(str(cluster.credentials()["port"])) + 1)
    except ClusterError as exc:
        raise fail(str(exc)) from exc
    say(f"replica streaming from the embedded cluster, in {replica.data_dir}")
    typer.echo(f"DATABASE_READ_URL={replica.url(APP_ROLE)}")


@cluster_app.command("url")
def cluster_url(owner: bool = typer.Option(False, help="the schema owner's URL")) -> None:
    """Print the service's (or owner's) database URL of the embedded cluster."""
    from service.core.cluster import APP_ROLE, OWNER_ROLE
    from service.core.settings import Settings

    typer.echo(embedded_cluster(Settings()).url(OWNER_ROLE if owner else APP_ROLE))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to `revision` (default: head)."""
    from service.core.migrate import upgrade

    upgrade(load_settings().migration_database_url, revision)
    say(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to `revision` (e.g. base)."""
    from service.core.migrate import downgrade

    downgrade(load_settings().migration_database_url, revision)
    say(f"database at {revision}")
