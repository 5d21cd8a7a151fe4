"""Targets a document hopes for (力争) are marked, and shown rather than judged.

河南 2004 (第二篇 二) sets 30 % by 2005-10, 60 % by 2006-10, 80 % by 2007-10 and "力争" 100 % by
the end of 2008: a best effort, not a step that binds the regions (issue 16). Existing curves
published from that document get the mark on that step.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ddl.add_column_with_default("targets", "aspirational", sa.Boolean(), "false")
    # (as the tables' owner, whom row-level security does not restrict)
    op.execute(
        "UPDATE targets SET aspirational = true WHERE due_on = DATE '2008-12-31' AND share = 1"
        " AND source LIKE '%豫司文[2004]160号%'"
    )


def downgrade() -> None:
    op.drop_column("targets", "aspirational")
