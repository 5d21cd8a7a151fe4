"""Migrations: the models and the migrations agree, and every migration reverses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import create_database
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, create_engine, inspect, pool, text

from service.core.cluster import LocalCluster
from service.core.migrate import downgrade, upgrade
from service.models import Base

TABLES = {"tenants", "divisions", "offices", "users"}
HENAN_AND_HUBEI = (("41", "河南"), ("42", "湖北"))


@contextmanager
def migrated_to(
    pg_cluster: LocalCluster,
    name: str,
    revision: str,
    tenants: tuple[tuple[str, str], ...] = (),
    planted: tuple[str, ...] = (),
) -> Iterator[tuple[str, Engine]]:
    """A fresh database `name` upgraded to `revision`, holding `tenants` (code, name) and the
    rows the `planted` statements then insert; yields its owner's URL and an engine, disposed
    afterwards."""
    url, _ = create_database(pg_cluster, name)
    upgrade(url, revision)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for code, tenant_name in tenants:
                conn.execute(
                    text("INSERT INTO tenants (code, name) VALUES (:c, :n)"),
                    {"c": code, "n": tenant_name},
                )
            for statement in planted:
                conn.execute(text(statement))
        yield url, engine
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(pg_cluster):
    with migrated_to(pg_cluster, "migrations_cycle", "head") as (url, engine):
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade(url, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(url)
        assert "offices" in inspect(engine).get_table_names()


def test_models_match_migrations(pg_cluster):
    with (
        migrated_to(pg_cluster, "migrations_compare", "head") as (_, engine),
        engine.connect() as conn,
    ):
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": alembic_helpers.include_object,
                "compare_type": True,
                "target_metadata": Base.metadata,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_marks_the_demo_tenants(pg_cluster):
    """0009: tenants whose boundaries the demo generated are demo tenants, others are not."""
    provinces = (
        "INSERT INTO divisions (tenant_id, code, name, kind, level, valid_from, geom, source)"
        " SELECT id, code, '省', 'province', 'province', '2023-01-01',"
        " ST_Multi(ST_MakeEnvelope(110, 31, 117, 37, 4326)), source FROM tenants"
        " JOIN (VALUES ('41', 'generated:henan-1a2b'), ('42', 'hubei.gpkg'))"
        " s(c, source) ON s.c = tenants.code"
    )
    with migrated_to(pg_cluster, "migrations_demo_flag", "0008", HENAN_AND_HUBEI, (provinces,)) as (
        url,
        engine,
    ):
        upgrade(url)
        with engine.connect() as conn:
            marked = conn.execute(text("SELECT code, demo FROM tenants ORDER BY code")).all()
        assert [tuple(r) for r in marked] == [("41", True), ("42", False)]
        downgrade(url, "0008")
        assert "demo" not in {c["name"] for c in inspect(engine).get_columns("tenants")}


def test_upgrade_publishes_corrected_seed_standards(pg_cluster):
    """0010: a tenant whose latest henan-2009 reads 以下 as `<` and 汽车、摩托车等 as both, and
    whose henan-2004 asks 100 % 大专 with no 3 years' grace, gets corrected next versions with
    the same effective dates and every other criterion as it was, plus the naming criterion
    the version lacked; the old versions stay; a version already right gets nothing."""
    standards = (
        "INSERT INTO standards (tenant_id, version, code, title, document, effective_from,"
        " published_by) SELECT t.id, s.version, s.code, s.code, '…', s.effective_from,"
        " 'system:seed' FROM tenants t, (VALUES (1, 'henan-2004', DATE '2004-07-22'),"
        " (2, 'henan-2009', DATE '2010-01-01')) AS s(version, code, effective_from)"
    )
    criteria = (
        "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category, text,"
        " source, mandatory, measure, op, threshold, item_values, missing)"
        " SELECT s.tenant_id, s.id, c.key, c.pos, '业务工作', '…', '…', c.mandatory,"
        " CASE WHEN t.code = '41' THEN c.old_measure ELSE c.new_measure END,"
        " CASE WHEN t.code = '41' THEN c.old_op ELSE c.new_op END,"
        " CASE WHEN t.code = '41' THEN c.old_value ELSE c.new_value END, c.items, '…'"
        " FROM standards s JOIN tenants t ON t.id = s.tenant_id JOIN (VALUES"
        " ('henan-2009', 'HN2009-REOFFENDING', 1, true, 'reoffending_rate', '<', 3,"
        "  'reoffending_rate', '<=', 3, NULL::text[]),"
        " ('henan-2009', 'HN2009-VEHICLES', 2, false, 'vehicles', 'has_all', NULL,"
        "  'vehicles', 'has_any', NULL, ARRAY['car', 'motorcycle']),"
        " ('henan-2009', 'HN2009-STAFF-3', 3, true, 'staff_count', '>=', 3,"
        "  'staff_count', '>=', 3, NULL),"
        " ('henan-2004', 'HN2004-EDU-COLLEGE', 1, true, 'college_staff_share', '>=', 100,"
        "  'staff_without_college_after_3_years', '<=', 0, NULL))"
        " AS c(code, key, pos, mandatory, old_measure, old_op, old_value, new_measure, new_op,"
        "      new_value, items) ON c.code = s.code"
    )
    with migrated_to(
        pg_cluster, "migrations_seed_corrections", "0009", HENAN_AND_HUBEI, (standards, criteria)
    ) as (url, engine):
        upgrade(url, "0010")
        with engine.connect() as conn:
            versions = conn.execute(
                text(
                    "SELECT t.code, s.version, s.code, s.effective_from::text, s.published_by,"
                    " array_agg(concat_ws(' ', c.key, c.measure, c.op, c.threshold,"
                    " c.mandatory::text) ORDER BY c.position)"
                    " FROM standards s JOIN tenants t ON t.id = s.tenant_id"
                    " JOIN standard_criteria c"
                    " ON c.tenant_id = s.tenant_id AND c.standard_id = s.id"
                    " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2"
                )
            ).all()
    edu_wrong = ["HN2004-EDU-COLLEGE college_staff_share >= 100 true"]
    edu_right = ["HN2004-EDU-COLLEGE staff_without_college_after_3_years <= 0 true"]
    wrong_2009 = [
        "HN2009-REOFFENDING reoffending_rate < 3 true",
        "HN2009-VEHICLES vehicles has_all false",
        "HN2009-STAFF-3 staff_count >= 3 true",
    ]
    named = ["HN2009-NAME name_in_current_form is_true true"]  # added: 第五篇 第1条
    right_2009 = [
        "HN2009-REOFFENDING reoffending_rate <= 3 true",
        "HN2009-VEHICLES vehicles has_any false",
        "HN2009-STAFF-3 staff_count >= 3 true",
    ]
    seed, fixed = "system:seed", "system:migration-0010"
    assert [tuple(v) for v in versions] == [
        ("41", 1, "henan-2004", "2004-07-22", seed, edu_wrong),
        ("41", 2, "henan-2009", "2010-01-01", seed, wrong_2009),
        ("41", 3, "henan-2004", "2004-07-22", fixed, edu_right),
        ("41", 4, "henan-2009", "2010-01-01", fixed, named + right_2009),
        ("42", 1, "henan-2004", "2004-07-22", seed, edu_right),
        ("42", 2, "henan-2009", "2010-01-01", seed, right_2009),
        ("42", 3, "henan-2009", "2010-01-01", fixed, named + right_2009),
    ]


def test_upgrade_adds_the_missing_requirements_to_published_standards(pg_cluster):
    """0015: the latest version of each seed standard a tenant has gains the requirements it
    lacked (issue 16, "missing") in a new version — same effective date, same procedure, every
    criterion before copied, the new ones after them; 0016 gives the district's standard its
    procedure; 0018 gives 河南 2004 its 文明司法所 rule."""
    standards = (
        "INSERT INTO standards (tenant_id, version, code, title, document, effective_from,"
        " published_by, procedure) SELECT t.id, s.version, s.code, s.code, '…',"
        " s.effective_from, 'system:seed', 'city' FROM tenants t, (VALUES"
        " (1, 'henan-2004', DATE '2004-07-22'), (2, 'district-2005', DATE '2005-06-01'))"
        " AS s(version, code, effective_from)"
    )
    criteria = (
        "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category,"
        " text, source, mandatory, measure, op, threshold, missing)"
        " SELECT s.tenant_id, s.id, s.code || '-AREA', 1, '基础设施', '…', '…', true,"
        " 'area_m2', '>=', 90, '…' FROM standards s"
    )
    with migrated_to(
        pg_cluster,
        "migrations_missing_requirements",
        "0014",
        (("41", "河南"),),
        (standards, criteria),
    ) as (url, engine):
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.version, s.code, s.effective_from::text, s.procedure,"
                    " s.civilised_title_years, array_agg(c.key ORDER BY c.position)"
                    " FROM standards s JOIN standard_criteria c"
                    " ON c.tenant_id = s.tenant_id AND c.standard_id = s.id"
                    " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1"
                )
            ).all()
    assert [tuple(r) for r in rows] == [
        (1, "henan-2004", "2004-07-22", "city", 2, ["henan-2004-AREA"]),
        (2, "district-2005", "2005-06-01", "district", None, ["district-2005-AREA"]),
        (
            3,
            "district-2005",
            "2005-06-01",
            "district",
            None,
            ["district-2005-AREA", "QU2005-SELF-STUDY", "QU2005-110", "QU2005-NETWORK-OFFICE"],
        ),
        (
            4,
            "henan-2004",
            "2004-07-22",
            "city",
            2,
            [
                "henan-2004-AREA",
                "HN2004-STUDY-MEETING",
                "HN2004-COMPLAINT-BOX",
                "HN2004-PUBLICITY-ROTATED",
            ],
        ),
    ]
