#!/usr/bin/env bash
# `make test`: installs what is missing, starts a fresh test stack on its own ports and data folder
# (so a running `make run` stack is left alone), runs every test, and stops what it started.
source "$(dirname "$0")/testenv.sh"
bash "$ROOT/infra/install.sh"
bash "$ROOT/infra/down.sh" >/dev/null 2>&1 || true
# every run starts from empty topics and an empty database
rm -rf "$DATA/kafka/data"
bash "$ROOT/infra/postgres/postgres.sh" wipe
bash "$ROOT/infra/mailpit/mailpit.sh" wipe
bash "$ROOT/infra/keycloak/keycloak.sh" wipe  # the realm is imported afresh
trap 'bash "$ROOT/infra/down.sh"' EXIT
bash "$ROOT/infra/keycloak/keycloak.sh" start  # the slowest to start: launched first, waited for below
bash "$ROOT/infra/up.sh"
bash "$ROOT/infra/app.sh" check  # the student app: build, unit tests, Chromium for the browser tests
bash "$ROOT/infra/keycloak/keycloak.sh" wait
"$PY" -m pytest "$@"
