"""The columns the tables share, each defined once as an annotated type for `Mapped[...]`;
the foreign key inside one tenant; the index for a region's subtree of codes.

`tenant_id: Mapped[TenantKey]` says what `mapped_column(Integer, ForeignKey("tenants.id",
ondelete="CASCADE"), primary_key=True)` said in every tenant table; a table whose tenant_id
points elsewhere (a composite key to its parent, or RESTRICT for the audit trail) still
spells its column out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    func,
    text,
)
from sqlalchemy.orm import mapped_column

# the tenant a row belongs to: first part of every primary key; the tenant's rows go with it
TenantKey = Annotated[
    int, mapped_column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
]
# tenant_id of a table whose composite foreign key (to its parent) already names the tenant
TenantPart = Annotated[int, mapped_column(Integer, primary_key=True)]
# the row's own number within its tenant (second part of the primary key)
RowId = Annotated[int, mapped_column(BigInteger, Identity(), primary_key=True)]
# a point in time; `Mapped[Moment | None]` for one that may be unknown
Moment = Annotated[datetime, mapped_column(DateTime(timezone=True))]
# when the row was written (created_at, updated_at: the transaction's time)
WrittenAt = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]
# when an event was recorded: the clock at the statement, not the transaction's start time
RecordedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
]


def tenant_reference(
    name: str, *, ondelete: str | None = None, **columns: str
) -> ForeignKeyConstraint:
    """A foreign key inside one tenant: (tenant_id, *columns) to the referenced table's
    (tenant_id, ...), e.g. `tenant_reference("fk_evidence_files_office", office_id="offices.id")`."""
    table = next(iter(columns.values())).split(".")[0]
    return ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{table}.tenant_id", *columns.values()],
        name=name,
        ondelete=ondelete,
    )


def code_prefix_index(name: str, code: str, *columns: str, **kwargs: Any) -> Index:
    """An index on (tenant_id, code, *columns) that serves `code LIKE '41%'` (a region's
    subtree): text_pattern_ops, so that it does whatever the database's collation."""
    return Index(
        name, "tenant_id", code, *columns, postgresql_ops={code: "text_pattern_ops"}, **kwargs
    )
