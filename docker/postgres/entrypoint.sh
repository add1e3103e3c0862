#!/bin/bash
# Starts PostgreSQL as a primary or as a streaming standby of a primary, or rebuilds a data
# directory as a standby and exits.
#   PG_ROLE=primary (default) | standby | rebuild-standby
#     rebuild-standby: empties $PGDATA, takes a base backup of PG_PRIMARY_HOST into it (a
#     standby's configuration included) and exits 0; the site's own container, started again on
#     that data, comes up as a standby of that primary (a site rejoining after a switchover)
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required), POSTGRES_DB (optional)
#   PG_PRIMARY_HOST, PG_PRIMARY_PORT (default 5432): the primary a standby follows
#   PG_APPLICATION_NAME: the name a standby streams under (what the primary's
#     synchronous_standby_names lists)
#   PG_SYNC_STANDBY, PG_SYNCHRONOUS_COMMIT: a primary's synchronous_standby_names and
#     synchronous_commit (synchronous replication); unset: asynchronous. Not applied when the
#     data directory holds standby.signal: a site rebuilt as a standby starts as one, and once
#     promoted it must not wait for a standby of that name (ALTER SYSTEM names its own).
set -euo pipefail
role="${PG_ROLE:-primary}"
user="${POSTGRES_USER:-postgres}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
conf=(-c config_file=/etc/harness/postgresql.conf -c hba_file=/etc/harness/pg_hba.conf)

# The image runs as postgres (no root, no su): what needed su runs directly.
as_pg() { bash -c "$*"; }

prepare_primary() {
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    cp -a /var/lib/postgresql/template/. "$PGDATA/"
    chmod 700 "$PGDATA"
    # A first start on the socket only: set the password and create the database before the
    # server accepts any connection from the network.
    as_pg "pg_ctl -D '$PGDATA' -o \"-c listen_addresses='' -c config_file=/etc/harness/postgresql.conf -c hba_file=/etc/harness/pg_hba.conf\" -w -s start"
    if [ "$user" != "postgres" ]; then
      as_pg "psql -v ON_ERROR_STOP=1 -q -d postgres -c \"CREATE ROLE \\\"$user\\\" SUPERUSER LOGIN\""
    fi
    as_pg "psql -v ON_ERROR_STOP=1 -q -d postgres" <<SQL
ALTER ROLE "$user" PASSWORD '${POSTGRES_PASSWORD//\'/\'\'}';
SQL
    if [ -n "${POSTGRES_DB:-}" ] && [ "${POSTGRES_DB}" != "postgres" ]; then
      as_pg "psql -v ON_ERROR_STOP=1 -q -d postgres -c \"CREATE DATABASE \\\"$POSTGRES_DB\\\" OWNER \\\"$user\\\"\""
    fi
    as_pg "pg_ctl -D '$PGDATA' -m fast -w -s stop"
  fi
}

prepare_standby() {
  : "${PG_PRIMARY_HOST:?PG_PRIMARY_HOST must be set for a standby}"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    chmod 700 "$PGDATA"
    # pg_basebackup -R writes primary_conninfo and standby.signal; retry while the primary starts.
    for attempt in $(seq 1 60); do
      if as_pg "PGPASSWORD='$POSTGRES_PASSWORD' pg_basebackup -h '$PG_PRIMARY_HOST' -p '${PG_PRIMARY_PORT:-5432}' -U '$user' -D '$PGDATA' -R -X stream -c fast -w" ; then
        break
      fi
      rm -rf "${PGDATA:?}"/*
      if [ "$attempt" = 60 ]; then echo "standby: primary $PG_PRIMARY_HOST never answered" >&2; exit 1; fi
      sleep 1
    done
  fi
  if [ -n "${PG_APPLICATION_NAME:-}" ]; then
    # Later lines of postgresql.auto.conf win: stream under the name the primary waits for.
    echo "primary_conninfo = 'host=$PG_PRIMARY_HOST port=${PG_PRIMARY_PORT:-5432} user=$user password=$POSTGRES_PASSWORD application_name=$PG_APPLICATION_NAME'" >> "$PGDATA/postgresql.auto.conf"
  fi
}

# A rebuilt standby keeps nothing of the old primary's settings for its own synchronous standby
# (a base backup copies postgresql.auto.conf): once promoted it waits for none until one is named.
rebuild_standby() {
  : "${PG_PRIMARY_HOST:?PG_PRIMARY_HOST must be set to rebuild a standby}"
  rm -rf "${PGDATA:?}"/* "${PGDATA:?}"/.[!.]* 2>/dev/null || true
  prepare_standby
  echo "synchronous_standby_names = ''" >> "$PGDATA/postgresql.auto.conf"
  echo "rebuild-standby: $PGDATA is a standby of $PG_PRIMARY_HOST:${PG_PRIMARY_PORT:-5432}"
}

case "$role" in
  rebuild-standby) rebuild_standby; exit 0 ;;
  primary)
    prepare_primary
    if [ -n "${PG_SYNC_STANDBY:-}" ] && [ ! -e "$PGDATA/standby.signal" ]; then
      conf+=(-c "synchronous_standby_names=${PG_SYNC_STANDBY}" -c "synchronous_commit=${PG_SYNCHRONOUS_COMMIT:-on}")
    fi
    ;;
  standby) prepare_standby ;;
  *) echo "PG_ROLE must be primary, standby or rebuild-standby, not '$role'" >&2; exit 2 ;;
esac
exec postgres -D "$PGDATA" "${conf[@]}"
