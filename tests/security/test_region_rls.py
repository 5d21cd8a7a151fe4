"""The database alone holds the region line inside a tenant: connected as the service's role
and bound to one county, another county's offices and everything recorded about them are
invisible and unwritable, whatever SQL a path runs. An office standing in the county but
registered elsewhere may be read (the coverage reports count it where it stands), never
changed. Unbound, no office is visible."""

from __future__ import annotations

import pytest
from conftest import bind_raw
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

OWN, OTHER = "410184101", "410122101"  # 新郑市 (the bound county) and 中牟县


@pytest.fixture
def world(app_conn, base_data):  # type: ignore[no-untyped-def]
    """An office in each county with a record of every kind, written as the whole tenant;
    and an office of 中牟 whose point stands in 新郑 (misplaced)."""
    bind_raw(app_conn, base_data.henan_id)
    app_conn.execute(text("SELECT set_config('app.role', 'county_bureau', true)"))
    ids = {}
    for label, registered, standing in (
        ("own", OWN, OWN),
        ("other", OTHER, OTHER),
        ("astray", OTHER, OWN),
    ):
        office = app_conn.scalar(
            text(
                "INSERT INTO offices (tenant_id, name, division_id, division_code,"
                " located_division_id, located_code, geom)"
                " SELECT :t, :name, r.id, r.code, s.id, s.code, ST_PointOnSurface(s.geom)"
                " FROM divisions r, divisions s WHERE r.tenant_id = :t AND s.tenant_id = :t"
                " AND r.code = :r AND s.code = :s AND r.valid_to IS NULL AND s.valid_to IS NULL"
                " RETURNING id"
            ),
            {"t": base_data.henan_id, "name": label, "r": registered, "s": standing},
        )
        staff = app_conn.scalar(
            text(
                "INSERT INTO office_staff (tenant_id, office_id, position, formal, civil_servant)"
                " VALUES (:t, :o, 'staff', true, true) RETURNING id"
            ),
            {"t": base_data.henan_id, "o": office},
        )
        for sql in (
            "INSERT INTO office_facilities (tenant_id, office_id) VALUES (:t, :o)",
            "INSERT INTO office_work_records (tenant_id, office_id, year) VALUES (:t, :o, 2024)",
            "INSERT INTO office_staff_personal (tenant_id, staff_id, name) VALUES (:t, :s, 'x')",
            "INSERT INTO evidence_files (tenant_id, office_id, sha256, filename, content_type,"
            " size_bytes, uploaded_by) VALUES (:t, :o, repeat('a', 64), 'x.pdf',"
            " 'application/pdf', 1, 'x')",
            "INSERT INTO acceptance_events (tenant_id, office_id, action, from_state, to_state,"
            " effective_on, username) VALUES (:t, :o, 'self_check', 'not_applied',"
            " 'self_checked', '2024-01-01', 'x')",
        ):
            app_conn.execute(text(sql), {"t": base_data.henan_id, "o": office, "s": staff})
        ids[label] = office
    return ids


RECORDS = {
    "office_facilities": "office_id",
    "office_work_records": "office_id",
    "office_staff": "office_id",
    "evidence_files": "office_id",
    "acceptance_events": "office_id",
    "office_staff_personal": "(SELECT office_id FROM office_staff s WHERE s.id = staff_id)",
}


def visible_offices(conn) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        conn.scalars(text("SELECT name FROM offices WHERE name IN ('own','other','astray')"))
    )


def test_a_county_sees_its_offices_and_those_standing_in_it(app_conn, base_data, world):
    bind_raw(app_conn, base_data.henan_id, "410184")
    assert visible_offices(app_conn) == {"own", "astray"}
    bind_raw(app_conn, base_data.henan_id, "410122")
    assert visible_offices(app_conn) == {"other", "astray"}
    bind_raw(app_conn, base_data.henan_id, "4101")
    assert visible_offices(app_conn) == {"own", "other", "astray"}
    bind_raw(app_conn, base_data.henan_id, "4102")
    assert visible_offices(app_conn) == set()


@pytest.mark.parametrize("region", ["", None])
def test_unbound_no_office_is_visible(app_conn, base_data, world, region):
    if region is None:
        app_conn.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(base_data.henan_id)}
        )
        app_conn.execute(text("RESET app.region"))
    else:
        bind_raw(app_conn, base_data.henan_id, region)
    assert visible_offices(app_conn) == set()
    for table in RECORDS:
        assert app_conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


@pytest.mark.parametrize("table", sorted(RECORDS))
def test_records_only_of_offices_registered_in_the_region(app_conn, base_data, world, table):
    bind_raw(app_conn, base_data.henan_id, "410184")
    app_conn.execute(text("SELECT set_config('app.role', 'county_bureau', true)"))
    offices = set(app_conn.scalars(text(f"SELECT {RECORDS[table]} FROM {table}")))
    assert offices == {world["own"]}, table  # not "astray": registered in 中牟


def test_offices_outside_cannot_be_changed_or_created(app_conn, base_data, world):
    bind_raw(app_conn, base_data.henan_id, "410184")
    for label in ("other", "astray"):
        changed = app_conn.execute(
            text("UPDATE offices SET name = 'taken' WHERE id = :o"), {"o": world[label]}
        )
        assert changed.rowcount == 0, label
    with pytest.raises(DBAPIError, match="row-level security"), app_conn.begin_nested():
        app_conn.execute(  # moving one's own office into another county
            text(
                "UPDATE offices SET division_code = d.code, division_id = d.id FROM divisions d"
                " WHERE d.code = :c AND d.valid_to IS NULL AND offices.id = :o"
            ),
            {"c": OTHER, "o": world["own"]},
        )
    with pytest.raises(DBAPIError, match="row-level security"), app_conn.begin_nested():
        app_conn.execute(
            text(
                "INSERT INTO offices (tenant_id, name, division_id, division_code, geom)"
                " SELECT :t, 'x', id, code, ST_PointOnSurface(geom) FROM divisions"
                " WHERE code = :c AND valid_to IS NULL"
            ),
            {"t": base_data.henan_id, "c": OTHER},
        )
    with pytest.raises(DBAPIError, match="row-level security"), app_conn.begin_nested():
        app_conn.execute(
            text(
                "INSERT INTO office_staff (tenant_id, office_id, position, formal, civil_servant)"
                " VALUES (:t, :o, 'staff', true, true)"
            ),
            {"t": base_data.henan_id, "o": world["astray"]},
        )


def test_audit_events_only_about_the_region(app_conn, base_data, world):
    bind_raw(app_conn, base_data.henan_id, "410184")
    regions = set(
        app_conn.scalars(text("SELECT DISTINCT coalesce(region_code, '') FROM audit_events"))
    )
    assert regions and all(r.startswith("410184") for r in regions), regions


def test_staff_numbers_follow_the_staff_list_whatever_writes_them(app_conn, base_data, world):
    bind_raw(app_conn, base_data.henan_id)
    with pytest.raises(DBAPIError, match="staff list"), app_conn.begin_nested():
        app_conn.execute(
            text("UPDATE offices SET staff_total = 9 WHERE id = :o"), {"o": world["own"]}
        )
    # the list's own numbers (1 person, formal, civil servant) are accepted
    app_conn.execute(
        text(
            "UPDATE offices SET staff_total = 1, staff_formal = 1, staff_civil_servants = 1"
            " WHERE id = :o"
        ),
        {"o": world["own"]},
    )


def test_a_work_record_summary_is_its_own_offices_file(app_conn, base_data, world):
    """The database, not only the service, refuses an annual summary that is another office's
    evidence file (the same tenant and region: the key names the office)."""
    bind_raw(app_conn, base_data.henan_id)
    files = dict(
        app_conn.execute(
            text("SELECT office_id, max(id) FROM evidence_files GROUP BY office_id")
        ).all()
    )
    own, other = world["own"], world["other"]
    sql = (
        "INSERT INTO office_work_records (tenant_id, office_id, year, summary_evidence_id)"
        " VALUES (:t, :o, :y, :f)"
    )
    app_conn.execute(text(sql), {"t": base_data.henan_id, "o": own, "y": 2020, "f": files[own]})
    with pytest.raises(DBAPIError, match="fk_office_work_records_summary"), app_conn.begin_nested():
        app_conn.execute(
            text(sql), {"t": base_data.henan_id, "o": own, "y": 2021, "f": files[other]}
        )
