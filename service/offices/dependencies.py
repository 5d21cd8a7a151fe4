"""Dependencies that load and check offices, shared by the routers that take an office id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from service.http.deps import CurrentScope, SessionDep
from service.offices import service
from service.offices.models import Office

MAX_ID = 2**63 - 1


def valid_office(
    office_id: Annotated[int, Path(ge=1, le=MAX_ID)], scope: CurrentScope, session: SessionDep
) -> Office:
    """The office, loaded and checked to be in the caller's tenant and region (else 404)."""
    return service.get_office(session=session, scope=scope, office_id=office_id)


ValidOffice = Annotated[Office, Depends(valid_office)]
