#!/bin/sh
# The read replica: the first time (an empty volume), a base backup of the primary that also
# configures streaming from it (pg_basebackup -R); then PostgreSQL as a hot standby. The
# service reads from it only what it has replayed (README, "A read replica").
set -eu
: "${REGISTRY_REPLICATION_PASSWORD:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h db -U replicator -d postgres; do sleep 1; done
    PGPASSWORD="$REGISTRY_REPLICATION_PASSWORD" pg_basebackup -h db -U replicator \
        -D "$PGDATA" -R -X stream --checkpoint=fast --no-password
    chmod 0700 "$PGDATA"
fi
# hot_standby_feedback: the primary's vacuum keeps what a long read here still needs
exec postgres -c hot_standby=on -c hot_standby_feedback=on
