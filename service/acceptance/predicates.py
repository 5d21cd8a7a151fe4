"""The acceptance rules that reports and lists share, as SQLAlchemy Core expressions over the
offices table (the idiom of service/coverage/predicates.py; docs/architecture.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    String,
    any_,
    bindparam,
    case,
    cast,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

# the titled states (offices.states.TITLED) and the tenant's re-inspection period in months
# (tenants.policy.reinspection_months), bound at execution
TITLED_STATES = bindparam("titled", type_=ARRAY(String))
MONTHS = bindparam("months", type_=Integer)


def is_titled(o: FromClause) -> ColumnElement[bool]:
    """Office `o` holds a title (accepted, or re-inspected and kept)."""
    return o.c.acceptance_state == any_(TITLED_STATES)


def reinspection_due(o: FromClause, months: Any = MONTHS) -> ColumnElement[date]:
    """When office `o` is next due for re-inspection (动态管理, 定期复验): a titled office, the
    tenant's period (`months`: bound, or a column of the tenant) after its last re-inspection
    or its acceptance; NULL otherwise."""
    since = func.coalesce(o.c.reinspected_on, o.c.accepted_on)
    return cast(case((is_titled(o), since + func.make_interval(0, months))), Date)
