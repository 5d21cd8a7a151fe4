"""Migrations: the models and the migrations agree, and every migration reverses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import create_database
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, pool

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
