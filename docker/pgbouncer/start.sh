#!/bin/sh
# Writes PgBouncer's configuration from the environment, then runs it (in the foreground).
set -eu
: "${REGISTRY_APP_PASSWORD:?}"
conf=/tmp/pgbouncer
mkdir -p "$conf"
umask 077
printf '"registry_app" "%s"\n' "$REGISTRY_APP_PASSWORD" > "$conf/userlist.txt"
cat > "$conf/pgbouncer.ini" <<INI
[databases]
registry = host=db port=5432 dbname=registry pool_size=${PGBOUNCER_POOL_SIZE:-20}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $conf/userlist.txt
pool_mode = transaction
max_client_conn = ${PGBOUNCER_MAX_CLIENTS:-1000}
stats_users = registry_app
ignore_startup_parameters = extra_float_digits
INI
exec pgbouncer "$conf/pgbouncer.ini"
