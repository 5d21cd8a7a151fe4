#!/bin/bash
# Runs once, as the superuser, when the postgis container initialises an empty data volume:
# the role the read replica streams the WAL with (REPLICATION, nothing else), allowed to
# connect for replication from the compose network.
set -euo pipefail
: "${REGISTRY_REPLICATION_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v repl_pw="$REGISTRY_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator LOGIN REPLICATION NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'repl_pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
