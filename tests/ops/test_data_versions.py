"""Data versions (migration 0021, service/core/versions.py): a write of divisions or offices
moves its tenant's version of that table in the same transaction, and nothing else's; a
rolled-back write leaves it as it was; a writer bound to no tenant moves every tenant's;
only the triggers write the table."""

from __future__ import annotations

import pytest
from conftest import bind_raw
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.core.versions import VersionedTable, data_version

NEW_OFFICE = (
    "INSERT INTO offices (tenant_id, name, division_id, division_code, geom)"
    " SELECT tenant_id, 'x', id, code, ST_PointOnSurface(geom) FROM divisions"
    " WHERE level = 'township' AND valid_to IS NULL LIMIT 1"
)


def versions(conn, tenant: int) -> dict[VersionedTable, int]:  # type: ignore[no-untyped-def]
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        return {
            name: data_version(session, tenant_id=tenant, names=[name])
            for name in ("divisions", "offices")
        }


def test_a_write_moves_its_tenants_version_of_its_table(engine, base_data) -> None:  # type: ignore[no-untyped-def]
    a, b = base_data.henan_id, base_data.shanxi_id
    with engine.connect() as other, engine.connect() as conn:
        other.begin()
        bind_raw(other, b)
        theirs = versions(other, b)
        other.rollback()
        conn.begin()
        bind_raw(conn, a)
        before = versions(conn, a)
        conn.execute(text(NEW_OFFICE))
        after = versions(conn, a)
        assert after["offices"] > before["offices"] and after["divisions"] == before["divisions"]
        # both tables at once: the sum moves
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            both = data_version(session, tenant_id=a, names=["divisions", "offices"])
        assert both == after["divisions"] + after["offices"]
        savepoint = conn.begin_nested()
        conn.execute(text("UPDATE divisions SET name = name WHERE code = '41'"))
        assert versions(conn, a)["divisions"] > after["divisions"]
        savepoint.rollback()
        assert versions(conn, a) == after  # rolled back with the write
        conn.rollback()
        other.begin()
        bind_raw(other, b)
        assert versions(other, b) == theirs  # another tenant's untouched
        other.rollback()


def test_a_writer_bound_to_no_tenant_moves_every_tenants_version(owner_engine, base_data) -> None:  # type: ignore[no-untyped-def]
    tenants = (base_data.henan_id, base_data.shanxi_id)
    with owner_engine.connect() as conn:  # the owner: a migration, row-level security aside
        conn.begin()
        before = {t: versions(conn, t)["divisions"] for t in tenants}
        conn.execute(text("UPDATE divisions SET name = name WHERE code = '41'"))
        assert all(versions(conn, t)["divisions"] > before[t] for t in tenants)
        conn.rollback()


def test_only_the_triggers_write_data_versions(engine, base_data) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        conn.begin()
        bind_raw(conn, base_data.henan_id)
        for sql in (
            "UPDATE data_versions SET version = version + 1",
            "INSERT INTO data_versions (tenant_id, name, slot, version) VALUES (:t, 'x', 0, 1)",
        ):
            with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
                conn.execute(text(sql), {"t": base_data.henan_id})
        conn.rollback()
