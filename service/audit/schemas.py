"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class EventOut(BaseModel):
    id: int
    occurred_at: datetime
    username: str
    role: str | None
    action: str
    entity_type: str
    entity_id: str | None
    region_code: str | None
    changes: dict[str, dict[str, Any]] | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class EventPage(BaseModel):
    items: list[EventOut]
    total: int
    limit: int
    offset: int
