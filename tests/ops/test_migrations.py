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
