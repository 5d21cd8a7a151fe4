"""What a standard is as data: its criteria and targets, validated against the measure
vocabulary. The seed standards (seeds/*.json) and every version a province admin publishes
pass through these models before they are stored."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.divisions.kinds import TOWNSHIP_KINDS
from service.standards.measures import (
    BOOLEAN_OPS,
    NUMBER_OPS,
    SET_OPS,
    MeasureType,
    Op,
    item_labels,
    measure_type,
)

CriterionKey = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,39}$")]
ChineseText = Annotated[
    str, StringConstraints(min_length=2, max_length=1000, strip_whitespace=True)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class Criterion(Strict):
    """One checklist item: the policy text, where it comes from, whom it binds, how it is
    evaluated, and what to say when it is not met (缺什么补什么)."""

    key: CriterionKey = Field(description="stable id, e.g. HN2004-AREA-TOWNSHIP")
    category: Annotated[str, StringConstraints(min_length=2, max_length=20)] = Field(
        description="组织机构 / 队伍建设 / 基础设施 / 管理制度 / 业务工作"
    )
    text: ChineseText = Field(description="the requirement as the document states it")
    source: Annotated[str, StringConstraints(min_length=2, max_length=100)] = Field(
        description="document and clause, e.g. 第二篇 三(五)1"
    )
    kinds: list[str] | None = Field(
        default=None, description="division kinds it applies to; null = every kind"
    )
    mandatory: bool
    measure: str
    op: Op
    value: Decimal | None = Field(default=None, description="threshold of a number test")
    values: list[str] | None = Field(default=None, description="item keys of a set test")
    missing: Annotated[str, StringConstraints(min_length=2, max_length=200)] = Field(
        description="what to add when it fails, in Chinese"
    )

    @model_validator(mode="after")
    def _evaluable(self) -> Criterion:
        kind = measure_type(self.measure)
        if kind is None:
            raise ValueError(f"measure {self.measure!r} is not in the vocabulary")
        if self.kinds is not None:
            bad = sorted(set(self.kinds) - set(TOWNSHIP_KINDS))
            if bad or not self.kinds:
                raise ValueError(f"kinds: unknown or empty {bad}")
        if kind == MeasureType.checks:
            raise ValueError(
                f"{self.measure} is yes/no per item: name one, e.g. {self.measure}.complaint_box"
            )
        if kind == MeasureType.number:
            if self.op not in NUMBER_OPS or self.value is None or self.values is not None:
                raise ValueError(f"{self.measure} is a number: use >=, >, <=, <, = with value")
        elif kind == MeasureType.boolean:
            if self.op not in BOOLEAN_OPS or self.value is not None or self.values is not None:
                raise ValueError(f"{self.measure} is a yes/no measure: use is_true or is_false")
        else:
            if self.op not in SET_OPS or not self.values or self.value is not None:
                raise ValueError(f"{self.measure} is a set: use has_all or has_any with values")
            unknown = sorted(set(self.values) - set(item_labels(self.measure)))
            if unknown:
                raise ValueError(f"{self.measure} has no items {unknown}")
        return self


class Target(Strict):
    due_on: date
    share: Decimal = Field(gt=0, le=1, description="share of required divisions accepted")
    aspirational: bool = Field(
        default=False, description="力争: a step hoped for, not binding (shown, not judged)"
    )


def check_curve(targets: list[Target]) -> None:
    """A target curve runs forward in time, one target per date, and never falls."""
    dates = [t.due_on for t in targets]
    if dates != sorted(set(dates)):
        raise ValueError("targets must be in date order, one per date")
    shares = [t.share for t in targets]
    if shares != sorted(shares):
        raise ValueError("target shares must not fall over time")


class StandardDefinition(Strict):
    """A whole standard as published: metadata, criteria, and the target curve it sets."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")]
    title: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    document: Annotated[str, StringConstraints(min_length=2, max_length=200)] = Field(
        description="the policy document (and its number) the criteria are taken from"
    )
    issued_on: date | None = None
    province: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
    targets: list[Target] = Field(default_factory=list)
    procedure: Literal["city", "province", "district"] = Field(
        default="city",
        description="who rates offices: the city (河南 第二篇 四), the province (山西 第三篇 四(一)),"
        " or the city after the district's own inspection (第一篇 五)",
    )
    civilised_title_years: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="years an office named 文明司法所 has to be accepted, or lose that title"
        " (河南 第二篇 四: 2)",
    )
    criteria: list[Criterion] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> StandardDefinition:
        keys = [c.key for c in self.criteria]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"criterion keys repeat: {dupes}")
        check_curve(self.targets)
        return self


SEED_CODES = ("henan-2004", "shanxi-2008", "henan-2009", "district-2005")


@cache
def seed(code: str) -> StandardDefinition:
    """A seed standard (seeds/*.json: the documents of docs/glossary.md encoded), validated."""
    text = resources.files("service.standards").joinpath("seeds", f"{code}.json").read_text("utf-8")
    return StandardDefinition.model_validate(json.loads(text))
