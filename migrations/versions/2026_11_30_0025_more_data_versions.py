"""Data versions of everything a map page or report reads: besides divisions and offices
(migration 0021), an office's facilities, staff, yearly work records, evidence files and
acceptance events, the standards and their criteria, the targets, and the tenant's own
settings (the kinds of township that need an office). A map page is kept and revalidated
under the sum of these versions (service/maps/router.py), so a change of any of them is
seen by the next page: the same statement-level trigger as 0021, once per statement.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "office_facilities",
    "office_staff",
    "office_work_records",
    "evidence_files",
    "acceptance_events",
    "standards",
    "standard_criteria",
    "targets",
    "tenants",
)


def upgrade() -> None:
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_version"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION data_versions_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
