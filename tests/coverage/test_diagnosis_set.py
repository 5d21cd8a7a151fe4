"""Precision and recall of the misplaced-office diagnoses on a labelled set (issue 15 #4).

The set (tests/misplaced_set.py) is loaded into a database of its own, under a nationwide
tenant; the misplaced report diagnoses it as it would any region. The figures, the set's
size and its construction go to test-artifacts/diagnosis.json, next to the figures of the
rule the registry used before: "a correction brings the point home" alone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import misplaced_set
import pytest
from factories import create_database
from sqlalchemy import text

from service.core.db import WHOLE_TENANT, Database, bind_context, make_engine
from service.core.migrate import upgrade
from service.coverage import service as coverage
from service.coverage.evidence import CONFIDENT
from service.coverage.query import CoverageFilter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OFFSETS = ("gcj02", "bd09")
LABELS = ("gcj02", "bd09", "swapped")


@pytest.fixture(scope="module")
def diagnosed(pg_cluster, tmp_path_factory) -> Iterator[tuple[int, list[dict[str, Any]]]]:  # type: ignore[no-untyped-def]
    """The set's size, and every misplaced office of it with its truth and diagnosis."""
    from service.tenants.service import create_tenant

    owner_url, app_url = create_database(pg_cluster, "misplaced_set")
    upgrade(owner_url)
    owner, app = make_engine(owner_url, pool_size=1), make_engine(app_url, pool_size=1)
    try:
        with Database(owner).session() as s:
            tenant = create_tenant(session=s, code="00", name="全国(诊断测试集)")
        with Database(app).session() as s:
            bind_context(s, tenant_id=tenant.id, region=WHOLE_TENANT, username="test-setup")
            planted = misplaced_set.load(s, tenant, tmp_path_factory.mktemp("set") / "set.geojson")
        with Database(app).session() as s:
            bind_context(s, tenant_id=tenant.id, region=WHOLE_TENANT, username="test")
            table = coverage.misplaced(s, CoverageFilter(tenant_id=tenant.id, region=""))
            truth = dict(
                s.execute(text("SELECT id, split_part(external_id, ':', 2) FROM offices")).all()
            )
        rows = [asdict(r) for r in table.rows]
        yield len(planted), [{**r, "truth": truth[r["office_id"]]} for r in rows]
    finally:
        owner.dispose()
        app.dispose()


def landing_alone(row: dict[str, Any]) -> str | None:
    """The rule before: the first correction (GCJ-02, BD-09, swap) that brings it home."""
    e = row.get("evidence")
    fits = {e["correction"], *e["also"]} if e else set()
    return next((c for c in LABELS if c in fits), None)


def figures(rows: list[dict[str, Any]], said: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for label in LABELS:
        named = [r for r in rows if said(r) == label]
        true = [r for r in rows if r["truth"] == label]
        hits = sum(1 for r in named if r["truth"] == label)
        out[label] = {
            "named": len(named),
            "correct": hits,
            "true": len(true),
            "precision": round(hits / len(named), 4) if named else None,
            "recall": round(sum(1 for r in true if said(r) == label) / len(true), 4),
        }
    return out


def test_diagnoses_name_offsets_with_precision_and_recall(diagnosed):
    offices, rows = diagnosed
    truths = Counter(r["truth"] for r in rows)
    assert truths["wgs84"] == 0  # only misplaced offices are reported
    before = figures(rows, landing_alone)
    after = figures(rows, lambda r: r["diagnosis"])
    one_off = [
        r
        for r in rows
        if r["truth"] in OFFSETS and misplaced_set.SCENARIO[r["registered_code"][:6]] == "mixed"
    ]
    report = {
        "set": {
            "construction": misplaced_set.__doc__,
            "counties": len(misplaced_set.COUNTIES),
            "offices": offices,
            "misplaced": len(rows),
            "misplaced_by_truth": dict(sorted(truths.items())),
            "seed": misplaced_set.SEED,
        },
        "measured_by": "scripts/test -q tests/coverage/test_diagnosis_set.py",
        "confidence_to_name_a_cause": CONFIDENT,
        "before_landing_alone": before,
        "after_with_evidence": after,
        "after_labels": dict(sorted(Counter(str(r["diagnosis"]) for r in rows).items())),
        "genuine_named_as_offset": sum(
            1 for r in rows if r["truth"] == "genuine" and r["diagnosis"] in LABELS
        ),
        "one_off_offsets": {
            "misplaced": len(one_off),
            "named": sum(1 for r in one_off if r["diagnosis"] == r["truth"]),
        },
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "diagnosis.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    assert truths["genuine"] >= 200 and truths["gcj02"] >= 80 and truths["bd09"] >= 80
    for label in OFFSETS:
        assert after[label]["precision"] >= 0.95, report
        assert after[label]["recall"] >= 0.9, report
    assert after["swapped"]["precision"] == 1.0 and after["swapped"]["recall"] == 1.0
    # the set tells the rules apart: a landing alone over-claims on it
    assert before["gcj02"]["precision"] < 0.95 and before["bd09"]["precision"] < 0.95
    # a cause named is a cause with its confidence, a shift one with a corroborating batch;
    # a weak one is "unknown", never a label
    for r in rows:
        e = r["evidence"]
        if r["diagnosis"] in LABELS:
            assert r["diagnosis_confidence"] >= CONFIDENT
        if r["diagnosis"] in OFFSETS:
            assert e["batch"]["explained"] >= 2
        if r["diagnosis"] == "unknown":
            assert e["confidence"] < CONFIDENT or e["batch"]["explained"] < 2
