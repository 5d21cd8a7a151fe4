"""Data versions by city: a change of an office, or of its facilities, staff, work records,
evidence or acceptance events, moves the version of the city (the first four digits of the
code) it is registered in and of the city it lies in, no longer the whole tenant's. A map of
one city (its page, offices and tiles) is then kept while the bureaus of another city write;
with one version per tenant, every office edit anywhere in 河南 made every kept map page and
tile of 河南 stale (`scripts/bench load`: 3 page hits in 1,990 lookups, 252 tile hits in
38,421, while fifty users worked).

A version is now a sum over slots *and* regions: a reader bounded by a city sums the rows of
its city and those of region '' (changes of the whole tenant); a reader of a province or the
nation sums them all (service/core/versions.py). Changes of divisions, standards, criteria,
targets and the tenant stay tenant-wide (region ''), as does TRUNCATE of any table: they are
rare and may reach every city. The regional bumps read the statement's transition tables, so
a statement that changes no row moves nothing; an office no longer found (deleted in the same
statement as its records) counts for the whole tenant.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16  # (as 0021: one slot per writing connection, pid mod 16)
OFFICE_RECORDS = (
    "office_facilities",
    "office_staff",
    "office_work_records",
    "evidence_files",
    "acceptance_events",
)
REGIONAL = ("offices", *OFFICE_RECORDS)
REGION_OF = "CASE WHEN length({c}) >= 4 THEN left({c}, 4) ELSE '' END"


def _regions(table: str, rows: str) -> str:
    """(tenant_id, region) of the rows of a transition table: an office's registered and
    located cities; an office record's office's, or '' when its office is gone."""
    if table == "offices":
        return (
            f"SELECT r.tenant_id, {REGION_OF.format(c='c')} AS region"
            f"  FROM {rows} r, unnest(ARRAY[r.division_code, r.located_code]) AS c"
            "  WHERE c IS NOT NULL"
        )
    return (
        f"SELECT r.tenant_id, coalesce({REGION_OF.format(c='c')}, '') AS region"
        f"  FROM {rows} r"
        "  LEFT JOIN offices o ON o.tenant_id = r.tenant_id AND o.id = r.office_id"
        "  LEFT JOIN LATERAL unnest(ARRAY[o.division_code, o.located_code]) AS c ON true"
        "  WHERE o.id IS NULL OR c IS NOT NULL"
    )


def _bump(table: str, rows: str) -> str:
    return f"""
    INSERT INTO data_versions AS v (tenant_id, name, region, slot, version)
    SELECT x.tenant_id, TG_TABLE_NAME, x.region, pg_backend_pid() % {SLOTS},
           (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
      FROM (SELECT DISTINCT * FROM ({_regions(table, rows)}) y) x
     ORDER BY 1, 3
    ON CONFLICT (tenant_id, name, region, slot)
    DO UPDATE SET version = greatest(v.version + 1, excluded.version);"""


def _function(table: str) -> str:
    both = "(SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows)"
    return f"""
CREATE FUNCTION {table}_data_versions_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {_bump(table, "new_rows")}
  ELSIF TG_OP = 'DELETE' THEN {_bump(table, "old_rows")}
  ELSE {_bump(table, both)}
  END IF;
  RETURN NULL;
END $$;
"""


def _tenant_wide(*, regional: bool) -> str:
    """0021's bump of the bound tenant (every tenant for a writer bound to none, or a
    TRUNCATE), into region '' once regions exist."""
    region = ("region, ", "'', ") if regional else ("", "")
    return f"""
CREATE OR REPLACE FUNCTION data_versions_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  bound int := NULLIF(current_setting('app.tenant_id', true), '')::int;
BEGIN
  INSERT INTO data_versions AS v (tenant_id, name, {region[0]}slot, version)
  SELECT t.id, TG_TABLE_NAME, {region[1]}pg_backend_pid() % {SLOTS},
         (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
    FROM tenants t
   WHERE t.id = bound OR bound IS NULL OR TG_OP = 'TRUNCATE'
   ORDER BY t.id
  ON CONFLICT (tenant_id, name, {region[0]}slot)
  DO UPDATE SET version = greatest(v.version + 1, excluded.version);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE data_versions ADD COLUMN region text NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE data_versions DROP CONSTRAINT pk_data_versions")
    op.execute(
        "ALTER TABLE data_versions ADD CONSTRAINT pk_data_versions"
        " PRIMARY KEY (tenant_id, name, region, slot)"
    )
    # the tenant-wide bump of 0021, with the region its rows now have
    op.execute(_tenant_wide(regional=True))
    for table in REGIONAL:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
        op.execute(_function(table))
        function = f"{table}_data_versions_bump()"
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_data_version_{event.lower()}"
                f" AFTER {event} ON {table} REFERENCING {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {function}"
            )
        op.execute(
            f"CREATE TRIGGER {table}_data_version_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION data_versions_bump()"
        )


def downgrade() -> None:
    for table in REGIONAL:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_data_version_{event} ON {table}")
        op.execute(f"DROP FUNCTION {table}_data_versions_bump()")
        op.execute(
            f"CREATE TRIGGER {table}_data_version"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION data_versions_bump()"
        )
    # the regions' rows summed into the tenant-wide ones, so that no version goes back
    op.execute(
        "CREATE TEMP TABLE dv AS SELECT tenant_id, name, slot, sum(version) AS version"
        " FROM data_versions GROUP BY 1, 2, 3"
    )
    op.execute("DELETE FROM data_versions")
    op.execute("ALTER TABLE data_versions DROP CONSTRAINT pk_data_versions")
    op.execute("ALTER TABLE data_versions DROP COLUMN region")
    op.execute(
        "ALTER TABLE data_versions ADD CONSTRAINT pk_data_versions"
        " PRIMARY KEY (tenant_id, name, slot)"
    )
    op.execute("INSERT INTO data_versions SELECT tenant_id, name, slot, version FROM dv")
    op.execute("DROP TABLE dv")
    op.execute(_tenant_wide(regional=False))
