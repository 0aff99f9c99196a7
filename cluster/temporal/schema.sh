#!/bin/sh
# Creates (or upgrades) Temporal's persistence and visibility schemas on
# Postgres: the steps of Temporal's auto-setup image, run by `make cluster`
# (package cluster) and by the temporal-schema service of docker-compose.yml.
#   SQL_TOOL    temporal-sql-tool binary
#   SCHEMA_DIR  the server module's schema/postgresql/v12 folder
#   POSTGRES_SEEDS DB_PORT POSTGRES_USER POSTGRES_PWD DBNAME VISIBILITY_DBNAME
set -eu
: "${SQL_TOOL:=temporal-sql-tool}" "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
: "${POSTGRES_SEEDS:=127.0.0.1}" "${DB_PORT:=5432}" "${POSTGRES_USER:=postgres}" "${POSTGRES_PWD:=}"
: "${DBNAME:=checkout_temporal}" "${VISIBILITY_DBNAME:=checkout_visibility}"
export SQL_PASSWORD="$POSTGRES_PWD"
for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  db=${pair%%:*} dir=${pair#*:}
  set -- --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db"
  "$SQL_TOOL" "$@" create-database 2>/dev/null || true # exists already on a rerun
  "$SQL_TOOL" "$@" setup-schema -v 0.0
  "$SQL_TOOL" "$@" update-schema -d "$SCHEMA_DIR/$dir/versioned"
done
