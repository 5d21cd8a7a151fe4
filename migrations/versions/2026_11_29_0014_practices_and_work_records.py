"""What the documents ask that the records could not say (issue 16, "missing"), and the
office's yearly work record (第四篇).

- `office_facilities.practices`: practice key → yes/no (measures.py PRACTICES: 投诉信箱,
  "110"公安司法联动, 岗前培训, 严禁出租办公用房 …). A key not recorded is unknown — so the
  criteria added for these requirements are unknown for every existing record, never failed.
- `office_facilities.staff_establishment`: the office's 编制数 (第三篇 三(一) 按编制配齐人员).
- `office_work_records`: one row per office and year — the counts behind the work-result
  rates (mediation cases and successes, key persons assisted and placed, released persons
  and re-offenders), village mediation committees and mediators, community correction and
  assistance agreements, legal publicity, legal aid and rights-protection stations, staff
  discipline, titles held, the county's yearly assessment, reports on time, and the annual
  summary as an evidence file. Tenant and region guarded and audited like the other records.
- Equipment and vehicles "not recorded" were stored as the JSON value null, which the
  criteria read as an empty map: unrecorded equipment failed instead of being unknown. They
  become SQL NULL (the model now writes NULL), and a check keeps them maps.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import ddl

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "registry_app"
COUNTS = (
    "mediation_cases",
    "mediation_successes",
    "villages",
    "mediation_committees",
    "full_time_mediators",
    "mediators",
    "released_persons",
    "key_persons",
    "key_assisted",
    "key_placed",
    "reoffended",
    "community_corrections",
    "assistance_agreements",
    "publicity_events",
    "legal_aid_cases",
    "rights_stations",
    "discipline_violations",
)
# (part, whole): a part of a count cannot exceed it
PARTS = (
    ("mediation_successes", "mediation_cases"),
    ("key_assisted", "key_persons"),
    ("key_placed", "key_persons"),
    ("reoffended", "released_persons"),
    ("full_time_mediators", "mediators"),
)


def upgrade() -> None:
    op.execute(
        "UPDATE office_facilities SET"
        " equipment = CASE WHEN jsonb_typeof(equipment) = 'null' THEN NULL ELSE equipment END,"
        " vehicles = CASE WHEN jsonb_typeof(vehicles) = 'null' THEN NULL ELSE vehicles END"
        " WHERE jsonb_typeof(equipment) = 'null' OR jsonb_typeof(vehicles) = 'null'"
    )
    for column in ("equipment", "vehicles"):
        op.create_check_constraint(
            op.f(f"ck_office_facilities_{column}_object"),
            "office_facilities",
            f"{column} IS NULL OR jsonb_typeof({column}) = 'object'",
        )
    op.add_column("office_facilities", sa.Column("practices", postgresql.JSONB()))
    op.add_column("office_facilities", sa.Column("staff_establishment", sa.Integer()))
    op.create_check_constraint(
        op.f("ck_office_facilities_practices_object"),
        "office_facilities",
        "practices IS NULL OR jsonb_typeof(practices) = 'object'",
    )
    op.create_check_constraint(
        op.f("ck_office_facilities_staff_establishment_range"),
        "office_facilities",
        "staff_establishment IS NULL OR staff_establishment BETWEEN 0 AND 1000",
    )
    op.create_unique_constraint(
        "uq_evidence_files_office_file", "evidence_files", ["tenant_id", "office_id", "id"]
    )
    op.create_table(
        "office_work_records",
        ddl.tenant_id_column(),
        sa.Column("office_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer()) for name in COUNTS),
        sa.Column("mediator_min_training_days", sa.Integer()),
        sa.Column("titles", postgresql.ARRAY(sa.Text())),
        sa.Column("county_assessment_passed", sa.Boolean()),
        sa.Column("reports_on_time", sa.Boolean()),
        sa.Column("summary_evidence_id", sa.BigInteger()),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_office_work_records_year")),
        *(
            sa.CheckConstraint(f"{name} IS NULL OR {name} >= 0", name=f"ck_owr_{name}_nonneg")
            for name in COUNTS
        ),
        *(
            sa.CheckConstraint(
                f"{part} IS NULL OR {whole} IS NULL OR {part} <= {whole}",
                name=f"ck_owr_{part}_within_{whole}",
            )
            for part, whole in PARTS
        ),
        sa.CheckConstraint(
            "mediator_min_training_days IS NULL OR mediator_min_training_days BETWEEN 0 AND 366",
            name="ck_owr_mediator_training_days",
        ),
        ddl.office_foreign_key("office_work_records"),
        # the annual summary is one of the office's own files (the database holds that too)
        sa.ForeignKeyConstraint(
            ["tenant_id", "office_id", "summary_evidence_id"],
            ["evidence_files.tenant_id", "evidence_files.office_id", "evidence_files.id"],
            name="fk_office_work_records_summary",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "office_id", "year", name="pk_office_work_records"),
    )
    ddl.enable_tenant_isolation("office_work_records")
    ddl.guard_office_records("office_work_records")
    op.execute(
        "CREATE TRIGGER office_work_records_audit AFTER INSERT OR UPDATE OR DELETE"
        " ON office_work_records FOR EACH ROW EXECUTE FUNCTION audit_row_change()"
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON office_work_records TO {APP_ROLE};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.drop_table("office_work_records")
    op.drop_constraint("uq_evidence_files_office_file", "evidence_files", type_="unique")
    op.drop_column("office_facilities", "staff_establishment")
    op.drop_column("office_facilities", "practices")
