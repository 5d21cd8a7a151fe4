"""The database alone holds the tenant line: connected as the service's role, with tenant A
bound, nothing of tenant B is visible or writable; with no tenant bound, nothing at all."""

from __future__ import annotations

import pytest
from conftest import bind_raw
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.core.db import WHOLE_TENANT, bind_context

TENANT_TABLES = {
    "divisions",
    "offices",
    "users",
    "auth_sessions",
    "access_tokens",
    "audit_events",
    "boundary_qa_cache",
    "data_versions",
    "standards",
    "standard_criteria",
    "targets",
    "office_facilities",
    "office_staff",
    "office_staff_personal",
    "office_work_records",
    "evidence_files",
    "acceptance_events",
}
# published standards and the acceptance history refuse UPDATE to everyone (a trigger)
APPEND_ONLY = {
    "audit_events",
    "standards",
    "standard_criteria",
    "acceptance_events",
    "evidence_files",  # no UPDATE privilege: a file, once given, stays as it was
}
# tables only their triggers write: the service role may not write them at all
TRIGGER_WRITTEN = {"data_versions"}

# A row for each tenant table, written as tenant B while bound to tenant A.
INSERTS = {
    "divisions": "INSERT INTO divisions (tenant_id, code, name, kind, level, valid_from, geom)"
    " VALUES (:b, '14', 'x', 'province', 'province', '2024-01-01',"
    " ST_Multi(ST_MakeEnvelope(112, 36, 113, 37, 4326)))",
    "offices": "INSERT INTO offices (tenant_id, name, division_id, division_code, geom)"
    " VALUES (:b, 'x', 1, '140105001', ST_SetSRID(ST_MakePoint(112.5, 37.8), 4326))",
    "users": "INSERT INTO users (tenant_id, username, password_hash, role, region_code)"
    " VALUES (:b, 'intruder', 'x', 'viewer', '14')",
    "auth_sessions": "INSERT INTO auth_sessions (tenant_id, user_id, refresh_hash, expires_at)"
    " VALUES (:b, 1, 'x', now() + interval '1 day')",
    "access_tokens": "INSERT INTO access_tokens (tenant_id, user_id, name, secret_hash, prefix,"
    " expires_at) VALUES (:b, 1, 'x', sha256('x'), 'abcd', now() + interval '1 day')",
    "audit_events": "INSERT INTO audit_events (tenant_id, username, action, entity_type)"
    " VALUES (:b, 'x', 'forged', 'offices')",
    "boundary_qa_cache": "INSERT INTO boundary_qa_cache (tenant_id, key, fingerprint, seconds, result)"
    " VALUES (:b, 'k', 'f', 0, '{}')",
    "data_versions": "INSERT INTO data_versions (tenant_id, name, slot, version)"
    " VALUES (:b, 'offices', 0, 1)",
    "standards": "INSERT INTO standards (tenant_id, version, code, title, document,"
    " effective_from, published_by) VALUES (:b, 99, 'x-1', 'x', 'x', '2024-01-01', 'x')",
    "standard_criteria": "INSERT INTO standard_criteria (tenant_id, standard_id, key, position,"
    " category, text, source, mandatory, measure, op, missing)"
    " VALUES (:b, 1, 'K-1', 1, 'x', 'x', 'x', true, 'area_m2', '>=', 'x')",
    "targets": "INSERT INTO targets (tenant_id, due_on, share) VALUES (:b, '2030-01-01', 1)",
    "office_facilities": "INSERT INTO office_facilities (tenant_id, office_id) VALUES (:b, 1)",
    "office_work_records": "INSERT INTO office_work_records (tenant_id, office_id, year)"
    " VALUES (:b, 1, 2024)",
    "office_staff": "INSERT INTO office_staff (tenant_id, office_id, position, formal,"
    " civil_servant) VALUES (:b, 1, 'staff', true, true)",
    "office_staff_personal": "INSERT INTO office_staff_personal (tenant_id, staff_id, name)"
    " VALUES (:b, 1, 'x')",
    "evidence_files": "INSERT INTO evidence_files (tenant_id, office_id, sha256, filename,"
    " content_type, size_bytes, uploaded_by)"
    " VALUES (:b, 1, repeat('a', 64), 'x.pdf', 'application/pdf', 1, 'x')",
    "acceptance_events": "INSERT INTO acceptance_events (tenant_id, office_id, action,"
    " from_state, to_state, effective_on, username)"
    " VALUES (:b, 1, 'accept', 'applied', 'accepted', '2024-01-01', 'x')",
}
# rows of tenant A's own (for an office of A, :o) that a test then tries to move to B
OWN_ROWS = {
    "access_tokens": [
        "INSERT INTO access_tokens (tenant_id, user_id, name, secret_hash, prefix, expires_at)"
        " SELECT :a, min(id), 'x', sha256('x'), 'abcd', now() + interval '1 day' FROM users"
    ],
    "office_facilities": ["INSERT INTO office_facilities (tenant_id, office_id) VALUES (:a, :o)"],
    "office_work_records": [
        "INSERT INTO office_work_records (tenant_id, office_id, year) VALUES (:a, :o, 2024)"
    ],
    "office_staff": [INSERTS["office_staff"].replace(":b, 1,", ":a, :o,")],
    "office_staff_personal": [
        INSERTS["office_staff"].replace(":b, 1,", ":a, :o,"),
        "INSERT INTO office_staff_personal (tenant_id, staff_id, name)"
        " SELECT :a, max(id), 'x' FROM office_staff",
    ],
    "evidence_files": [INSERTS["evidence_files"].replace(":b, 1,", ":a, :o,")],
}


def test_every_tenant_table_has_a_policy(app_conn):
    tables = set(
        app_conn.scalars(
            text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'tenant_id'"
            )
        )
    )
    assert tables == TENANT_TABLES
    rls = dict(
        app_conn.execute(
            text("SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(:t)"),
            {"t": [*TENANT_TABLES, "tenants"]},
        ).all()
    )
    assert all(rls[t] for t in [*TENANT_TABLES, "tenants"])


def test_the_service_role_cannot_get_around_it(app_conn):
    row = app_conn.execute(
        text(
            "SELECT rolsuper, rolbypassrls, (SELECT count(*) FROM pg_class c"
            " WHERE c.relowner = r.oid AND c.relkind = 'r') AS owned"
            " FROM pg_roles r WHERE rolname = current_user"
        )
    ).one()
    assert (row.rolsuper, row.rolbypassrls, row.owned) == (False, False, 0)


def test_the_analyze_function_reaches_only_registry_tables(app_conn):
    app_conn.execute(text("SELECT registry_analyze('divisions')"))
    with pytest.raises(DBAPIError, match="not a registry table"):
        app_conn.execute(text("SELECT registry_analyze('users; DROP TABLE offices')"))


def test_nothing_is_visible_without_a_tenant(app_conn):
    for table in [*TENANT_TABLES, "tenants"]:
        assert app_conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


def test_bound_to_a_tenant_only_its_rows_are_visible(app_conn, base_data):
    a, b = base_data.henan_id, base_data.shanxi_id
    bind_raw(app_conn, a)
    for table in TENANT_TABLES:
        assert (
            app_conn.scalar(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :b"), {"b": b})
            == 0
        )
        assert (
            app_conn.scalar(text(f"SELECT count(*) FROM {table} WHERE tenant_id <> :a"), {"a": a})
            == 0
        )
    assert app_conn.scalar(text("SELECT count(*) FROM divisions")) > 0
    assert app_conn.scalar(text("SELECT count(*) FROM users")) > 0
    assert list(app_conn.scalars(text("SELECT id FROM tenants"))) == [a]


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_writes_into_another_tenant_are_refused(app_conn, base_data, table):
    a, b = base_data.henan_id, base_data.shanxi_id
    bind_raw(app_conn, a)
    refused = "permission denied" if table in TRIGGER_WRITTEN else "row-level security"
    with pytest.raises(DBAPIError, match=refused), app_conn.begin_nested():
        app_conn.execute(text(INSERTS[table]), {"b": b})
    if table in TRIGGER_WRITTEN:
        return
    if table == "office_staff_personal":  # visible only to roles that handle personal data
        app_conn.execute(text("SELECT set_config('app.role', 'county_bureau', true)"))
    if table == "offices" or table in OWN_ROWS:  # tenant A needs a row of its own to move
        office = app_conn.scalar(
            text(
                "INSERT INTO offices (tenant_id, name, division_id, division_code, geom)"
                " SELECT :a, 'x', id, code, ST_PointOnSurface(geom) FROM divisions"
                " WHERE level = 'township' LIMIT 1 RETURNING id"
            ),
            {"a": a},
        )
        for sql in OWN_ROWS.get(table, []):
            app_conn.execute(text(sql), {"a": a, "o": office})
    if table == "boundary_qa_cache":
        app_conn.execute(text(INSERTS[table]), {"b": a})  # a row of A's own to try to move
    if table not in APPEND_ONLY:  # those refuse every UPDATE (tested elsewhere)
        moved = f"UPDATE {table} SET tenant_id = :b WHERE tenant_id = :a"
        with pytest.raises(DBAPIError, match="row-level security"), app_conn.begin_nested():
            app_conn.execute(text(moved), {"a": a, "b": b})
        touched = app_conn.execute(
            text(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = :b"), {"b": b}
        )
        assert touched.rowcount == 0


def test_unbound_writes_are_refused(app_conn, base_data):
    for table, sql in INSERTS.items():
        refused = "permission denied" if table in TRIGGER_WRITTEN else "row-level security"
        with pytest.raises(DBAPIError, match=refused), app_conn.begin_nested():
            app_conn.execute(text(sql), {"b": base_data.henan_id})
        assert table


def test_a_request_session_is_bound_by_the_app(db, base_data):
    """The same holds for the sessions the app uses: bound to 14, 41's rows are gone."""
    with db.sessionmaker() as s:
        bind_context(s, tenant_id=base_data.shanxi_id, region=WHOLE_TENANT)
        codes = set(s.scalars(text("SELECT DISTINCT left(code, 2) FROM divisions")))
        assert codes == {"14"}


def test_spatial_indexes_work_under_row_level_security(app_conn, base_data):
    """PostGIS's bounding-box operators are LEAKPROOF, so a point lookup by the service role
    uses the GiST index instead of scanning every division (a cluster set-up step)."""
    leaky = app_conn.scalars(
        text(
            "SELECT proname FROM pg_proc WHERE proname IN ('geometry_overlaps',"
            " 'geometry_contains', 'geometry_within', 'geometry_distance_centroid')"
            " AND NOT proleakproof"
        )
    ).all()
    assert leaky == []
    app_conn.execute(
        text("SELECT set_config('app.tenant_id', :a, true)"), {"a": str(base_data.henan_id)}
    )
    app_conn.execute(
        text("SET LOCAL enable_seqscan = off")
    )  # (tiny tables: make the choice visible)
    plan = "\n".join(
        app_conn.scalars(
            text(
                "EXPLAIN SELECT id FROM divisions WHERE tenant_id = :a AND level = 'township'"
                " AND valid_to IS NULL AND geom ~ ST_SetSRID(ST_MakePoint(113.7, 34.4), 4326)"
                " AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(113.7, 34.4), 4326))"
            ),
            {"a": base_data.henan_id},
        )
    )
    assert "ix_divisions_geom" in plan, plan
