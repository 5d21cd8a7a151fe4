"""The measures a criterion may name (measures.py) and the SQL that measures them (facts.py)
are one vocabulary: a measure without SQL could be published and never evaluated, SQL without
a measure is dead. Item keys are bound as parameters, and only identifiers are accepted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service.standards.facts import FACTS, shape_of
from service.standards.measures import MEASURES


def test_every_measure_has_its_sql_and_nothing_else() -> None:
    assert set(FACTS) == set(MEASURES)


@pytest.mark.parametrize("item", ["computer'; DROP TABLE offices; --", "电脑", "a b"])
def test_an_item_key_that_is_not_an_identifier_is_refused(item: str) -> None:
    criterion = SimpleNamespace(measure=f"equipment.{item}", op=">=", kinds=None)
    with pytest.raises(ValueError, match="not an item key"):
        shape_of([criterion])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "measure", ["id; DROP TABLE offices", "staff_count)--", "nothing.computer"]
)
def test_a_measure_outside_the_vocabulary_is_refused(measure: str) -> None:
    criterion = SimpleNamespace(measure=measure, op=">=", kinds=None)
    with pytest.raises(ValueError, match="not a measure"):
        shape_of([criterion])  # type: ignore[list-item]
