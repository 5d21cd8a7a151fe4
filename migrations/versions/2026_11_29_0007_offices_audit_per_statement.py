"""Office audit events written once per statement, from transition tables.

The row-level audit trigger ran a PL/pgSQL function per office: a roster of 40,000 offices
spent seconds building its 40,000 events one by one. A statement-level trigger with
transition tables writes the same events (same documents: point as lon/lat, bookkeeping-only
updates skipped) with one INSERT … SELECT per statement. The other audited tables keep the
row-level trigger; they are written one row at a time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _function() -> str:
    who = (
        "NULLIF(current_setting('app.user_id', true), '')::bigint,"
        " coalesce(NULLIF(current_setting('app.username', true), ''), 'db:' || session_user),"
        " NULLIF(current_setting('app.role', true), '')"
    )
    request = "NULLIF(current_setting('app.request_id', true), '')"
    columns = (
        "tenant_id, user_id, username, role, action, entity_type, entity_id, region_code,"
        " before, after, request_id"
    )
    return f"""
CREATE FUNCTION audit_office_doc(r offices) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT to_jsonb(r) - 'geom' || jsonb_build_object(
    'lon', round(ST_X(r.geom)::numeric, 7), 'lat', round(ST_Y(r.geom)::numeric, 7))
$$;

CREATE FUNCTION audit_offices_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO audit_events ({columns})
    SELECT n.tenant_id, {who}, 'insert', 'offices', n.id::text, n.division_code,
           NULL, audit_office_doc(n), {request}
      FROM new_rows n ORDER BY n.id;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO audit_events ({columns})
    SELECT n.tenant_id, {who}, 'update', 'offices', n.id::text, n.division_code,
           d.before, d.after, {request}
      FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
     CROSS JOIN LATERAL (SELECT audit_office_doc(o) AS before, audit_office_doc(n) AS after) d
     WHERE (d.before - 'updated_at' - 'version') IS DISTINCT FROM (d.after - 'updated_at' - 'version')
     ORDER BY n.id;  -- nothing but bookkeeping changed: no event
  ELSE
    INSERT INTO audit_events ({columns})
    SELECT o.tenant_id, {who}, 'delete', 'offices', o.id::text, o.division_code,
           audit_office_doc(o), NULL, {request}
      FROM old_rows o ORDER BY o.id;
  END IF;
  RETURN NULL;
END $$;
"""


TRIGGERS = {  # (a trigger with transition tables serves one event)
    "offices_audit_insert": ("INSERT", "NEW TABLE AS new_rows"),
    "offices_audit_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "offices_audit_delete": ("DELETE", "OLD TABLE AS old_rows"),
}


def upgrade() -> None:
    op.execute("DROP TRIGGER offices_audit ON offices")
    op.execute(_function())
    for name, (event, tables) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON offices REFERENCING {tables}"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_offices_statement()"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON offices")
    op.execute("DROP FUNCTION audit_offices_statement()")
    op.execute("DROP FUNCTION audit_office_doc(offices)")
    op.execute(
        "CREATE TRIGGER offices_audit AFTER INSERT OR UPDATE OR DELETE ON offices"
        " FOR EACH ROW EXECUTE FUNCTION audit_row_change()"
    )
