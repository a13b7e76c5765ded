#!/usr/bin/env bash
# A project-owned PostgreSQL cluster from Debian's packages, on loopback. Usage: postgres.sh install|up|down|status
source "$(dirname "$0")/../lib.sh"
P="$DATA/postgres"
# Paths are used through the real folder: the 'postgres' user may not be able to walk the symlink's path.
resolve() { local real; real="$(readlink -f "$P" 2>/dev/null || echo "$P")"; PGDATA="$real/data"; SOCK="$real/run"; LOG="$real/postgres.log"; }
resolve
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

# As root the server runs as 'postgres', which may not be able to enter the checkout (a CI clone in
# a 0700 temp folder, say). Then the cluster lives in /var/tmp and $P is a symlink to it.
place_data() {
  [ -e "$P" ] && return 0
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DATA"; then
    local real; real="/var/tmp/werkplek-pg-$(printf '%s' "$P" | sha256sum | cut -c1-12)"
    rm -rf "$real"; mkdir -p "$real"; ln -s "$real" "$P"
  else
    mkdir -p "$P"
  fi
  resolve
}

wipe() { down >/dev/null 2>&1 || true; rm -rf "$(readlink -f "$P")" "$P"; }

up() {
  install
  place_data
  mkdir -p "$SOCK"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$(readlink -f "$P")"; fi
  if [ -f "$PGDATA/postmaster.pid" ] && ready; then say "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi
  require_free_port "$PG_PORT" pg
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "initialising PostgreSQL cluster in $PGDATA (first start)"
    as_owner "$(pg_bin)/initdb" -D "$PGDATA" -U "$PGUSER_NAME" --auth=trust -E UTF8 --locale=C.UTF-8 >"$SOCK/../initdb.log" 2>&1 \
      || { cat "$SOCK/../initdb.log" >&2; die "initdb failed" "remove $PGDATA and run make infra-up again"; }
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
