"""`registry coverage …`: the coverage reports as the operator, to a file or stdout."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from service.cli.common import fail, group, load_settings, say
from service.core.errors import DomainError

coverage_app = group("Coverage reports (gaps, conflicts, misplaced, boundaries, summary).")


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

    from service.accounts.scope import operator_scope
    from service.core.exports import fields_of, render
    from service.core.operator import tenant_session
    from service.coverage import service as coverage
    from service.coverage.query import filter_for
    from service.tenants.policy import required_kinds
    from service.tenants.service import find_tenant

    if fmt not in ("json", "csv", "xlsx", "geojson"):
        raise fail("--format must be json, csv, xlsx or geojson")
    if tenant is None:
        if not region:
            raise fail("give --region (its province is the tenant) or --tenant")
        tenant = region[:2]
    settings = load_settings()
    try:
        found = find_tenant(settings, tenant)
        with tenant_session(settings, found) as session:
            scope = operator_scope(
                tenant_id=found.id,
                tenant_code=found.code,
                tenant_name=found.name,
                required_kinds=required_kinds(session, found.id),
            )
            f = filter_for(scope, region, date.fromisoformat(as_of) if as_of else None, kind)
            if fmt == "geojson" and name != "misplaced":
                options["with_geometry"] = True
            table = getattr(coverage, name)(session, f, **options)
    except DomainError as exc:
        raise fail(exc.message) from exc
    if name == "summary" and fmt in ("csv", "xlsx", "json"):
        table.rows = [*table.rows, table.extra["total"]]
    if fmt == "json":
        body = json.dumps(
            {"total": table.total, "items": [fields_of(r) for r in table.rows], "note": table.note},
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
        say(f"{table.total} rows written to {output}")


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
