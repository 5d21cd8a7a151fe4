"""Seed standards as their texts say (issue 16, "encoded wrongly"): a corrected version for
tenants that have the wrong reading.

- henan-2009 第五篇 第17条 "重新违法犯罪率控制在3%以下" was `< 3`: in Chinese legal drafting
  以上/以下 include the number itself, as the same file already read 以上 (`>=`). Now `<= 3`.
- henan-2009 第五篇 第29条 "汽车、摩托车等业务用车" asked for a car *and* a motorcycle; either.
- henan-2004 第二篇 三(二)2 asked 100 % 大专 now; staff without the degree have 3 years from
  appointment: now the count of staff past those 3 years without it must be 0.
- shanxi-2008 第三篇 三(二)2 asks a 党支部; a 党小组 passed. The measure now reads the kind of
  organisation recorded (migration 0011); where only "支部或党小组" was recorded it is unknown.
- henan-2009 第五篇 第1条 names the office "xx县(市、区)司法局xx(…不含乡镇街道字样)司法所", yet
  naming was no criterion, so a wrongly named office could be accepted: HN2009-NAME is added.
- district-2005 第一篇 四(二) "新进…都必须具有大专以上学历" was advisory over all staff; now
  mandatory, over staff who joined on or after the standard took effect.

The seed files are corrected. A tenant whose latest version of such a standard still has a
wrong reading gets a corrected version: the next version number, the same effective date (so
it is the version in force wherever the old one was), every other criterion copied as it was.
Published versions are append-only: the old version stays, offices judged under it keep it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

from alembic import op
from sqlalchemy import text

from migrations import ddl

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY = "system:migration-0010"
# (standard code, criterion key) → the wrong reading (measure, op) and the corrected fields
FIXES: dict[tuple[str, str], tuple[tuple[str, str], dict[str, Any]]] = {
    ("henan-2009", "HN2009-REOFFENDING"): (
        ("reoffending_rate", "<"),
        {
            "measure": "reoffending_rate",
            "op": "<=",
            "threshold": 3,
            "mandatory": True,
            "missing": "刑释解教人员重新违法犯罪率需控制在3%以下",
        },
    ),
    ("henan-2009", "HN2009-VEHICLES"): (
        ("vehicles", "has_all"),
        {
            "measure": "vehicles",
            "op": "has_any",
            "threshold": None,
            "mandatory": False,
            "missing": "有条件的应配备汽车或摩托车等业务用车",
        },
    ),
    ("henan-2004", "HN2004-EDU-COLLEGE"): (
        ("college_staff_share", ">="),
        {
            "measure": "staff_without_college_after_3_years",
            "op": "<=",
            "threshold": 0,
            "mandatory": True,
            "missing": "任职满3年的工作人员均需具有大专以上学历(未达到的须在任职3年内完成法律专业学习)",
        },
    ),
    ("shanxi-2008", "SX2008-PARTY"): (
        ("party_organisation_ok", "is_true"),
        {
            "measure": "party_branch_ok",
            "op": "is_true",
            "threshold": None,
            "mandatory": True,
            "missing": "有3名以上党员的应建立党支部(党小组不够)",
        },
    ),
    ("district-2005", "QU2005-NEW-STAFF-EDU"): (
        ("college_staff_share", ">="),
        {
            "measure": "new_staff_without_college",
            "op": "<=",
            "threshold": 0,
            "mandatory": True,
            "missing": "新进工作人员必须具有大专以上学历或相当学历",
        },
    ),
}

# criteria a document asks for that the version lacks: (code, key) → the whole criterion
ADDED: dict[tuple[str, str], dict[str, Any]] = {
    ("henan-2009", "HN2009-NAME"): {
        "position": 0,  # (before the seal, as in the seed)
        "category": "组织机构",
        "text": "司法所全称为:xx县(市、区)司法局xx(司法所所在地地名,不含乡镇街道字样)司法所。",
        "source": "第五篇 第1条",
        "mandatory": True,
        "measure": "name_in_current_form",
        "op": "is_true",
        "missing": "司法所名称应为“xx县(市、区)司法局xx司法所”,不含乡镇街道字样",
    },
}


def upgrade() -> None:
    bind = op.get_bind()
    # (as the tables' owner, whom row-level security does not restrict)
    for code in sorted({code for code, _ in FIXES} | {code for code, _ in ADDED}):
        fixes = {key: fix for (c, key), fix in FIXES.items() if c == code}
        additions = {key: row for (c, key), row in ADDED.items() if c == code}
        for tenant_id, standard_id in ddl.latest_standard_versions(bind, code):
            wrong = [
                key
                for key, ((measure, old_op), _) in fixes.items()
                if bind.scalar(
                    text(
                        "SELECT count(*) FROM standard_criteria WHERE tenant_id = :t"
                        " AND standard_id = :s AND key = :k AND measure = :m AND op = :o"
                    ),
                    {"t": tenant_id, "s": standard_id, "k": key, "m": measure, "o": old_op},
                )
            ]
            absent = [
                key
                for key in additions
                if not bind.scalar(
                    text(
                        "SELECT count(*) FROM standard_criteria WHERE tenant_id = :t"
                        " AND standard_id = :s AND key = :k"
                    ),
                    {"t": tenant_id, "s": standard_id, "k": key},
                )
            ]
            if wrong or absent:
                new = _publish_corrected(
                    bind, tenant_id, standard_id, {k: fixes[k][1] for k in wrong}, absent
                )
                for key in absent:
                    bind.execute(
                        text(
                            "INSERT INTO standard_criteria (tenant_id, standard_id, key, position,"
                            " category, text, source, mandatory, measure, op, missing)"
                            " VALUES (:t, :s, :key, :position, :category, :text, :source,"
                            " :mandatory, :measure, :op, :missing)"
                        ),
                        {"t": tenant_id, "s": new, "key": key, **additions[key]},
                    )


def _publish_corrected(
    bind: Any, tenant_id: int, standard_id: int, fixed: dict, added: list[str]
) -> int:
    """The corrected copy of the version (its id); `added` criteria are inserted after."""
    ddl.lock_standards(bind, tenant_id)
    note = f" Corrected by migration 0010 (issue 16): {', '.join(sorted([*fixed, *added]))}."
    corrected = bind.scalar(
        text(
            "INSERT INTO standards (tenant_id, version, code, title, document, issued_on,"
            " effective_from, notes, published_by)"
            " SELECT tenant_id, (SELECT max(version) + 1 FROM standards WHERE tenant_id = :t),"
            " code, title, document, issued_on, effective_from, coalesce(notes, '') || :note,"
            " :by FROM standards WHERE tenant_id = :t AND id = :s RETURNING id"
        ),
        {"t": tenant_id, "s": standard_id, "note": note, "by": BY},
    )
    # one statement, the corrected criteria taking their fields from `fix` (rows of published
    # versions are never updated, so the copy is written right the first time)
    rows = (
        ", ".join(
            f"(:k{i}, :m{i}, :o{i}, CAST(:v{i} AS numeric), :d{i}, :x{i})"
            for i in range(len(fixed))
        )
        or "(NULL, NULL, NULL, NULL::numeric, NULL::boolean, NULL)"
    )  # (nothing to change)
    params: dict[str, Any] = {"t": tenant_id, "s": standard_id, "new": corrected}
    for i, (key, f) in enumerate(sorted(fixed.items())):
        params |= {f"k{i}": key, f"m{i}": f["measure"], f"o{i}": f["op"]}
        params |= {f"v{i}": f["threshold"], f"d{i}": f["mandatory"], f"x{i}": f["missing"]}
    bind.execute(
        text(
            "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category,"
            " text, source, kinds, mandatory, measure, op, threshold, item_values, missing)"
            " SELECT c.tenant_id, :new, c.key, c.position, c.category, c.text, c.source, c.kinds,"
            " coalesce(fix.mandatory, c.mandatory), coalesce(fix.measure, c.measure),"
            " coalesce(fix.op, c.op),"
            " CASE WHEN fix.key IS NULL THEN c.threshold ELSE fix.threshold END,"
            " c.item_values, coalesce(fix.missing, c.missing)"
            " FROM standard_criteria c"
            f" LEFT JOIN (VALUES {rows}) AS fix(key, measure, op, threshold, mandatory, missing)"
            " ON fix.key = c.key"
            " WHERE c.tenant_id = :t AND c.standard_id = :s"
        ),
        params,
    )
    return int(corrected)


def downgrade() -> None:
    # Published versions are append-only (standards_append_only): the corrected versions stay;
    # they are valid versions of the standard whatever the schema revision.
    pass
