#!/bin/bash
# Runs once, as the superuser, when the postgis container initialises an empty data volume:
# the schema owner (runs migrations) and the service's role (no superuser, no BYPASSRLS,
# owns nothing), and the extensions only a superuser may create.
set -euo pipefail
: "${REGISTRY_OWNER_PASSWORD:?}" "${REGISTRY_APP_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_pw="$REGISTRY_OWNER_PASSWORD" -v app_pw="$REGISTRY_APP_PASSWORD" <<'SQL'
CREATE ROLE registry_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE registry_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'app_pw';
CREATE DATABASE registry OWNER registry_owner;
\connect registry
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
GRANT CONNECT ON DATABASE registry TO registry_app;
-- Let row-level security use the spatial indexes (see service/core/cluster.py LEAKPROOF_FUNCTIONS):
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
ALTER FUNCTION geometry_contains(geometry, geometry) LEAKPROOF;
ALTER FUNCTION geometry_within(geometry, geometry) LEAKPROOF;
ALTER FUNCTION geometry_distance_centroid(geometry, geometry) LEAKPROOF;
SQL
