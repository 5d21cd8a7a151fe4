"""Why a member of staff left: the API and the staff page have asked for it since they were
written (`StaffLeave.reason`), but it was checked and then dropped — nothing stored it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("office_staff", sa.Column("left_reason", sa.String(200)))
    op.create_check_constraint(
        op.f("ck_office_staff_left_reason_only_when_left"),
        "office_staff",
        "left_reason IS NULL OR (left_on IS NOT NULL AND length(left_reason) BETWEEN 2 AND 200)",
    )


def downgrade() -> None:
    op.drop_column("office_staff", "left_reason")
