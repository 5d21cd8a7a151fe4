"""The report indexes carry both codes the region policy reads.

The region policy on offices (0005) reads `division_code` and `located_code`. An index-only
scan can apply it only when the index holds both; the indexes the coverage and acceptance
reports scan held one, so the planner fell back to hashing every office of the tenant
(`scripts/bench rls`: province gaps 2.6x slower under row-level security). Each gains the
other code as an included column; the plans are those of before the policy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "closed_at IS NULL"
# name → (key columns, the column ops, included columns before, after)
INDEXES = {
    "ix_offices_located_code_active": (
        ["tenant_id", "located_code"],
        {"located_code": "text_pattern_ops"},
        [],
        ["division_code"],
    ),
    "ix_offices_acceptance": (
        ["tenant_id", "division_code", "acceptance_state"],
        {"division_code": "text_pattern_ops"},
        [],
        ["located_code"],
    ),
}


def _rebuild(include_after: bool) -> None:
    for name, (columns, ops, before, after) in INDEXES.items():
        op.drop_index(name, table_name="offices")
        op.create_index(
            name,
            "offices",
            columns,
            postgresql_ops=ops,
            postgresql_include=after if include_after else before,
            postgresql_where=sa.text(ACTIVE),
        )


def upgrade() -> None:
    _rebuild(include_after=True)


def downgrade() -> None:
    _rebuild(include_after=False)
