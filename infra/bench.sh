#!/usr/bin/env bash
# `make bench`: measures and prints; writes JSON to bench/out/ (git-ignored). Benchmarks are not tests.
# It runs on a stack of its own (infra/benchenv.sh: its own ports and .data/bench), started empty and
# stopped at the end, so a benchmark never leaves millions of events in the `make run` stack.
source "$(dirname "$0")/benchenv.sh"
mkdir -p "$ROOT/bench/out"
shopt -s nullglob
benches=("$ROOT"/bench/bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
  say "PLACEHOLDER: no benchmark has landed yet; nothing was measured"
  exit 0
fi
bash "$ROOT/infra/install.sh"
bash "$ROOT/infra/down.sh" >/dev/null 2>&1 || true
rm -rf "$DATA/kafka/data"  # every run starts from empty topics and an empty database
bash "$ROOT/infra/postgres/postgres.sh" wipe
trap 'bash "$ROOT/infra/down.sh"' EXIT
bash "$ROOT/infra/up.sh"
say "bench stack: kafka 127.0.0.1:$KAFKA_PORT, postgres 127.0.0.1:$PG_PORT, data $DATA"
for b in "${benches[@]}"; do say "running $(basename "$b")"; "$PY" "$b"; done
