"""河南 2009 as its text says: 以下 includes the number, and 汽车、摩托车等 means either.

Two criteria of the seed standard henan-2009 were encoded wrongly (issue 16): 第五篇 第17条
"重新违法犯罪率控制在3%以下" was `< 3` — in Chinese legal drafting 以上/以下 include the number
itself, as the same file already read 以上 (`>=`) — and 第五篇 "有条件的司法所要配备汽车、摩托车等
业务用车" required a car *and* a motorcycle. The seed file is corrected; a tenant whose latest
henan-2009 version still carries either reading gets a corrected version: the next version
number, the same effective date (so it is the version in force wherever the old one was), every
other criterion copied as it was. Published versions are append-only: the old version stays,
and offices judged under it keep it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = "henan-2009"
FIXES = {"HN2009-REOFFENDING": ("<", "<="), "HN2009-VEHICLES": ("has_all", "has_any")}
NOTE = (
    " Corrected by migration 0010: HN2009-REOFFENDING is <= 3 (以下 includes the number) and"
    " HN2009-VEHICLES is has_any (汽车、摩托车等: either)."
)
BY = "system:migration-0010"


def upgrade() -> None:
    bind = op.get_bind()
    # (as the tables' owner, whom row-level security does not restrict)
    latest = bind.execute(
        text(
            "SELECT DISTINCT ON (tenant_id) tenant_id, id FROM standards WHERE code = :code"
            " ORDER BY tenant_id, version DESC"
        ),
        {"code": CODE},
    ).all()
    for tenant_id, standard_id in latest:
        wrong = bind.scalar(
            text(
                "SELECT count(*) FROM standard_criteria WHERE tenant_id = :t"
                " AND standard_id = :s AND ((key = :k1 AND op = :o1) OR (key = :k2 AND op = :o2))"
            ),
            {
                "t": tenant_id,
                "s": standard_id,
                "k1": "HN2009-REOFFENDING",
                "o1": FIXES["HN2009-REOFFENDING"][0],
                "k2": "HN2009-VEHICLES",
                "o2": FIXES["HN2009-VEHICLES"][0],
            },
        )
        if not wrong:
            continue
        bind.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('standards'), :t)"), {"t": tenant_id}
        )
        corrected = bind.scalar(
            text(
                "INSERT INTO standards (tenant_id, version, code, title, document, issued_on,"
                " effective_from, notes, published_by)"
                " SELECT tenant_id, (SELECT max(version) + 1 FROM standards WHERE tenant_id = :t),"
                " code, title, document, issued_on, effective_from, coalesce(notes, '') || :note,"
                " :by FROM standards WHERE tenant_id = :t AND id = :s RETURNING id"
            ),
            {"t": tenant_id, "s": standard_id, "note": NOTE, "by": BY},
        )
        bind.execute(
            text(
                "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category,"
                " text, source, kinds, mandatory, measure, op, threshold, item_values, missing)"
                " SELECT tenant_id, :new, key, position, category, text, source, kinds, mandatory,"
                " measure, CASE key WHEN 'HN2009-REOFFENDING' THEN '<='"
                " WHEN 'HN2009-VEHICLES' THEN 'has_any' ELSE op END,"
                " threshold, item_values,"
                " CASE key WHEN 'HN2009-VEHICLES' THEN '有条件的应配备汽车或摩托车等业务用车'"
                " ELSE missing END"
                " FROM standard_criteria WHERE tenant_id = :t AND standard_id = :s"
            ),
            {"t": tenant_id, "s": standard_id, "new": corrected},
        )


def downgrade() -> None:
    # Published versions are append-only (standards_append_only): the corrected versions stay;
    # they are valid versions of the standard whatever the schema revision.
    pass
