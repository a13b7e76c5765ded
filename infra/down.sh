#!/usr/bin/env bash
# Stops everything infra/up.sh started. Leaves the data folder in place.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/infra/proxy/proxy.sh" down
bash "$ROOT/infra/keycloak/keycloak.sh" down
bash "$ROOT/infra/prometheus/prometheus.sh" down
bash "$ROOT/infra/kafka/kafka.sh" down
bash "$ROOT/infra/mailpit/mailpit.sh" down
bash "$ROOT/infra/postgres/postgres.sh" down
