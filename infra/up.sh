#!/usr/bin/env bash
# Starts the local stack (idempotent), creates the topics from the registry and applies the migrations.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/infra/install.sh"
bash "$ROOT/infra/postgres/postgres.sh" up
bash "$ROOT/infra/kafka/kafka.sh" up
bash "$ROOT/infra/mailpit/mailpit.sh" up
"$PY" -m werkplek_common.cli topics
"$PY" -m werkplek_common.cli migrate
