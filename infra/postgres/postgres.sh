#!/usr/bin/env bash
# A project-owned PostgreSQL cluster from Debian's packages, on loopback. Usage: postgres.sh install|up|down|status
source "$(dirname "$0")/../lib.sh"
P="$DATA/postgres"; PGDATA="$P/data"; SOCK="$P/run"; LOG="$P/postgres.log"
DB="${WERKPLEK_PG_DB:-werkplek}"; PGUSER_NAME="werkplek"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] && return 0
  command -v apt-get >/dev/null || die "PostgreSQL is missing and this is not a Debian-like machine" "install PostgreSQL server binaries (initdb, pg_ctl)"
  [ "$(id -u)" = 0 ] || die "PostgreSQL is missing and installing it needs root" "sudo apt-get install -y postgresql"
  say "installing PostgreSQL from Debian's packages (first run only)"
  ( apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql ) >"$DATA/apt-postgres.log" 2>&1 \
    || { tail -20 "$DATA/apt-postgres.log" >&2; die "apt-get could not install postgresql (log: $DATA/apt-postgres.log)" "check that Debian's package mirror is reachable"; }
}

# PostgreSQL refuses to run as root: as root we run it as the 'postgres' system user.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ready() { as_owner "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

up() {
  install
  mkdir -p "$P" "$SOCK"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$P"
  if [ -f "$PGDATA/postmaster.pid" ] && ready; then say "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi
  require_free_port "$PG_PORT" pg
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "initialising PostgreSQL cluster in $PGDATA (first start)"
    as_owner "$(pg_bin)/initdb" -D "$PGDATA" -U "$PGUSER_NAME" --auth=trust -E UTF8 --locale=C.UTF-8 >"$P/initdb.log" 2>&1 \
      || { cat "$P/initdb.log" >&2; die "initdb failed" "remove $PGDATA and run make infra-up again"; }
  fi
  as_owner "$(pg_bin)/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 start \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $SOCK -c max_connections=200 -c shared_buffers=256MB -c fsync=on" >/dev/null \
    || { tail -20 "$LOG" >&2; die "PostgreSQL did not start (log: $LOG)" "read the log lines above"; }
  wait_for postgres 30 ready || die "PostgreSQL is not accepting connections (log: $LOG)" "read $LOG"
  if ! as_owner "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PGUSER_NAME" -d postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
    as_owner "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PGUSER_NAME" "$DB"
  fi
  say "postgres ready on 127.0.0.1:$PG_PORT, database $DB (log $LOG)"
}

down() {
  if [ -f "$PGDATA/postmaster.pid" ]; then as_owner "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null || true; fi
  say "postgres stopped"
}

status() {
  if [ -n "$(pg_bin)" ] && [ -f "$PGDATA/postmaster.pid" ] && ready; then echo "postgres: up (127.0.0.1:$PG_PORT, database $DB)"; return 0; fi
  echo "postgres: down"; return 1
}

"${1:-status}"
