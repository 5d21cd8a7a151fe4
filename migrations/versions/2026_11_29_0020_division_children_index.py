"""The divisions directly below a region, by index: the region picker asks for them on every
page, and finding them by code prefix read every current division of the country (the
provinces under the root: 90 ms on the national set, a table scan of 20,000 pages).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (provinces have no parent: NULL keys are in a btree index, found by `IS NULL`)
    op.execute(
        "CREATE INDEX ix_divisions_current_children ON divisions"
        " (tenant_id, parent_code, code) INCLUDE (name) WHERE valid_to IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_divisions_current_children")
