#!/usr/bin/env bash
# `make chaos`: the multi-replica chaos run (tests/chaos/run.py) on a stack of its own; not part of
# `make test`. Options go through ARGS, e.g. `make chaos ARGS="--entries 20000 --replicas 1"`.
source "$(dirname "$0")/lib.sh"
export WERKPLEK_KAFKA_START_S="${WERKPLEK_KAFKA_START_S:-600}"  # the broker restart, on a busy machine
bash "$ROOT/infra/install.sh"
cd "$ROOT" && exec "$PY" -m tests.chaos.run "$@"
