"""A bounded wait for a hot standby to replay the primary's WAL up to a position.

A read the service sends to a read replica (DATABASE_READ_URL, service/core/db.py) must see
every write committed before the request began: it first asks the primary for its WAL
position, then this function, on the replica, waits (up to `wait_ms`) until the replica has
replayed that far. On a server that is not a standby it answers true at once. One round trip
whatever the wait; false when the replica lags further behind than the wait allows, and the
service then reads from the primary.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from migrations import ddl

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAIT = "registry_replayed(pg_lsn, integer)"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION registry_replayed(p_target pg_lsn, p_wait_ms integer)
        RETURNS boolean
        LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
          deadline timestamptz := clock_timestamp()
                                  + make_interval(secs => least(p_wait_ms, 10000) / 1000.0);
        BEGIN
          IF NOT pg_is_in_recovery() THEN
            RETURN true;
          END IF;
          LOOP
            IF pg_last_wal_replay_lsn() >= p_target THEN
              RETURN true;
            END IF;
            IF clock_timestamp() >= deadline THEN
              RETURN false;
            END IF;
            PERFORM pg_sleep(0.002);
          END LOOP;
        END $$;
        REVOKE ALL ON FUNCTION {WAIT} FROM PUBLIC;
        """
    )
    ddl.grant_to_app_role(f"GRANT EXECUTE ON FUNCTION {WAIT} TO {ddl.APP_ROLE};")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {WAIT}")
