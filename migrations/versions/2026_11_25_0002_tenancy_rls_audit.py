"""Tenancy in the database: row-level security, auth sessions, login throttling, audit trail.

Every tenant table gets a policy keyed by the per-transaction setting `app.tenant_id`
(set by the service after authentication); without it no row is visible or writable. The
service's role (registry_app) is neither superuser, owner nor BYPASSRLS. Login, which must
find a user before the tenant is known, goes through one SECURITY DEFINER function.
Every change of an office or user appends an audit event (trigger), to a table the service
may only INSERT into and SELECT from; a trigger refuses UPDATE, DELETE and TRUNCATE to all.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import ddl

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"
TENANT_TABLES = ["divisions", "offices", "users", "auth_sessions", "audit_events"]


def _if_app_role(sql: str) -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            {sql}
          END IF;
        END $$;
        """
    )


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("refresh_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("ip", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        ddl.tenant_foreign_key("auth_sessions"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name="fk_auth_sessions_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_auth_sessions")),
    )
    op.create_index("ix_auth_sessions_user", "auth_sessions", ["tenant_id", "user_id"])

    op.create_table(
        "login_failures",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )

    op.create_table(
        "audit_events",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(9), nullable=True),
        sa.Column("before", postgresql.JSONB(), nullable=True),
        sa.Column("after", postgresql.JSONB(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        ddl.tenant_foreign_key("audit_events", ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["tenant_id", "entity_type", "entity_id", "id"]
    )
    op.create_index("ix_audit_events_time", "audit_events", ["tenant_id", "occurred_at"])

    # -- audit: append-only, fed by triggers --------------------------------------------------
    op.execute(
        """
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
          FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
          FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

        CREATE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          old_doc jsonb;
          new_doc jsonb;
          row_doc record;
        BEGIN
          IF TG_OP <> 'INSERT' THEN old_doc := to_jsonb(OLD); END IF;
          IF TG_OP <> 'DELETE' THEN new_doc := to_jsonb(NEW); END IF;
          IF TG_TABLE_NAME = 'offices' THEN
            IF old_doc IS NOT NULL THEN
              old_doc := old_doc - 'geom' || jsonb_build_object(
                'lon', round(ST_X(OLD.geom)::numeric, 7), 'lat', round(ST_Y(OLD.geom)::numeric, 7));
            END IF;
            IF new_doc IS NOT NULL THEN
              new_doc := new_doc - 'geom' || jsonb_build_object(
                'lon', round(ST_X(NEW.geom)::numeric, 7), 'lat', round(ST_Y(NEW.geom)::numeric, 7));
            END IF;
          ELSIF TG_TABLE_NAME = 'users' THEN
            IF old_doc IS NOT NULL AND new_doc IS NOT NULL THEN
              new_doc := new_doc || jsonb_build_object(
                'password_changed', OLD.password_hash IS DISTINCT FROM NEW.password_hash);
            END IF;
            old_doc := old_doc - 'password_hash';
            new_doc := new_doc - 'password_hash';
          END IF;
          IF TG_OP = 'UPDATE'
             AND (old_doc - 'updated_at' - 'version')
                 = (new_doc - 'updated_at' - 'version' - 'password_changed')
             AND NOT coalesce((new_doc ->> 'password_changed')::boolean, false) THEN
            RETURN NULL;  -- nothing but bookkeeping changed
          END IF;
          IF TG_OP = 'DELETE' THEN row_doc := OLD; ELSE row_doc := NEW; END IF;
          INSERT INTO audit_events (tenant_id, user_id, username, role, action, entity_type,
                                    entity_id, region_code, before, after, request_id)
          VALUES (
            row_doc.tenant_id,
            NULLIF(current_setting('app.user_id', true), '')::bigint,
            coalesce(NULLIF(current_setting('app.username', true), ''), 'db:' || session_user),
            NULLIF(current_setting('app.role', true), ''),
            lower(TG_OP),
            TG_TABLE_NAME,
            row_doc.id::text,
            CASE TG_TABLE_NAME WHEN 'offices' THEN coalesce(new_doc, old_doc)->>'division_code'
                               WHEN 'users' THEN coalesce(new_doc, old_doc)->>'region_code' END,
            old_doc,
            new_doc,
            NULLIF(current_setting('app.request_id', true), ''));
          RETURN NULL;
        END $$;
        CREATE TRIGGER offices_audit AFTER INSERT OR UPDATE OR DELETE ON offices
          FOR EACH ROW EXECUTE FUNCTION audit_row_change();
        CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
          FOR EACH ROW EXECUTE FUNCTION audit_row_change();
        """
    )

    # -- row-level security ------------------------------------------------------------------
    for table in TENANT_TABLES:
        ddl.enable_tenant_isolation(table)
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON tenants USING (id = {ddl.TENANT})")

    # -- login before the tenant is known: one narrow SECURITY DEFINER function ------------------
    op.execute(
        """
        CREATE FUNCTION registry_login_lookup(p_username text)
        RETURNS TABLE (tenant_id int, user_id bigint, password_hash text, is_active boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
          SELECT u.tenant_id, u.id, u.password_hash, u.is_active
            FROM users u WHERE lower(u.username) = lower(p_username)
        $$;
        REVOKE ALL ON FUNCTION registry_login_lookup(text) FROM PUBLIC;
        """
    )

    _if_app_role(
        f"""
        REVOKE ALL ON tenants, divisions, offices, users FROM {APP_ROLE};
        GRANT SELECT ON tenants TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE ON divisions, offices, users TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE ON auth_sessions TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO {APP_ROLE};
        GRANT SELECT, INSERT ON audit_events TO {APP_ROLE};
        GRANT EXECUTE ON FUNCTION registry_login_lookup(text) TO {APP_ROLE};
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS registry_login_lookup(text)")
    for table in [*TENANT_TABLES, "tenants"]:
        if table in ("auth_sessions", "audit_events"):
            continue
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS offices_audit ON offices")
    op.execute("DROP TRIGGER IF EXISTS users_audit ON users")
    op.execute("DROP TABLE audit_events")  # the append-only triggers go with the table
    op.execute("DROP FUNCTION IF EXISTS audit_row_change()")
    op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    op.drop_table("login_failures")
    op.drop_table("auth_sessions")
    _if_app_role(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, divisions, offices, users TO {APP_ROLE};"
    )
