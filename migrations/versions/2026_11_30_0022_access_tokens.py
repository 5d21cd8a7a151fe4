"""Personal access tokens: what desktop clients (QGIS, GDAL, ArcGIS) and scripts present
instead of a password login — as a bearer token or as the password of HTTP Basic.

A token is `rgt_<tenant id>_<token id>_<secret>`; only the SHA-256 of the secret is kept (32
random bytes need no slow hash), with its first characters for the user to recognise it by.
A token expires, may be revoked (never deleted: the service's role has no DELETE, and the
audit trail names tokens by id), records when it was last used, and is read-only unless
created with `can_write`. Row-level security: the tenant line, as every tenant table — the
token names its tenant, so a request binds it before looking the token up.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        ddl.tenant_id_column(),
        ddl.row_id_column(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("can_write", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 100", name=op.f("ck_access_tokens_name_length")
        ),
        sa.CheckConstraint(
            "octet_length(secret_hash) = 32", name=op.f("ck_access_tokens_secret_hash_sha256")
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_access_tokens_expires_after_created")
        ),
        ddl.tenant_foreign_key("access_tokens"),
        ddl.user_foreign_key("access_tokens"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_access_tokens")),
    )
    op.create_index("ix_access_tokens_user", "access_tokens", ["tenant_id", "user_id"])
    ddl.enable_tenant_isolation("access_tokens")
    ddl.grant_to_app_role(f"GRANT SELECT, INSERT, UPDATE ON access_tokens TO {ddl.APP_ROLE};")


def downgrade() -> None:
    op.drop_table("access_tokens")
