"""Why a page form was refused, in Chinese, by field: pydantic's error types (with the values
of their context) and the fields named in the domain errors' `details`. Every form of the
pages uses these, so that one refusal reads the same wherever it is met, and the API's English
messages never reach a page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.core.errors import DomainError

# why a value was refused, by pydantic's error type (`{…}` from the error's context)
PROBLEMS_ZH = {
    "missing": "须填写",
    "int_parsing": "须填写整数",
    "int_from_float": "须填写整数",
    "int_type": "须填写整数",
    "float_parsing": "须填写数字",
    "float_type": "须填写数字",
    "decimal_parsing": "须填写数字",
    "decimal_type": "须填写数字",
    "finite_number": "须填写数字",
    "decimal_max_places": "最多保留 {decimal_places} 位小数",
    "decimal_max_digits": "数字位数过多",
    "decimal_whole_digits": "数字位数过多",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "须小于 {lt}",
    "enum": "不是可选项",
    "literal_error": "不是可选项",
    "bool_parsing": "请选择“是”或“否”",
    "bool_type": "请选择“是”或“否”",
    "too_long": "选择过多",
    "string_type": "须填写",
    "string_too_long": "不能超过 {max_length} 个字",
    "string_pattern_mismatch": "格式不正确",
    "date_parsing": "日期格式应为 年-月-日(如 2024-05-01)",
    "date_from_datetime_parsing": "日期格式应为 年-月-日(如 2024-05-01)",
    "date_type": "日期格式应为 年-月-日(如 2024-05-01)",
    "extra_forbidden": "不接受此项",
    "duplicate_title": "每个称号只能选一次",
}
# a value_error's message (the schemas' own validators) → Chinese, by a phrase it contains
VALUE_ERRORS_ZH = (
    ("must not be blank", "须填写"),
    ("control or invisible characters", "不能含有控制字符或不可见字符"),
    ("is outside 1949-10-01", "日期应在 1949-10-01 至 2100-12-31 之间"),
    ("must be EPSG", "不是可选的坐标系"),
    ("cannot be null", "须填写"),
    ("cannot exceed staff_total", "不能大于在岗人数"),
    ("required with the work-result rates", "填写工作成效比率时须填写年度"),
    ("contradicts party_organisation", "与所选党组织类型不一致"),
)
# a model-level error names its field first ("results_year: required …", "name cannot …")
_LEADING_FIELD = re.compile(r"^(?:Value error, )?([a-z_]+)\b")


def error_field(error: Mapping[str, Any]) -> str:
    """The form field an error belongs to: its location joined with dots
    (`equipment.computer`, `location.lon`; list positions and dict-key markers left out), or
    for a model-level error the field its message names first ("" when none)."""
    parts = [p for p in error["loc"] if isinstance(p, str) and not p.startswith("[")]
    if parts:
        return ".".join(parts)
    match = _LEADING_FIELD.match(str(error.get("msg", "")))
    return match.group(1) if match else ""


def problem_zh(
    error: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """One pydantic error in Chinese; `labels` name the fields a message refers to (a part
    that exceeds its whole), `overrides` say an error type differently for one form."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "part_exceeds_whole":
        whole = str(ctx["whole"])
        return f"不能大于“{(labels or {}).get(whole, whole)}”({ctx['total']})"
    if kind == "string_too_short":
        return "须填写" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字"
    if kind in (overrides or {}):
        return (overrides or {})[kind].format(**ctx)
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return next((zh for phrase, zh in VALUE_ERRORS_ZH if phrase in message), "填写有误")
    return PROBLEMS_ZH.get(kind, "填写有误").format(**ctx)


def field_errors(
    exc: ValidationError,
    *,
    labels: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Field → why (the first error of each field)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(error_field(error), problem_zh(error, labels=labels, overrides=overrides))
    return errors


def refused_fields(exc: DomainError) -> list[str]:
    """The fields a domain error's `details` name (`{"field": …}` or a list of them)."""
    details = exc.details
    items = details if isinstance(details, list) else [details]
    return [str(d["field"]) for d in items if isinstance(d, dict) and d.get("field")]


def summary(errors: Mapping[str, str], labels: Mapping[str, str]) -> list[str]:
    """The refusals for the top of the page, each with the label of its field."""
    return [f"{labels[f]}:{why}" if f in labels else why for f, why in errors.items()]
