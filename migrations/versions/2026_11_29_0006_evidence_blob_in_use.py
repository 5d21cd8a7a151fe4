"""Evidence blobs: can a stored file be removed? One narrow question across tenants.

Evidence bytes are stored once per SHA-256 under var/evidence, shared by every row of every
tenant that holds the same bytes. When an upload fails after writing its blob, the service
removes the blob unless a row uses it; row-level security would hide another province's row
from that check, so it goes through one SECURITY DEFINER function that answers only yes or
no for one hash. An index on the hash keeps the answer quick as the table grows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"


def upgrade() -> None:
    op.create_index("ix_evidence_files_sha256", "evidence_files", ["sha256"], unique=False)
    op.execute(
        """
        CREATE FUNCTION evidence_blob_in_use(p_sha256 text) RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
          SELECT EXISTS (SELECT 1 FROM evidence_files WHERE sha256 = p_sha256)
        $$;
        REVOKE ALL ON FUNCTION evidence_blob_in_use(text) FROM PUBLIC;
        """
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT EXECUTE ON FUNCTION evidence_blob_in_use(text) TO {APP_ROLE};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS evidence_blob_in_use(text)")
    op.drop_index("ix_evidence_files_sha256", table_name="evidence_files")
