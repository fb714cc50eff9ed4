#!/bin/sh
# Initialise the cluster on first start; the password comes from a mounted secret file (rule 9.2).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  cat "${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE must name the secret file}" > "$pwfile"
  initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile" >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -U postgres -c "CREATE USER ${POSTGRES_USER:-agent} PASSWORD '$(cat "$POSTGRES_PASSWORD_FILE")'" >/dev/null
  psql -v ON_ERROR_STOP=1 -U postgres -c "CREATE DATABASE ${POSTGRES_DB:-agents} OWNER ${POSTGRES_USER:-agent}" >/dev/null
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c port="$PORT" \
  -c shared_buffers="${POSTGRES_SHARED_BUFFERS:-64MB}" -c max_connections="${POSTGRES_MAX_CONNECTIONS:-50}" \
  -c log_destination=stderr -c fsync=on
