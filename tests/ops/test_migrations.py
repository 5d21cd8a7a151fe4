"""Migrations: the models and the migrations agree, and every migration reverses."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, pool

from service.cluster import OWNER_ROLE
from service.migrate import downgrade, upgrade
from service.models import Base


def fresh_database(pg_cluster, name: str) -> str:
    admin = pg_cluster.url("postgres", "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {name} OWNER "{OWNER_ROLE}"')
    superuser = pg_cluster.url("postgres", name).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE EXTENSION btree_gist")
    return pg_cluster.url(OWNER_ROLE, name)


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
