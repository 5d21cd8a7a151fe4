"""Correcting a wrong boundary: the current version is replaced in place (no new version),
audited with before/after, who and why, and the offices it touches are relocated."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
import shapely
from division_imports import GONGYI, gongyi_features, import_henan, versions_of
from factories import feature_collection, township_cells, write_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.core.errors import ImportRejected, Invalid

ZHANJIE = "410181001"
REASON = "边界数字化错误：按2024年勘界成果更正"


def history(session: Session, code: str) -> list[tuple]:
    return versions_of(
        session, code, "id, name, valid_from, valid_to, round(ST_Area(geom)::numeric, 9)"
    )


def correction_events(session: Session) -> list[tuple]:
    return session.execute(
        text(
            "SELECT entity_id, region_code, username, before, after FROM audit_events"
            " WHERE entity_type = 'divisions' AND action = 'correct'"
            " AND entity_id ~ '^[0-9]+$' ORDER BY id"  # a division's own (not the summary)
        )
    ).all()


@pytest.fixture
def wrong_today(session: Session, tmp_path: Path) -> tuple[Path, shapely.Point, int]:
    """站街镇 imported today with a hole where its office stands; the office is registered to
    it and located nowhere. Returns the corrected file, the office's point and its id."""
    right = township_cells(GONGYI, 3)[0]
    spot = shapely.point_on_surface(right)
    wrong = shapely.difference(right, spot.buffer(0.002))
    import_henan(session, write_geojson(tmp_path / "wrong.geojson", gongyi_features(wrong)))
    office_id = session.scalar(
        text(
            "INSERT INTO offices (tenant_id, name, division_id, division_code, geom)"
            " SELECT tenant_id, '巩义市司法局站街司法所', id, code,"
            " ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
            " FROM divisions WHERE code = :c AND valid_to IS NULL RETURNING id"
        ),
        {"c": ZHANJIE, "x": spot.x, "y": spot.y},
    )
    return write_geojson(tmp_path / "right.geojson", gongyi_features()), spot, int(office_id)


def test_a_boundary_imported_today_is_corrected_today(session: Session, wrong_today):
    path, _spot, office_id = wrong_today
    (before,) = history(session, ZHANJIE)
    with pytest.raises(ImportRejected, match="close a version before it opened") as refused:
        import_henan(session, path)
    assert "correction" in refused.value.details["problems"][0]["problem"]

    report = import_henan(session, path, correction=True, reason=REASON)
    assert (report.created, report.changed, report.corrected, report.unchanged) == (0, 0, 1, 3)
    assert (report.offices_relinked, report.offices_relocated) == (0, 1)
    assert report.correction is True and report.valid_from is None
    (after,) = history(session, ZHANJIE)
    assert (after.id, after.name, after.valid_from, after.valid_to) == (
        before.id,
        before.name,
        date.today(),
        None,
    )
    assert after[4] > before[4]  # the hole is filled
    located = session.execute(
        text("SELECT located_code, division_code FROM offices WHERE id = :i"), {"i": office_id}
    ).one()
    assert tuple(located) == (ZHANJIE, ZHANJIE)

    ((entity, region, username, was, now),) = correction_events(session)
    assert (entity, region, username) == (ZHANJIE, ZHANJIE, "test")
    assert now["reason"] == REASON and "reason" not in was
    assert was["valid_from"] == now["valid_from"] == date.today().isoformat()
    assert was["name"] == now["name"] == "站街镇"
    assert was["area_km2"] < now["area_km2"] and was["geom_md5"] != now["geom_md5"]
    summary = session.execute(
        text(
            "SELECT after FROM audit_events WHERE entity_type = 'divisions'"
            " AND action = 'correct' AND entity_id = :s"
        ),
        {"s": path.name},
    ).scalar_one()
    assert (summary["corrected"], summary["unchanged"], summary["reason"]) == (1, 3, REASON)


def test_a_correction_dry_run_reports_the_same_and_changes_nothing(session: Session, wrong_today):
    path, _spot, office_id = wrong_today
    (before,) = history(session, ZHANJIE)
    dry = import_henan(session, path, correction=True, reason=REASON, dry_run=True)
    assert history(session, ZHANJIE) == [before]
    assert correction_events(session) == []
    located = "SELECT located_code FROM offices WHERE id = :i"
    assert session.execute(text(located), {"i": office_id}).scalar_one() is None
    real = import_henan(session, path, correction=True, reason=REASON)
    assert (dry.corrected, dry.offices_relocated) == (1, 1)
    skip = ("dry_run", "seconds")
    assert {k: v for k, v in asdict(dry).items() if k not in skip} == {
        k: v for k, v in asdict(real).items() if k not in skip
    }


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"correction": True}, "reason"),
        ({"correction": True, "reason": "  "}, "reason"),
        ({"correction": True, "reason": "x" * 501}, "reason"),
        ({"correction": True, "reason": REASON, "valid_from": date(2025, 1, 1)}, "valid_from"),
    ],
)
def test_a_correction_says_why_and_keeps_its_date(session: Session, wrong_today, kw, field):
    path, _spot, _office = wrong_today
    (before,) = history(session, ZHANJIE)
    with pytest.raises(Invalid) as err:
        import_henan(session, path, **kw)
    assert [d["field"] for d in err.value.details] == [field]
    assert history(session, ZHANJIE) == [before]


def test_a_correction_creates_no_code(session: Session, tmp_path: Path):
    """Only current versions can be corrected: a new code refuses the whole file."""
    feats = gongyi_features()
    path = write_geojson(tmp_path / "new.geojson", feats)
    count = session.execute(text("SELECT count(*) FROM divisions")).scalar_one()
    with pytest.raises(ImportRejected, match="4 of 4 features have no current version") as err:
        import_henan(session, path, correction=True, reason=REASON)
    assert [(p["index"], p["code"]) for p in err.value.details["problems"]] == [
        (0, GONGYI),
        (1, ZHANJIE),
        (2, "410181002"),
        (3, "410181003"),
    ]
    assert session.execute(text("SELECT count(*) FROM divisions")).scalar_one() == count


def test_correction_over_http(client, auth, session, tmp_path: Path):
    right = township_cells(GONGYI, 3)[0]
    wrong = shapely.affinity.scale(right, 0.9, 0.9)

    def upload(features, **form):  # type: ignore[no-untyped-def]
        content = json.dumps(feature_collection(features), ensure_ascii=False).encode()
        return client.post(
            "/api/v1/divisions/import",
            files={"file": ("gongyi.geojson", content, "application/geo+json")},
            data=form,
            headers=auth("henan_admin"),
        )

    assert upload(gongyi_features(wrong)).status_code == 200
    r = upload(gongyi_features(), correction="true")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "reason"
    r = upload(gongyi_features(), correction="true", reason=REASON)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["corrected"], body["unchanged"], body["correction"]) == (1, 3, True)
    events = client.get(
        "/api/v1/audit",
        params={"entity_type": "divisions", "action": "correct"},
        headers=auth("henan_admin"),
    ).json()["items"]
    assert [e["entity_id"] for e in events] == ["upload:gongyi.geojson by henan_admin", ZHANJIE]
    assert {e["username"] for e in events} == {"henan_admin"}
    assert events[1]["after"]["reason"] == REASON
