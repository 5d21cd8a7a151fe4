"""Compliance: an office, or every office of a region, measured against a standard.

One SQL statement per question (facts.EVALUATED): per office the checklist with the measured
value, the threshold and what is missing (缺什么补什么); per region which criteria fail
most and how each city or county stands.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.db import fetch_dicts, plan_for_values
from service.deps import Scope
from service.offices.models import Office
from service.standards import service as standards
from service.standards.facts import EVALUATED, MEASURED, STATUS, evaluation_params
from service.standards.measures import Op, item_labels, measure_label
from service.standards.models import Standard

STATUS_ZH = {"pass": "达标", "fail": "未达标", "unknown": "缺少数据"}
OP_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}

_OFFICE = (
    "WITH "
    + EVALUATED
    + """
SELECT e.key, e.mandatory, e.op, e.threshold, e.item_values, e.status, e.num, e.flag,
       e.items, c.category, c.text, c.source, c.measure, c.missing, c.kinds
  FROM evaluated e
  JOIN standard_criteria c ON c.tenant_id = :t AND c.standard_id = :std AND c.key = e.key
 ORDER BY c.position
"""
)


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _threshold(row: dict[str, Any]) -> str:
    """The requirement in words, e.g. "≥ 120 平方米" or "所长办公室、档案资料室"."""
    op = row["op"]
    if op in OP_ZH:
        unit = measure_label(row["measure"])[1]
        return f"{OP_ZH[op]} {_number(row['threshold'])} {unit}".strip()
    if op == Op.is_true:
        return "是"
    if op == Op.is_false:
        return "否"
    labels = item_labels(row["measure"].split(".")[0])
    names = "、".join(labels.get(v, v) for v in row["item_values"])
    return names if op == Op.has_all else f"至少其一:{names}"


def _measured(row: dict[str, Any]) -> Any:
    if row["op"] in (Op.is_true, Op.is_false):
        return row["flag"]
    if row["op"] in (Op.has_all, Op.has_any):
        items = row["items"]
        return sorted(items) if isinstance(items, (list, dict)) else None
    return _number(row["num"])


def _missing_items(row: dict[str, Any]) -> list[str]:
    if row["op"] != Op.has_all or row["status"] != "fail":
        return []
    present = set(row["items"] or [])
    labels = item_labels(row["measure"].split(".")[0])
    return [labels.get(v, v) for v in row["item_values"] if v not in present]


def office_compliance(
    *, session: Session, scope: Scope, office: Office, standard_ref: str | None, as_of: date | None
) -> dict[str, Any]:
    """The checklist of one office against a standard (default: the one in force)."""
    scope.require(Action.read)
    standard = standards.resolve(
        session=session, tenant_id=scope.tenant_id, ref=standard_ref, as_of=as_of
    )
    day = as_of or date.today()
    rows = fetch_dicts(
        session,
        _OFFICE,
        {
            "t": scope.tenant_id,
            "region": office.division_code,
            "office": office.id,
            **evaluation_params(standard, day),
        },
    )
    items = []
    missing = []
    for row in rows:
        label, unit = measure_label(row["measure"])
        gaps = _missing_items(row)
        item = {
            "key": row["key"],
            "category": row["category"],
            "text": row["text"],
            "source": row["source"],
            "mandatory": row["mandatory"],
            "measure": row["measure"],
            "measure_label": label,
            "unit": unit,
            "status": row["status"],
            "status_label": STATUS_ZH[row["status"]],
            "measured": _measured(row),
            "required": _threshold(row),
            "missing_items": gaps,
            "todo": None,
        }
        if row["status"] != "pass":
            todo = row["missing"] if row["status"] == "fail" else f"补录数据:{label}"
            if gaps:
                todo = f"{row['missing']}(缺:{'、'.join(gaps)})"
            item["todo"] = todo
            missing.append(("【必备】" if row["mandatory"] else "【建议】") + todo)
        items.append(item)
    return {
        "office_id": office.id,
        "office_name": office.name,
        "as_of": day,
        "standard": standard_summary(standard),
        **score(items),
        "items": items,
        "missing": missing,
    }


def score(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, the share of criteria met, and whether every mandatory criterion is met."""
    counts = {s: sum(1 for i in items if i["status"] == s) for s in ("pass", "fail", "unknown")}
    mandatory_open = [i["key"] for i in items if i["mandatory"] and i["status"] != "pass"]
    return {
        "passed": counts["pass"],
        "failed": counts["fail"],
        "unknown": counts["unknown"],
        "score": round(100 * counts["pass"] / len(items), 1) if items else None,
        "mandatory_met": not mandatory_open,
        "mandatory_open": mandatory_open,
    }


def standard_summary(standard: Standard) -> dict[str, Any]:
    return {
        "id": standard.id,
        "version": standard.version,
        "code": standard.code,
        "title": standard.title,
        "document": standard.document,
        "effective_from": standard.effective_from,
    }


# One pass over office × criterion (never materialised): counts per criterion, per office,
# and failures per sub-region and criterion, as grouping sets of one aggregate.
_REGION = (
    "WITH "
    + MEASURED
    + """,
agg AS MATERIALIZED (
  SELECT m.key, m.office_id, left(m.division_code, :child_len) AS sub,
         count(*) FILTER (WHERE s.status = 'pass') AS passed,
         count(*) FILTER (WHERE s.status = 'fail') AS failed,
         count(*) FILTER (WHERE s.status = 'unknown') AS unknown,
         count(*) AS applicable,
         bool_and(s.status = 'pass') FILTER (WHERE m.mandatory) AS mandatory_met
    FROM measured m
    CROSS JOIN LATERAL (SELECT """
    + STATUS
    + """ AS status) s
   GROUP BY GROUPING SETS ((m.key), (m.office_id, left(m.division_code, :child_len)),
                           (left(m.division_code, :child_len), m.key))
),
by_sub AS (
  SELECT sub, count(*) AS offices,
         count(*) FILTER (WHERE coalesce(mandatory_met, true)) AS compliant,
         round(avg(100.0 * passed / applicable), 1) AS avg_score
    FROM agg WHERE key IS NULL GROUP BY sub
),
sub_fail AS (
  SELECT DISTINCT ON (sub) sub, key AS worst_key, failed AS worst_failures
    FROM agg WHERE office_id IS NULL AND sub IS NOT NULL AND key IS NOT NULL AND failed > 0
   ORDER BY sub, failed DESC, key
)
SELECT 'criterion' AS row_type, a.key AS id, a.passed, a.failed, a.unknown,
       NULL::bigint AS offices, NULL::bigint AS compliant, NULL::numeric AS avg_score,
       NULL::text AS worst_key, NULL::bigint AS worst_failures
  FROM agg a WHERE a.office_id IS NULL AND a.sub IS NULL
UNION ALL
SELECT 'region', s.sub, NULL, NULL, NULL, s.offices, s.compliant, s.avg_score,
       f.worst_key, f.worst_failures
  FROM by_sub s LEFT JOIN sub_fail f ON f.sub = s.sub
"""
)


def region_compliance(
    *,
    session: Session,
    scope: Scope,
    region: str,
    standard_ref: str | None,
    as_of: date | None,
    child_len: int,
) -> dict[str, Any]:
    """Which criteria fail most, and per city/county how many offices meet the standard."""
    scope.require(Action.read)
    standard = standards.resolve(
        session=session, tenant_id=scope.tenant_id, ref=standard_ref, as_of=as_of
    )
    day = as_of or date.today()
    plan_for_values(session)
    rows = fetch_dicts(
        session,
        _REGION,
        {
            "t": scope.tenant_id,
            "region": region,
            "office": None,
            **evaluation_params(standard, day),
            "child_len": child_len,
        },
    )
    criteria = {c.key: c for c in standards.criteria_of(session=session, standard=standard)}
    subs = [r for r in rows if r["row_type"] == "region"]
    names = division_names(session, scope.tenant_id, [r["id"] for r in subs])
    by_criterion = sorted(
        (
            {
                "key": r["id"],
                "text": criteria[r["id"]].text,
                "category": criteria[r["id"]].category,
                "mandatory": criteria[r["id"]].mandatory,
                "passed": r["passed"],
                "failed": r["failed"],
                "unknown": r["unknown"],
            }
            for r in rows
            if r["row_type"] == "criterion"
        ),
        key=lambda c: (-c["failed"], -c["unknown"], criteria[c["key"]].position),
    )
    regions = [
        {
            "code": r["id"],
            "name": names.get(r["id"]),
            "offices": r["offices"],
            "compliant": r["compliant"],
            "compliance_rate": round(r["compliant"] / r["offices"], 4) if r["offices"] else None,
            "avg_score": _number(r["avg_score"]),
            "most_failed": r["worst_key"],
            "most_failed_text": criteria[r["worst_key"]].text if r["worst_key"] else None,
            "most_failed_count": r["worst_failures"],
        }
        for r in sorted(subs, key=lambda r: r["id"])
    ]
    offices = sum(r["offices"] for r in regions)
    compliant = sum(r["compliant"] for r in regions)
    return {
        "region": region,
        "as_of": day,
        "standard": standard_summary(standard),
        "offices": offices,
        "compliant": compliant,
        "compliance_rate": round(compliant / offices, 4) if offices else None,
        "criteria": by_criterion,
        "regions": regions,
    }


def division_names(session: Session, tenant_id: int, codes: list[str]) -> dict[str, str]:
    """Current names of the given division codes (one query)."""
    if not codes:
        return {}
    rows = session.execute(
        text(
            "SELECT code, name FROM divisions WHERE tenant_id = :t AND valid_to IS NULL"
            " AND code = ANY(:codes)"
        ),
        {"t": tenant_id, "codes": codes},
    )
    return {r.code: r.name for r in rows}


def mandatory_status(
    *, session: Session, tenant_id: int, office: Office, standard: Standard, as_of: date
) -> dict[str, Any]:
    """Score and open mandatory criteria of one office (what a workflow step records)."""
    rows = fetch_dicts(
        session,
        _OFFICE,
        {
            "t": tenant_id,
            "region": office.division_code,
            "office": office.id,
            **evaluation_params(standard, as_of),
        },
    )
    return score(rows_as_items(rows))


def rows_as_items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": r["key"], "mandatory": r["mandatory"], "status": r["status"]} for r in rows]
