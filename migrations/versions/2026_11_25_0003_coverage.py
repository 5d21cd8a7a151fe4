"""Coverage engine: required kinds as tenant policy, report indexes, boundary QA cache.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import ddl

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"
TOWNSHIP_KINDS = "'town', 'township', 'street', 'development_zone', 'farm', 'forest_area', 'mining_area', 'other'"


def upgrade() -> None:
    ddl.add_column_with_default(
        "tenants", "required_kinds", postgresql.ARRAY(sa.String(24)), "'{town,township,street}'"
    )
    op.create_check_constraint(
        "ck_tenants_required_kinds_valid",
        "tenants",
        f"required_kinds <@ ARRAY[{TOWNSHIP_KINDS}]::varchar[]",
    )
    # Reports must say when boundaries are generated; asking that of every division row is a
    # full scan when the answer is no, so the flag is a stored column with a partial index.
    op.add_column(
        "divisions",
        sa.Column(
            "generated",
            sa.Boolean(),
            sa.Computed("coalesce(source LIKE 'generated%', false)", persisted=True),
            nullable=False,
        ),
    )
    ddl.create_code_prefix_index(
        "ix_divisions_generated",
        "divisions",
        "code",
        postgresql_where=sa.text("generated"),
    )
    # Gaps, conflicts and summaries are attribute joins over each active office's township.
    ddl.create_code_prefix_index(
        "ix_offices_located_code_active",
        "offices",
        "located_code",
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    # Misplaced offices are few: a partial index holds exactly them (and what the report
    # reads of them, so it never visits the table to find them).
    ddl.create_code_prefix_index(
        "ix_offices_misplaced",
        "offices",
        "division_code",
        postgresql_include=["id", "located_code"],
        postgresql_where=sa.text(
            "closed_at IS NULL AND located_code IS DISTINCT FROM division_code"
        ),
    )
    # Current townships by code with their kind: reports scan them without touching the rows.
    ddl.create_code_prefix_index(
        "ix_divisions_current_townships",
        "divisions",
        "code",
        postgresql_include=["kind", "id"],
        postgresql_where=sa.text("level = 'township' AND valid_to IS NULL"),
    )
    op.create_table(
        "boundary_qa_cache",
        ddl.tenant_id_column(),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("result", postgresql.JSONB(), nullable=False),
        ddl.tenant_foreign_key("boundary_qa_cache"),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_boundary_qa_cache")),
    )
    ddl.enable_tenant_isolation("boundary_qa_cache")
    # Reports are planned for their parameters, so after a bulk import the planner needs the
    # new rows' statistics at once, not when autovacuum next looks (up to a minute of plans
    # made for the old table). Only the owner may ANALYZE; this narrow definer function lets
    # the service ask for exactly these two tables.
    op.execute(
        """
        CREATE FUNCTION registry_analyze(target text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          IF target = 'divisions' THEN ANALYZE divisions;
          ELSIF target = 'offices' THEN ANALYZE offices;
          ELSE RAISE EXCEPTION 'registry_analyze: not a registry table: %', target;
          END IF;
        END $$;
        REVOKE ALL ON FUNCTION registry_analyze(text) FROM PUBLIC;
        """
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON boundary_qa_cache TO {APP_ROLE};
            GRANT UPDATE (required_kinds) ON tenants TO {APP_ROLE};
            GRANT EXECUTE ON FUNCTION registry_analyze(text) TO {APP_ROLE};
          END IF;
        END $$;
        """
    )
    op.execute("ANALYZE divisions")  # statistics for the new column and indexes
    op.execute("ANALYZE offices")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS registry_analyze(text)")
    op.drop_table("boundary_qa_cache")
    op.execute("DROP INDEX IF EXISTS ix_divisions_current_townships")
    op.execute("DROP INDEX IF EXISTS ix_offices_misplaced")
    op.execute("DROP INDEX IF EXISTS ix_divisions_generated")
    op.execute("ALTER TABLE divisions DROP COLUMN IF EXISTS generated")
    op.drop_index("ix_offices_located_code_active", table_name="offices")
    op.drop_constraint("ck_tenants_required_kinds_valid", "tenants", type_="check")
    op.drop_column("tenants", "required_kinds")
