#!/usr/bin/env bash
# One line per part of the stack; exit 1 when any part is down.
source "$(dirname "$0")/lib.sh"
rc=0
bash "$ROOT/infra/postgres/postgres.sh" status || rc=1
bash "$ROOT/infra/kafka/kafka.sh" status || rc=1
bash "$ROOT/infra/mailpit/mailpit.sh" status || rc=1
bash "$ROOT/infra/prometheus/prometheus.sh" status || true  # only `make run` starts it
bash "$ROOT/infra/keycloak/keycloak.sh" status || true
bash "$ROOT/infra/proxy/proxy.sh" status || true  # only `make run` and the browser tests start it
exit $rc
