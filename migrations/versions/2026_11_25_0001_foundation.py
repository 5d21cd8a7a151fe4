"""Foundation: tenants, versioned divisions, offices and users.

Every tenant table carries tenant_id, and every primary and foreign key includes it, so the
schema can later be distributed by tenant.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from migrations import ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = [
    "province",
    "city",
    "district",
    "county",
    "county_city",
    "town",
    "township",
    "street",
    "development_zone",
    "farm",
    "forest_area",
    "mining_area",
    "other",
]
LEVELS = ["province", "city", "county", "township"]
STATES = [
    "not_applied",
    "self_checked",
    "applied",
    "rejected",
    "accepted",
    "filed",
    "recommended",
    "excellent",
    "revoked",
]
ROLES = [
    "province_admin",
    "province_planner",
    "city_bureau",
    "county_bureau",
    "office_staff",
    "viewer",
]


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # Both are pre-created by a superuser where the schema owner may not create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("code ~ '^[0-9]{2}$'", name=op.f("ck_tenants_code_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_tenants_code")),
    )

    op.create_table(
        "divisions",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column("code", sa.String(9), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("parent_code", sa.String(9), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "code ~ '^[1-9]([0-9]|[0-9]{3}|[0-9]{5}|[0-9]{8})$'",
            name=op.f("ck_divisions_code_format"),
        ),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_divisions_kind_valid")),
        sa.CheckConstraint(_in("level", LEVELS), name=op.f("ck_divisions_level_valid")),
        sa.CheckConstraint(
            "(level = 'province' AND length(code) = 2) OR (level = 'city' AND length(code) = 4)"
            " OR (level = 'county' AND length(code) = 6)"
            " OR (level = 'township' AND length(code) = 9)",
            name=op.f("ck_divisions_level_matches_code"),
        ),
        sa.CheckConstraint(
            "(parent_code IS NULL AND length(code) = 2)"
            " OR (parent_code IS NOT NULL AND starts_with(code, parent_code))",
            name=op.f("ck_divisions_parent_is_prefix"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_divisions_validity_order")
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=op.f("ck_divisions_geom_not_empty")),
        ddl.tenant_foreign_key("divisions"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_divisions")),
        sa.UniqueConstraint("tenant_id", "id", "code", name="uq_divisions_tenant_id_id_code"),
        # No two versions of a code overlap in time. The code is compared as a bigint (codes
        # have no leading zero, so this is exact): btree_gist on text costs 4x more per row.
        postgresql.ExcludeConstraint(
            (sa.text("tenant_id"), "="),
            (sa.text("(code::bigint)"), "="),
            (sa.text("daterange(valid_from, valid_to)"), "&&"),
            name="ex_divisions_one_version_per_date",
            using="gist",
        ),
    )
    # lz4 (where the server has it) compresses boundaries several times faster than pglz.
    op.execute(
        """
        DO $$ BEGIN
          IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings
                          WHERE name = 'default_toast_compression') THEN
            ALTER TABLE divisions ALTER COLUMN geom SET COMPRESSION lz4;
          END IF;
        END $$;
        """
    )
    op.create_index(
        "uq_divisions_current_code",
        "divisions",
        ["tenant_id", "code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    ddl.create_code_prefix_index(
        "ix_divisions_current_code_prefix",
        "divisions",
        "code",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index("ix_divisions_geom", "divisions", ["geom"], postgresql_using="gist")

    op.create_table(
        "offices",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("division_id", sa.BigInteger(), nullable=False),
        sa.Column("division_code", sa.String(9), nullable=False),
        sa.Column("located_division_id", sa.BigInteger(), nullable=True),
        sa.Column("located_code", sa.String(9), nullable=True),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("staff_total", sa.Integer(), nullable=True),
        sa.Column("staff_formal", sa.Integer(), nullable=True),
        sa.Column("staff_civil_servants", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Numeric(9, 1), nullable=True),
        sa.Column("acceptance_state", sa.String(16), server_default="not_applied", nullable=False),
        sa.Column("exception_reason", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("opened_on", sa.Date(), server_default=sa.func.current_date(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            _in("acceptance_state", STATES), name=op.f("ck_offices_acceptance_state_valid")
        ),
        sa.CheckConstraint(
            "staff_total IS NULL OR staff_total BETWEEN 0 AND 1000",
            name=op.f("ck_offices_staff_total"),
        ),
        sa.CheckConstraint(
            "staff_formal IS NULL OR (staff_formal >= 0 AND (staff_total IS NULL"
            " OR staff_formal <= staff_total))",
            name=op.f("ck_offices_staff_formal"),
        ),
        sa.CheckConstraint(
            "staff_civil_servants IS NULL OR (staff_civil_servants >= 0 AND (staff_total IS NULL"
            " OR staff_civil_servants <= staff_total))",
            name=op.f("ck_offices_staff_civil_servants"),
        ),
        sa.CheckConstraint(
            "area_m2 IS NULL OR area_m2 >= 0", name=op.f("ck_offices_area_nonnegative")
        ),
        sa.CheckConstraint(
            "(closed_at IS NULL AND closed_reason IS NULL)"
            " OR (closed_at IS NOT NULL AND closed_reason IS NOT NULL)",
            name=op.f("ck_offices_closed_with_reason"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_offices_version_positive")),
        ddl.tenant_foreign_key("offices"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "division_id", "division_code"],
            ["divisions.tenant_id", "divisions.id", "divisions.code"],
            name="fk_offices_division",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "located_division_id", "located_code"],
            ["divisions.tenant_id", "divisions.id", "divisions.code"],
            name="fk_offices_located_division",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_offices")),
    )
    op.create_index("ix_offices_geom", "offices", ["geom"], postgresql_using="gist")
    ddl.create_code_prefix_index(
        "ix_offices_division_code",
        "offices",
        "division_code",
    )
    op.create_index(
        "ix_offices_located_active",
        "offices",
        ["tenant_id", "located_division_id"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "uq_offices_external_id",
        "offices",
        ["tenant_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )

    op.create_table(
        "users",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text(), server_default="", nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("region_code", sa.String(9), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(_in("role", ROLES), name=op.f("ck_users_role_valid")),
        sa.CheckConstraint(
            "username ~ '^[a-z0-9_.@-]{3,64}$'", name=op.f("ck_users_username_format")
        ),
        sa.CheckConstraint(
            "region_code ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})$'",
            name=op.f("ck_users_region_format"),
        ),
        ddl.tenant_foreign_key("users"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_username", "users", [sa.text("lower(username)")], unique=True)
    grant_to_app_role(["tenants", "divisions", "offices", "users"])


APP_ROLE = "registry_app"


def grant_to_app_role(tables: list[str]) -> None:
    """Let the service's role (when the deployment has one) read and write the tables."""
    names = ", ".join(tables)
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT USAGE ON SCHEMA public TO {APP_ROLE};
            GRANT SELECT, INSERT, UPDATE, DELETE ON {names} TO {APP_ROLE};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("offices")
    op.drop_table("divisions")
    op.drop_table("tenants")
