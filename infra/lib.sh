# Shared helpers for the infra scripts. Sourced, never run.
# Everything the local stack writes lives under $WERKPLEK_DATA (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${WERKPLEK_DATA:-$ROOT/.data}"
KAFKA_PORT="${WERKPLEK_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${WERKPLEK_KAFKA_CONTROLLER_PORT:-19093}"
# The broker's metrics port follows its client port unless set: two stacks on one machine never share it.
KAFKA_METRICS_PORT="${WERKPLEK_KAFKA_METRICS_PORT:-$((KAFKA_PORT + 2))}"
PG_PORT="${WERKPLEK_PG_PORT:-55432}"
PROM_PORT="${WERKPLEK_PROM_PORT:-19090}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say()  { printf '\033[1m[werkplek]\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[31m[werkplek] error:\033[0m %s\n' "$1" >&2; [ -n "${2:-}" ] && printf '          fix: %s\n' "$2" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# running PID -> true when the process runs. A zombie does not: a daemon whose parent exited is
# reaped by pid 1, and a container's pid 1 may never do it (kill -0 still succeeds on it).
running() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != "Z" ]; }
# pid_alive FILE -> true when FILE names a running process
pid_alive() { [ -f "$1" ] && running "$(cat "$1")"; }

# wait_for DESCRIPTION SECONDS COMMAND... : poll with a deadline, never a fixed sleep
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# Refuse to start when someone else already listens on a port we need.
require_free_port() {
  local port="$1" who="$2"
  if port_open "$port"; then
    die "port $port (needed by $who) is already taken by another process" \
        "stop that process (ss -ltnp 'sport = :$port' shows it) or choose another port with WERKPLEK_${who^^}_PORT"
  fi
}

# Stop the process in a pid file: TERM, wait, then KILL. Leaves nothing behind.
stop_pidfile() {
  local pidfile="$1" what="$2" pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for "$what to stop" 30 bash -c "$(declare -f running); ! running $pid"; then
    say "$what did not stop within 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# The Python side reads these (werkplek_common.settings); derive them from the ports unless set.
export WERKPLEK_KAFKA_BOOTSTRAP="${WERKPLEK_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}"
export WERKPLEK_PG_DSN="${WERKPLEK_PG_DSN:-postgresql://werkplek@127.0.0.1:$PG_PORT/werkplek}"
export WERKPLEK_DATA="$DATA" WERKPLEK_DATA_DIR="$DATA"
source "$ROOT/infra/mailpit/env.sh"
