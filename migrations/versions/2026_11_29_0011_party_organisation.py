"""Which party organisation an office has: 党支部, 党小组 or none.

`office_facilities.party_branch` recorded "党支部或党小组" as one yes/no, enough for 第五篇
(支部或党小组) but not for 第三篇, which asks a 党支部 (issue 16). Existing records keep their
yes/no; the new column is NULL for them, so a criterion that needs a 党支部 is unknown there, not
failed, until the office says which.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("office_facilities", sa.Column("party_organisation", sa.String(8)))
    op.create_check_constraint(
        op.f("ck_office_facilities_party_organisation_valid"),
        "office_facilities",
        "party_organisation IN ('branch', 'group', 'none')",
    )


def downgrade() -> None:
    op.drop_column("office_facilities", "party_organisation")
