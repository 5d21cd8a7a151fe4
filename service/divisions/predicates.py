"""Which version of a division is meant, as a SQLAlchemy Core condition (the idiom of
docs/architecture.md): the one rule every query about divisions at a date follows."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, or_


def version_valid(d: FromClause, as_of: date | Any | None) -> ColumnElement[bool]:
    """Division version `d` is the current one (`as_of` None) or the one valid on `as_of`
    (a date or a bound parameter): valid from its first day, up to but not on its last."""
    if as_of is None:
        return d.c.valid_to.is_(None)
    return and_(d.c.valid_from <= as_of, or_(d.c.valid_to.is_(None), d.c.valid_to > as_of))
