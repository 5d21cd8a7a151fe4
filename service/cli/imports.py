"""`registry import …`: the demo tenants, and division boundaries into a tenant (with the
import's report)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import StageBar, console, escape, fail, group, load_settings, progress_bar
from service.core.errors import DomainError

if TYPE_CHECKING:
    from service.divisions.batch import ImportReport

import_app = group("Data imports.")


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


@import_app.command("divisions")
def import_divisions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant: Annotated[str, typer.Option(help="tenant code, e.g. 41")],
    crs: Annotated[
        str | None, typer.Option(help="source CRS when the file has none, e.g. EPSG:4490")
    ] = None,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    dry_run: Annotated[bool, typer.Option(help="check only, write nothing")] = False,
    correct: Annotated[
        bool,
        typer.Option(
            "--correct",
            help="replace the current versions in place (a wrong boundary, name or kind)",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option(help="why (recorded in the audit trail; needed with --correct)")
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="repair invalid polygons (make_valid) instead of refusing them; each repair"
            " is reported with the area it changed",
        ),
    ] = False,
) -> None:
    """Import division boundaries (GeoJSON, zipped Shapefile, GeoPackage); all or nothing."""
    from service.core.operator import tenant_session
    from service.divisions.importer import import_divisions
    from service.tenants.service import find_tenant

    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        with progress_bar() as progress, tenant_session(settings, found) as session:
            report = import_divisions(
                session=session,
                tenant=found,
                path=file,
                crs=crs,
                valid_from=date.fromisoformat(valid_from) if valid_from else None,
                source=f"cli:{file.name}",
                dry_run=dry_run,
                correction=correct,
                reason=reason,
                repair=repair,
                progress=StageBar(progress),
            )
    except DomainError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]", soft_wrap=True)
        problems = (exc.details or {}).get("problems", []) if isinstance(exc.details, dict) else []
        for p in problems[:200]:
            where = "file" if p.get("index") is None else f"feature #{p['index']}"
            code = escape(str(p.get("code") or ""))
            console.print(f"  {where} {code}: {escape(p['problem'])}", soft_wrap=True)
        if len(problems) > 200:
            console.print(f"  ... and {len(problems) - 200} more")
        raise typer.Exit(1) from exc
    corrected = f"{report.corrected} corrected, " if correct else ""
    repaired = f", {len(report.repaired)} repaired" if repair else ""
    console.print(
        f"{report.features} features ({report.by_level}): {report.created} new, {report.changed} "
        f"changed, {corrected}{report.unchanged} unchanged{repaired}; {report.offices_relocated} "
        f"offices relocated; {report.seconds:.1f} s"
        + (" (dry run: nothing written)" if dry_run else ""),
        soft_wrap=True,  # one line per feature and for the whole: for people and for grep
    )
    for line in repair_lines(report):
        console.print(escape(line), soft_wrap=True)
    for warning in report.warnings:
        console.print(f"[yellow]warning: {escape(warning)}[/yellow]")


def repair_lines(report: ImportReport) -> list[str]:
    """One line per repaired feature: which, why, and the area before → after."""
    lines = []
    for r in report.repaired:
        share = "" if r.area_change_share is None else f", {r.area_change_share:+.6%}"
        lines.append(
            f"  repaired feature #{r.index} {r.code}: {r.problem}; area {r.area_before_m2:,.1f} m²"
            f" → {r.area_after_m2:,.1f} m² ({r.area_change_m2:+,.1f} m²{share})"
        )
    return lines
