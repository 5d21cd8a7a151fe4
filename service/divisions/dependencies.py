"""Request dependencies of the divisions API: a code in the path or the `region` query, in
any form an import accepts (410100, 410184101000, 156410184 …), resolved once and checked
against the caller's region, so routes receive a canonical code inside their scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from service.divisions import service
from service.http.deps import CurrentScope, SessionDep

_FORMS = "2, 4, 6, 9 or 12 digits; zero-padded 6-digit and 156-prefixed codes are read too"


def division_code(
    code: Annotated[str, Path(max_length=20, description=f"a division code: {_FORMS}")],
    scope: CurrentScope,
    session: SessionDep,
) -> str:
    """The canonical code of the path, inside the caller's region (403 outside it)."""
    resolved = service.resolve_code(
        session=session, tenant_id=scope.tenant_id, written=code, field="code"
    )
    scope.region(resolved)
    return resolved


def region_prefix(
    scope: CurrentScope,
    session: SessionDep,
    region: Annotated[
        str | None, Query(max_length=20, description=f"a region's division code: {_FORMS}")
    ] = None,
) -> str:
    """The code prefix to list: the requested region (canonical), or the caller's own."""
    if region is None or not region.strip():
        return scope.region(None)
    return scope.region(
        service.resolve_code(
            session=session, tenant_id=scope.tenant_id, written=region, field="region"
        )
    )


DivisionCode = Annotated[str, Depends(division_code)]
RegionPrefix = Annotated[str, Depends(region_prefix)]
