"""第二篇 四 (issue 16): "已命名的文明司法所……在2年内经验收达不到规范化要求的,取消其文明司法所称号".

`standards.civilised_title_years`: the years a standard gives an office named 文明司法所 to be
accepted (2 for 河南 2004, NULL where a document sets no such rule); the report of the offices
concerned reads the title from their yearly work records (migration 0014).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("standards", sa.Column("civilised_title_years", sa.Integer()))
    op.create_check_constraint(
        op.f("ck_standards_civilised_title_years_range"),
        "standards",
        "civilised_title_years IS NULL OR civilised_title_years BETWEEN 1 AND 20",
    )
    # (standards are append-only, so the trigger must let this one-time fill through)
    op.execute("ALTER TABLE standards DISABLE TRIGGER standards_append_only")
    op.execute("UPDATE standards SET civilised_title_years = 2 WHERE code = 'henan-2004'")
    op.execute("ALTER TABLE standards ENABLE TRIGGER standards_append_only")


def downgrade() -> None:
    op.drop_column("standards", "civilised_title_years")
