"""Migrations: the models and the migrations agree, and every migration reverses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import create_database
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, pool, text

from service.migrate import downgrade, upgrade
from service.models import Base


def fresh_database(pg_cluster, name: str) -> str:
    owner, _ = create_database(pg_cluster, name)
    return owner


def test_upgrade_downgrade_upgrade(pg_cluster):
    url = fresh_database(pg_cluster, "migrations_cycle")
    engine = create_engine(url, poolclass=pool.NullPool)
    upgrade(url)
    assert {"tenants", "divisions", "offices", "users"} <= set(inspect(engine).get_table_names())
    downgrade(url, "base")
    assert not {"tenants", "divisions", "offices", "users"} & set(inspect(engine).get_table_names())
    upgrade(url)
    assert "offices" in inspect(engine).get_table_names()
    engine.dispose()


def test_models_match_migrations(pg_cluster):
    url = fresh_database(pg_cluster, "migrations_compare")
    upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": alembic_helpers.include_object,
                "compare_type": True,
                "target_metadata": Base.metadata,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_marks_the_demo_tenants(pg_cluster):
    """0009: tenants whose boundaries the demo generated are demo tenants, others are not."""
    url = fresh_database(pg_cluster, "migrations_demo_flag")
    upgrade(url, "0008")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (code, name) VALUES ('41', '河南'), ('42', '湖北')"))
        conn.execute(
            text(
                "INSERT INTO divisions (tenant_id, code, name, kind, level, valid_from, geom,"
                " source) SELECT id, code, '省', 'province', 'province', '2023-01-01',"
                " ST_Multi(ST_MakeEnvelope(110, 31, 117, 37, 4326)), source FROM tenants"
                " JOIN (VALUES ('41', 'generated:henan-1a2b'), ('42', 'hubei.gpkg')) s(c, source)"
                " ON s.c = tenants.code"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        marked = conn.execute(text("SELECT code, demo FROM tenants ORDER BY code")).all()
    assert [tuple(r) for r in marked] == [("41", True), ("42", False)]
    downgrade(url, "0008")
    assert "demo" not in {c["name"] for c in inspect(engine).get_columns("tenants")}
    engine.dispose()


def test_upgrade_corrects_henan_2009_where_a_tenant_still_has_the_wrong_reading(pg_cluster):
    """0010: a tenant whose latest henan-2009 reads 以下 as `<` and 汽车、摩托车等 as both gets a
    corrected next version with the same effective date and every other criterion as it was;
    the old version stays; a tenant already right gets nothing."""
    url = fresh_database(pg_cluster, "migrations_henan_2009")
    upgrade(url, "0009")
    engine = create_engine(url, poolclass=pool.NullPool)
    criteria = (
        "INSERT INTO standard_criteria (tenant_id, standard_id, key, position, category, text,"
        " source, mandatory, measure, op, threshold, item_values, missing)"
        " SELECT s.tenant_id, s.id, c.key, c.pos, '业务工作', '…', '第五篇', true, c.measure,"
        " CASE WHEN t.code = '41' THEN c.old_op ELSE c.new_op END, c.threshold, c.items, '…'"
        " FROM standards s JOIN tenants t ON t.id = s.tenant_id, (VALUES"
        " ('HN2009-REOFFENDING', 1, 'reoffending_rate', '<', '<=', 3, NULL::text[]),"
        " ('HN2009-VEHICLES', 2, 'vehicles', 'has_all', 'has_any', NULL,"
        "  ARRAY['car', 'motorcycle']),"
        " ('HN2009-STAFF-3', 3, 'staff_count', '>=', '>=', 3, NULL))"
        " AS c(key, pos, measure, old_op, new_op, threshold, items)"
    )
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (code, name) VALUES ('41', '河南'), ('42', '湖北')"))
        conn.execute(
            text(
                "INSERT INTO standards (tenant_id, version, code, title, document, effective_from,"
                " published_by) SELECT id, 1, 'henan-2009', '河南2009', '…', '2010-01-01',"
                " 'system:seed' FROM tenants"
            )
        )
        conn.execute(text(criteria))
    upgrade(url)
    with engine.connect() as conn:
        versions = conn.execute(
            text(
                "SELECT t.code, s.version, s.effective_from::text, s.published_by,"
                " array_agg(c.key || ' ' || c.op ORDER BY c.position)"
                " FROM standards s JOIN tenants t ON t.id = s.tenant_id"
                " JOIN standard_criteria c ON c.tenant_id = s.tenant_id AND c.standard_id = s.id"
                " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2"
            )
        ).all()
    right = ["HN2009-REOFFENDING <=", "HN2009-VEHICLES has_any", "HN2009-STAFF-3 >="]
    assert [tuple(v) for v in versions] == [
        (
            "41",
            1,
            "2010-01-01",
            "system:seed",
            ["HN2009-REOFFENDING <", "HN2009-VEHICLES has_all", "HN2009-STAFF-3 >="],
        ),
        ("41", 2, "2010-01-01", "system:migration-0010", right),
        ("42", 1, "2010-01-01", "system:seed", right),
    ]
    engine.dispose()
