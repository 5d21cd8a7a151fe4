"""Data versions (migrations 0021 and 0026, service/core/versions.py): a write of divisions or
offices moves its tenant's version of that table in the same transaction, and nothing else's;
a rolled-back write leaves it as it was; a writer bound to no tenant moves every tenant's;
only the triggers write the table. Offices and their records move the version of the cities
the office is registered and lies in, and leave another city's as it was."""

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


def office_in(conn, code: str, located: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """A new office of township `code` (lying in `located`, if given), by plain SQL."""
    return int(
        conn.execute(
            text(
                "INSERT INTO offices (tenant_id, name, division_id, division_code, located_code,"
                " geom) SELECT tenant_id, 'x', id, code, :located, ST_PointOnSurface(geom)"
                " FROM divisions WHERE level = 'township' AND valid_to IS NULL"
                " AND code LIKE :code || '%' ORDER BY code LIMIT 1 RETURNING id"
            ),
            {"code": code, "located": located},
        ).scalar_one()
    )


def by_city(conn, tenant: int, names: list[VersionedTable]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The version of `names` as a reader of 郑州 (4101), of 新郑 (a county in it), of 开封
    (4102) and of the whole province sees it."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        return {
            region: data_version(session, tenant_id=tenant, names=names, region=region)
            for region in ("4101", "410184", "4102", "41")
        }


def test_an_office_write_moves_its_cities_versions_only(engine, base_data) -> None:  # type: ignore[no-untyped-def]
    henan = base_data.henan_id
    with engine.connect() as conn:
        conn.begin()
        bind_raw(conn, henan)
        before = by_city(conn, henan, ["offices"])
        office = office_in(conn, "410184")
        after = by_city(conn, henan, ["offices"])
        assert after["4101"] > before["4101"] and after["410184"] == after["4101"]
        assert after["41"] > before["41"]
        assert after["4102"] == before["4102"]  # 开封's maps stay kept
        # an office of 郑州 that lies in 开封 (misplaced) is on both cities' maps
        conn.execute(
            text(
                "UPDATE offices SET located_code = (SELECT min(code) FROM divisions"
                " WHERE level = 'township' AND code LIKE '410222%') WHERE id = :o"
            ),
            {"o": office},
        )
        moved = by_city(conn, henan, ["offices"])
        assert moved["4101"] > after["4101"] and moved["4102"] > after["4102"]
        # its records move its cities' versions of their own table
        records = by_city(conn, henan, ["office_facilities"])
        conn.execute(
            text("INSERT INTO office_facilities (tenant_id, office_id) VALUES (:t, :o)"),
            {"t": henan, "o": office},
        )
        now = by_city(conn, henan, ["office_facilities"])
        assert now["4101"] > records["4101"] and now["4102"] > records["4102"]
        # a statement that changes no row moves nothing, and a division moves every city
        conn.execute(text("UPDATE offices SET name = name WHERE false"))
        assert by_city(conn, henan, ["offices"]) == moved
        divisions = by_city(conn, henan, ["divisions"])
        conn.execute(text("UPDATE divisions SET name = name WHERE code = '410222'"))
        assert all(v > divisions[k] for k, v in by_city(conn, henan, ["divisions"]).items())
        conn.rollback()


def test_a_record_whose_office_is_gone_moves_the_whole_tenant(owner_engine, base_data) -> None:  # type: ignore[no-untyped-def]
    henan = base_data.henan_id
    with owner_engine.connect() as conn:  # (the owner may delete an office outright)
        conn.begin()
        bind_raw(conn, henan)
        office = office_in(conn, "410184")
        conn.execute(
            text("INSERT INTO office_facilities (tenant_id, office_id) VALUES (:t, :o)"),
            {"t": henan, "o": office},
        )
        before = by_city(conn, henan, ["office_facilities"])
        conn.execute(
            text(
                "WITH gone AS (DELETE FROM offices WHERE id = :o)"
                " DELETE FROM office_facilities WHERE office_id = :o"
            ),
            {"o": office},
        )
        after = by_city(conn, henan, ["office_facilities"])
        assert all(after[k] > before[k] for k in before)
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
