"""Who rates offices is part of the standard: the city (河南) or the province (山西).

One state machine served every province with 河南's procedure (第二篇 四: the city accepts and
grants the title). 山西's 第三篇 四(一) gives the 考核评定 to the province's 创建规范化司法所工作
领导组办公室 (issue 16). Each standard version now carries its procedure; 山西's versions
(code shanxi-2008) are the province's, every other existing version the city's, so existing
histories read as they were written.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ddl.add_column_with_default("standards", "procedure", sa.String(16), "'city'")
    op.create_check_constraint(
        op.f("ck_standards_procedure_valid"), "standards", "procedure IN ('city', 'province')"
    )
    # (standards are append-only, so the trigger must let this one-time fill through)
    op.execute("ALTER TABLE standards DISABLE TRIGGER standards_append_only")
    op.execute("UPDATE standards SET procedure = 'province' WHERE code = 'shanxi-2008'")
    op.execute("ALTER TABLE standards ENABLE TRIGGER standards_append_only")


def downgrade() -> None:
    op.drop_column("standards", "procedure")
