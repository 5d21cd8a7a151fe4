"""DDL the migrations repeat, written once: a tenant table's row-level policy, the tenant_id
and id columns, the foreign keys to the tenant and to an office, the code-prefix index, the
region guard of an office's records, the latest version of a standard in each tenant, a
required column added to a table that has rows.

The migrations are landed history: what each emits must stay what it emitted. A change here
changes every migration that calls it, so change nothing here; a new shape is a new function.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

# A scalar subquery: evaluated once per query (an InitPlan), not once per row.
TENANT = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::int)"
# The caller's region (`app.region`, set by `bind_context`): '*' for the whole tenant, a code
# prefix for a subtree, unset or empty for nothing.
REGION = "(SELECT current_setting('app.region', true))"
# the region's code prefix; NULL for '*' (all), '' and unset (nothing), so that no code
# starts with it then
REGION_PREFIX = f"NULLIF(NULLIF({REGION}, '*'), '')"


def enable_tenant_isolation(table: str) -> None:
    """Row-level security on `table`: a transaction sees and writes only its tenant's rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table}"
        f" USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})"
    )


def office_in_region(table: str) -> str:
    """The condition that a row of `table` belongs to an office registered in the
    transaction's region (the whole-tenant test first: one comparison a row for those users)."""
    return (
        f"({REGION} = '*' OR EXISTS (SELECT 1 FROM offices o WHERE o.tenant_id = {table}.tenant_id"
        f" AND o.id = {table}.office_id AND starts_with(o.division_code, {REGION_PREFIX})))"
    )


def guard_office_records(table: str) -> None:
    """The restrictive policy `region_guard` on `table`, rows of an office's records: read and
    written only for offices registered in the transaction's region."""
    guard = office_in_region(table)
    op.execute(
        f"CREATE POLICY region_guard ON {table} AS RESTRICTIVE USING ({guard}) WITH CHECK ({guard})"
    )


def tenant_id_column() -> sa.Column[Any]:
    """The tenant a row belongs to (first part of its primary key)."""
    return sa.Column("tenant_id", sa.Integer(), nullable=False)


def row_id_column() -> sa.Column[Any]:
    """The row's number within its tenant (second part of its primary key)."""
    return sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False)


def add_column_with_default(
    table: str, name: str, type_: sa.types.TypeEngine[Any], default: str
) -> None:
    """Add the NOT NULL column `name` to `table`, its rows (those there and those to come)
    taking `default`, an SQL expression."""
    op.add_column(table, sa.Column(name, type_, server_default=sa.text(default), nullable=False))


def tenant_foreign_key(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    """`table`.tenant_id to tenants.id; a tenant's rows go with it unless `ondelete` says not."""
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete=ondelete,
    )


def user_foreign_key(table: str) -> sa.ForeignKeyConstraint:
    """`table`.(tenant_id, user_id) to the user it belongs to; the rows go with the user."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", "user_id"],
        ["users.tenant_id", "users.id"],
        name=f"fk_{table}_user",
        ondelete="CASCADE",
    )


def office_foreign_key(table: str) -> sa.ForeignKeyConstraint:
    """`table`.(tenant_id, office_id) to the office it belongs to."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", "office_id"],
        ["offices.tenant_id", "offices.id"],
        name=f"fk_{table}_office",
    )


def create_code_prefix_index(
    name: str, table: str, code: str, *columns: str, **kwargs: Any
) -> None:
    """An index on (tenant_id, code, *columns) that serves `code LIKE '41%'` (a region's
    subtree), whatever the database's collation (text_pattern_ops)."""
    op.create_index(
        name,
        table,
        ["tenant_id", code, *columns],
        postgresql_ops={code: "text_pattern_ops"},
        **kwargs,
    )


APP_ROLE = "registry_app"


def grant_to_app_role(grants: str) -> None:
    """Run `grants` (GRANT statements naming APP_ROLE) where the service's role exists: the
    embedded cluster and the compose set-up create it, a bare database may not have it."""
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            {grants}
          END IF;
        END $$;
        """
    )


def latest_standard_versions(bind: sa.Connection, code: str) -> list[tuple[int, int]]:
    """(tenant id, standard id) of the latest version of standard `code` in each tenant that
    has published it; read as the tables' owner, whom row-level security does not restrict."""
    rows = bind.execute(
        sa.text(
            "SELECT DISTINCT ON (tenant_id) tenant_id, id FROM standards WHERE code = :code"
            " ORDER BY tenant_id, version DESC"
        ),
        {"code": code},
    ).all()
    return [(tenant_id, standard_id) for tenant_id, standard_id in rows]


def lock_standards(bind: sa.Connection, tenant_id: int) -> None:
    """The lock a publication takes (service/standards/service.py `publish`), so that no two
    versions of the tenant's standards get the same number."""
    bind.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('standards'), :t)"), {"t": tenant_id}
    )
