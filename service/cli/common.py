"""What every command shares: plain messages, the settings (the embedded cluster's when no
DATABASE_URL is set), failing with a message, the rich console and progress bars. Only typer
at import time: the service loads when a command runs, so `registry --help` answers at once,
and rich only for the progress bars and markup of the imports (a report or a one-line
message would load it for nothing: ~0.1 s)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from service.core.cluster import LocalCluster
    from service.core.settings import Settings


def group(help: str) -> typer.Typer:
    """A command group; its help printed as click prints it (rich's would load rich first)."""
    return typer.Typer(
        no_args_is_help=True, help=help, rich_markup_mode=None, pretty_exceptions_enable=False
    )


def say(message: str) -> None:
    """A line for the operator on stderr, as it is (no markup; never wrapped, so a long path
    stays on one line for grep)."""
    typer.echo(message, err=True)


class _Console:
    """rich's console on stderr, made when first used."""

    _console: Console | None = None

    @property
    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def print(self, *args: Any, **kwargs: Any) -> None:
        self.rich.print(*args, **kwargs)


console = _Console()


def escape(text: str) -> str:
    """Text as console markup shows it (file contents are data, not markup)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def embedded_cluster(settings: Settings) -> LocalCluster:
    from service.core.cluster import LocalCluster

    port = int(os.environ.get("REGISTRY_PG_PORT", "54329"))
    return LocalCluster(settings.var_dir / "pg", port=port)


def load_settings() -> Settings:
    """Settings from the environment; without DATABASE_URL, the embedded cluster's URLs."""
    from service.core.cluster import APP_ROLE, OWNER_ROLE
    from service.core.settings import Settings

    settings = Settings()
    if not settings.database_url:
        cluster = embedded_cluster(settings)
        if not cluster.credentials_file.exists():
            typer.secho(
                "no database: set DATABASE_URL, or create the embedded cluster with "
                "`registry cluster start` (scripts/run does)",
                fg="red",
                err=True,
            )
            raise typer.Exit(2)
        settings = Settings(
            database_url=cluster.url(APP_ROLE), migration_database_url=cluster.url(OWNER_ROLE)
        )
    return settings


def fail(message: str) -> typer.Exit:
    """Print `message` in red (on a terminal) and return the exit to raise. The message is
    printed as it is: never wrapped (it may hold a command to copy, tests look for phrases),
    never read as markup (it may quote a file's contents)."""
    typer.secho(message, fg="red", err=True)
    return typer.Exit(1)


def read_password(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise fail(f"cannot read password file {path}: {exc}") from exc


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
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console.rich,
        transient=False,
    )
