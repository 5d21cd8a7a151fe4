"""The region rule in the database, and refresh tokens that remember their predecessors.

Row-level security so far drew the tenant line only; inside a tenant every path had to
remember the caller's region itself, and the roster import forgot (it updated an office of
another city). Now the transaction also carries the caller's region (`app.region`, set by
`bind_context`): `'*'` for the whole tenant, a code prefix for a subtree, unset or empty for
nothing. Restrictive policies, ANDed with the tenant policy, apply it:

- offices: read when registered *or* standing in the region (the coverage reports count
  offices where they stand); inserted, changed and kept only when registered in it;
- an office's records (facilities, staff, staff personal data, evidence, acceptance history):
  only for offices registered in the region;
- audit events: only those about things in the region.

A trigger keeps an office's staff numbers equal to its staff list, whatever path writes them.

`registry_taken_external_ids` tells a roster import which of its 编号 already belong to an
office the caller cannot see, without saying which office or where.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import ddl

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"


def _in_region(*codes: str) -> str:
    """Any of `codes` lies in the transaction's region ('*' = all; empty or unset = none).
    The whole-tenant test comes first: for those users each row costs one comparison."""
    tests = " OR ".join(f"starts_with({code}, {ddl.REGION_PREFIX})" for code in codes)
    return f"({ddl.REGION} = '*' OR {tests})"


OFFICE_RECORDS = ["office_facilities", "office_staff", "evidence_files", "acceptance_events"]
STAFF_PERSONAL = (
    f"({ddl.REGION} = '*' OR EXISTS (SELECT 1 FROM office_staff s JOIN offices o"
    " ON o.tenant_id = s.tenant_id AND o.id = s.office_id"
    " WHERE s.tenant_id = office_staff_personal.tenant_id AND s.id = office_staff_personal.staff_id"
    f" AND starts_with(o.division_code, {ddl.REGION_PREFIX})))"
)


# An office with a staff list takes its staff numbers from the list (records/service.py
# sync_staff_counts); no path may set others — the API and the roster check first, this
# catches whatever forgets.
STAFF_COUNTS = """
CREATE FUNCTION offices_staff_counts_follow_list() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  listed int; n int; formal int; cs int;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE s.left_on IS NULL),
         count(*) FILTER (WHERE s.left_on IS NULL AND s.formal),
         count(*) FILTER (WHERE s.left_on IS NULL AND s.civil_servant)
    INTO listed, n, formal, cs
    FROM office_staff s WHERE s.tenant_id = NEW.tenant_id AND s.office_id = NEW.id;
  IF listed > 0 AND (NEW.staff_total, NEW.staff_formal, NEW.staff_civil_servants)
                    IS DISTINCT FROM (n, formal, cs) THEN
    RAISE EXCEPTION 'the staff numbers of office % follow its staff list', NEW.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'staff_counts_follow_list';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER offices_staff_counts
  BEFORE UPDATE OF staff_total, staff_formal, staff_civil_servants ON offices FOR EACH ROW
  WHEN ((OLD.staff_total, OLD.staff_formal, OLD.staff_civil_servants)
        IS DISTINCT FROM (NEW.staff_total, NEW.staff_formal, NEW.staff_civil_servants))
  EXECUTE FUNCTION offices_staff_counts_follow_list();
"""


def upgrade() -> None:
    registered = _in_region("division_code")
    op.execute(
        f"CREATE POLICY region_read ON offices AS RESTRICTIVE FOR SELECT"
        f" USING ({_in_region('division_code', 'located_code')})"
    )
    op.execute(
        f"CREATE POLICY region_insert ON offices AS RESTRICTIVE FOR INSERT WITH CHECK ({registered})"
    )
    op.execute(
        f"CREATE POLICY region_update ON offices AS RESTRICTIVE FOR UPDATE"
        f" USING ({registered}) WITH CHECK ({registered})"
    )
    for table in OFFICE_RECORDS:
        ddl.guard_office_records(table)
    op.execute(
        f"CREATE POLICY region_guard ON office_staff_personal AS RESTRICTIVE"
        f" USING ({STAFF_PERSONAL}) WITH CHECK ({STAFF_PERSONAL})"
    )
    about = _in_region("coalesce(region_code, '')")
    op.execute(
        f"CREATE POLICY region_read ON audit_events AS RESTRICTIVE FOR SELECT USING ({about})"
    )
    op.execute(STAFF_COUNTS)
    op.execute(
        """
        CREATE FUNCTION registry_taken_external_ids(p_ids text[]) RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
          SELECT o.external_id FROM offices o
           WHERE o.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::int
             AND o.external_id = ANY(p_ids)
        $$;
        REVOKE ALL ON FUNCTION registry_taken_external_ids(text[]) FROM PUBLIC;
        """
    )
    ddl.add_column_with_default(
        "auth_sessions", "rotated_hashes", postgresql.ARRAY(sa.LargeBinary()), "'{}'"
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT EXECUTE ON FUNCTION registry_taken_external_ids(text[]) TO {APP_ROLE};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS offices_staff_counts ON offices")
    op.execute("DROP FUNCTION IF EXISTS offices_staff_counts_follow_list()")
    op.drop_column("auth_sessions", "rotated_hashes")
    op.execute("DROP FUNCTION IF EXISTS registry_taken_external_ids(text[])")
    op.execute("DROP POLICY IF EXISTS region_read ON audit_events")
    op.execute("DROP POLICY IF EXISTS region_guard ON office_staff_personal")
    for table in OFFICE_RECORDS:
        op.execute(f"DROP POLICY IF EXISTS region_guard ON {table}")
    for name in ("region_read", "region_insert", "region_update"):
        op.execute(f"DROP POLICY IF EXISTS {name} ON offices")
