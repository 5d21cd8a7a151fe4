"""Data versions: a number per tenant and table that grows with every change of divisions and
offices, so a vector tile (or anything made from them) is named by what it read and a client
revalidates it (ETag, If-None-Match) without the tile being made again.

Statement-level triggers bump it in the writing transaction — once per statement, whatever
the number of rows, so bulk imports pay nothing per row. The service role can write only the
tenant its transaction is bound to (row-level security), so that tenant's version is bumped;
a writer bound to no tenant (the owner in a migration) and TRUNCATE bump every tenant's.

A version is the sum of slots, one per writing connection (backend pid mod 16): one row per
tenant would be locked by the first write until commit, queueing every other office write of
the tenant behind a roster import and deadlocking an edit that already holds a row the import
then wants. Each bump is at least the clock in microseconds, so a version never repeats a
number it had before, even after this table is dropped and made again.

The service role reads the table (tenant isolation as everywhere); only the triggers write
it, through a SECURITY DEFINER function.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"
TABLES = ("divisions", "offices")
SLOTS = 16

BUMP = f"""
CREATE FUNCTION data_versions_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  bound int := NULLIF(current_setting('app.tenant_id', true), '')::int;
BEGIN
  INSERT INTO data_versions AS v (tenant_id, name, slot, version)
  SELECT t.id, TG_TABLE_NAME, pg_backend_pid() % {SLOTS},
         (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
    FROM tenants t
   WHERE t.id = bound OR bound IS NULL OR TG_OP = 'TRUNCATE'
   ORDER BY t.id
  ON CONFLICT (tenant_id, name, slot)
  DO UPDATE SET version = greatest(v.version + 1, excluded.version);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "data_versions",
        ddl.tenant_id_column(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        ddl.tenant_foreign_key("data_versions"),
        sa.PrimaryKeyConstraint("tenant_id", "name", "slot", name=op.f("pk_data_versions")),
    )
    ddl.enable_tenant_isolation("data_versions")
    op.execute(BUMP)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_version"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION data_versions_bump()"
        )
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT SELECT ON data_versions TO {APP_ROLE};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute("DROP FUNCTION data_versions_bump()")
    op.drop_table("data_versions")
