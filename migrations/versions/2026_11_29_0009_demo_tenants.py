"""Demo tenants are marked, so that demo and real tenants never share a database.

The demo's boundaries are generated and its logins printed on a terminal: a real province's
tenant next to them (or demo data loaded into a real tenant) would mix the two. Tenants the
demo created say so in `demo`; existing ones are recognised by their generated boundaries
(`divisions.generated`, set from the demo loader's `generated:` source).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import ddl

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ddl.add_column_with_default("tenants", "demo", sa.Boolean(), "false")
    # (as the tables' owner, whom row-level security does not restrict)
    op.execute(
        "UPDATE tenants t SET demo = true WHERE EXISTS"
        " (SELECT 1 FROM divisions d WHERE d.tenant_id = t.id AND d.generated)"
    )


def downgrade() -> None:
    op.drop_column("tenants", "demo")
