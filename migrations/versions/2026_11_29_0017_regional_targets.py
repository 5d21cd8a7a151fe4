"""Target schedules per region (issue 16): a document may set a schedule for one district
(第一篇: every office of the district passes in 2005年下半年) beside the province's curve.

`targets.region_code` is the code the schedule is for ('' = the whole tenant, what every
existing target is); a region is judged by the schedule of the longest code that contains it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ddl.add_column_with_default("targets", "region_code", sa.String(12), "''")
    op.create_check_constraint(
        op.f("ck_targets_region_code_digits"), "targets", "region_code ~ '^([0-9]{2,12})?$'"
    )
    op.drop_constraint(op.f("pk_targets"), "targets", type_="primary")
    op.create_primary_key(op.f("pk_targets"), "targets", ["tenant_id", "region_code", "due_on"])


def downgrade() -> None:
    op.execute("DELETE FROM targets WHERE region_code <> ''")
    op.drop_constraint(op.f("pk_targets"), "targets", type_="primary")
    op.create_primary_key(op.f("pk_targets"), "targets", ["tenant_id", "due_on"])
    op.drop_column("targets", "region_code")
