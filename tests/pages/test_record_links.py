"""Every measure a criterion may name leads from the checklist to where it is recorded: a
measure added to the vocabulary fails here until it has its page."""

from __future__ import annotations

from service.pages.record_labels import record_href
from service.standards import measures


def test_every_measure_has_its_page() -> None:
    names = [*measures.MEASURES]
    names += [f"{group}.{key}" for group, items in measures.COUNT_ITEMS.items() for key in items]
    names += [f"{group}.{key}" for group, items in measures.CHECK_ITEMS.items() for key in items]
    missing = [name for name in names if record_href(7, name) is None]
    assert missing == []
    assert record_href(7, "equipment.computer") == "/offices/7/facilities#f-equipment-computer"
    assert record_href(7, "area_m2") == "/offices/7/details#f-area_m2"
    assert record_href(7, "director_appointed") == "/offices/7/staff"
    assert record_href(7, "reports_on_time") == "/offices/7#work-records"
