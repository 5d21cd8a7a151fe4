"""`registry backup FILE` and `registry restore FILE`: the database and the evidence files in
one archive with a manifest of SHA-256 (service/ops/backup.py)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from service.cli.common import embedded_cluster, fail, load_settings, say

SUPERUSER_ENV = "REGISTRY_SUPERUSER_DATABASE_URL"


def backup(file: Path = typer.Argument(..., help="the archive to write (a tar file)")) -> None:
    """Back up the database (pg_dump of one snapshot) and the evidence files it names."""
    from service.ops.backup import BackupError
    from service.ops.backup import backup as make_backup

    settings = load_settings()
    try:
        done = make_backup(
            owner_url=settings.migration_database_url, var_dir=settings.var_dir, target=file
        )
    except BackupError as exc:
        raise fail(str(exc)) from exc
    say(
        f"backed up {done.tables} tables ({done.rows} rows, revision {done.revision}) and "
        f"{done.files} evidence files, {done.bytes} bytes, to {done.path}"
    )


def restore(
    file: Path = typer.Argument(..., help="an archive `registry backup` wrote"),
    superuser_url: str = typer.Option(
        "",
        envvar=SUPERUSER_ENV,
        help="a superuser's URL of the target database (extensions, LEAKPROOF marks);"
        " default: the embedded cluster's",
    ),
) -> None:
    """Restore an archive into an empty database (the one DATABASE_URL names) and its
    evidence files into REGISTRY_VAR_DIR; every member is checked against the manifest
    first, and the database is restored whole or not at all."""
    from service.ops.backup import BackupError
    from service.ops.backup import restore as restore_archive

    settings = load_settings()
    if not superuser_url:
        if os.environ.get("DATABASE_URL") or os.environ.get("REGISTRY_DATABASE_URL"):
            raise fail(f"restore needs a superuser's URL of the target: set {SUPERUSER_ENV}")
        superuser_url = embedded_cluster(settings).url("postgres")
    try:
        done = restore_archive(
            archive=file,
            owner_url=settings.migration_database_url,
            superuser_url=superuser_url,
            var_dir=settings.var_dir,
        )
    except BackupError as exc:
        raise fail(str(exc)) from exc
    say(
        f"restored {done.tables} tables ({done.rows} rows, revision {done.revision}) and "
        f"{done.files} evidence files from {done.path}"
    )
