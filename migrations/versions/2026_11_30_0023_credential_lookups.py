"""Credential lookups in one statement: the user a login session or an access token names,
with their tenant and the credential's row.

A request names its tenant only through its credential, so until the credential is looked up
the transaction cannot be bound to the tenant that row-level security asks for. These two
narrow SECURITY DEFINER functions answer for one credential id in the tenant the credential
itself names (what binding that tenant first would have let the service read anyway), so the
service looks the credential up and binds the transaction to its user in one statement
(service/accounts/credentials.py): one round trip on every request instead of two.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from migrations import ddl

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the user and their tenant, as every credential's lookup returns them
_USER = """
    user_id bigint, username text, role text, region_code text, is_active boolean,
    tenant_code text, tenant_name text, required_kinds text[],
"""
_USER_COLUMNS = """
    u.id, u.username::text, u.role::text, u.region_code::text, u.is_active,
    t.code::text, t.name, t.required_kinds::text[],
"""
LOGIN = "registry_login_of(integer, bigint, bigint)"
TOKEN = "registry_access_token_of(integer, bigint)"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION registry_login_of(p_tenant integer, p_user bigint, p_session bigint)
        RETURNS TABLE ({_USER} revoked_at timestamptz, expires_at timestamptz)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          RETURN QUERY
          SELECT {_USER_COLUMNS} s.revoked_at, s.expires_at
          FROM auth_sessions s
          JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
          JOIN tenants t ON t.id = s.tenant_id
          WHERE s.tenant_id = p_tenant AND s.id = p_session AND s.user_id = p_user;
        END $$;
        REVOKE ALL ON FUNCTION {LOGIN} FROM PUBLIC;

        CREATE FUNCTION registry_access_token_of(p_tenant integer, p_token bigint)
        RETURNS TABLE ({_USER} secret_hash bytea, revoked_at timestamptz,
                       expires_at timestamptz, can_write boolean, last_used_at timestamptz)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          RETURN QUERY
          SELECT {_USER_COLUMNS} a.secret_hash, a.revoked_at, a.expires_at, a.can_write,
                 a.last_used_at
          FROM access_tokens a
          JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id
          JOIN tenants t ON t.id = a.tenant_id
          WHERE a.tenant_id = p_tenant AND a.id = p_token;
        END $$;
        REVOKE ALL ON FUNCTION {TOKEN} FROM PUBLIC;
        """
    )
    ddl.grant_to_app_role(
        f"GRANT EXECUTE ON FUNCTION {LOGIN} TO {ddl.APP_ROLE};"
        f" GRANT EXECUTE ON FUNCTION {TOKEN} TO {ddl.APP_ROLE};"
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {LOGIN}; DROP FUNCTION IF EXISTS {TOKEN}")
