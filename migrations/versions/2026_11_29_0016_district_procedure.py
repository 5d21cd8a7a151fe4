"""第一篇's two stages (issue 16): the office applies to the district, the district's leading
group inspects it, and only then does the district apply to the city.

A new acceptance state `district_review` (已向区(县)司法局申报待检查) and a procedure
`district` (service/acceptance/workflow.py). The district's standard (code district-2005)
takes it, published versions included: their offices stand in states the district procedure
has too (it only replaces the county's direct application by the office's application and the
district's check), so existing histories stay valid.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = [
    "not_applied",
    "self_checked",
    "district_review",
    "applied",
    "rejected",
    "accepted",
    "filed",
    "recommended",
    "excellent",
    "revoked",
]


def _states(states: list[str]) -> str:
    return "acceptance_state IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_offices_acceptance_state_valid"), "offices", type_="check")
    op.create_check_constraint(
        op.f("ck_offices_acceptance_state_valid"), "offices", _states(STATES)
    )
    op.drop_constraint(op.f("ck_standards_procedure_valid"), "standards", type_="check")
    op.create_check_constraint(
        op.f("ck_standards_procedure_valid"),
        "standards",
        "procedure IN ('city', 'province', 'district')",
    )
    # (standards are append-only, so the trigger must let this one-time fill through)
    op.execute("ALTER TABLE standards DISABLE TRIGGER standards_append_only")
    op.execute("UPDATE standards SET procedure = 'district' WHERE code = 'district-2005'")
    op.execute("ALTER TABLE standards ENABLE TRIGGER standards_append_only")


def downgrade() -> None:
    op.execute("ALTER TABLE standards DISABLE TRIGGER standards_append_only")
    op.execute("UPDATE standards SET procedure = 'city' WHERE procedure = 'district'")
    op.execute("ALTER TABLE standards ENABLE TRIGGER standards_append_only")
    op.drop_constraint(op.f("ck_standards_procedure_valid"), "standards", type_="check")
    op.create_check_constraint(
        op.f("ck_standards_procedure_valid"), "standards", "procedure IN ('city', 'province')"
    )
    op.execute(
        "UPDATE offices SET acceptance_state = 'self_checked'"
        " WHERE acceptance_state = 'district_review'"
    )
    op.drop_constraint(op.f("ck_offices_acceptance_state_valid"), "offices", type_="check")
    states = [s for s in STATES if s != "district_review"]
    op.create_check_constraint(
        op.f("ck_offices_acceptance_state_valid"), "offices", _states(states)
    )
