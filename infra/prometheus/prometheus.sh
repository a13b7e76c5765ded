#!/usr/bin/env bash
# Local Prometheus (Debian's package) on 127.0.0.1:$PROM_PORT, scraping the services started by
# `make run` and evaluating infra/prometheus/rules. Usage: prometheus.sh up|down|status
source "$(dirname "$0")/../lib.sh"
P="$DATA/prometheus"; PIDFILE="$P/prometheus.pid"; BIN="${WERKPLEK_PROMETHEUS_BIN:-/usr/bin/prometheus}"
CONF="$ROOT/infra/prometheus/prometheus.yml"

ready() { curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1; }

up() {
  [ -x "$BIN" ] || die "Prometheus is missing ($BIN)" "make install (or apt-get install -y prometheus)"
  if pid_alive "$PIDFILE"; then say "prometheus already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PROM_PORT"; return 0; fi
  require_free_port "$PROM_PORT" prom
  mkdir -p "$P/data"
  "$(dirname "$BIN")/promtool" check config "$CONF" >"$P/check.log" 2>&1 \
    || { cat "$P/check.log" >&2; die "the Prometheus config or its rules are invalid" "fix $CONF or infra/prometheus/rules"; }
  nohup "$BIN" --config.file="$CONF" --storage.tsdb.path="$P/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle >"$P/prometheus.log" 2>&1 &
  echo $! > "$PIDFILE"
  if ! wait_for prometheus 30 ready; then
    tail -20 "$P/prometheus.log" >&2 || true
    stop_pidfile "$PIDFILE" prometheus
    die "Prometheus did not become ready within 30 s (log: $P/prometheus.log)" "read the log lines above"
  fi
  # PostgreSQL's metrics for the dashboards (Debian's prometheus-postgres-exporter), loopback only
  if [ -x /usr/bin/prometheus-postgres-exporter ] && ! pid_alive "$P/pg-exporter.pid"; then
    DATA_SOURCE_NAME="$WERKPLEK_PG_DSN?sslmode=disable" nohup /usr/bin/prometheus-postgres-exporter \
      --web.listen-address="127.0.0.1:${WERKPLEK_PG_EXPORTER_PORT:-19187}" >"$P/pg-exporter.log" 2>&1 &
    echo $! > "$P/pg-exporter.pid"
  fi
  say "prometheus ready on http://127.0.0.1:$PROM_PORT (pid $(cat "$PIDFILE"), log $P/prometheus.log)"
}

down() { stop_pidfile "$PIDFILE" prometheus; stop_pidfile "$P/pg-exporter.pid" postgres_exporter; say "prometheus stopped"; }

status() {
  if pid_alive "$PIDFILE" && ready; then echo "prometheus: up (pid $(cat "$PIDFILE"), http://127.0.0.1:$PROM_PORT)"; return 0; fi
  echo "prometheus: down"; return 1
}

"${1:-status}"
