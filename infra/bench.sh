#!/usr/bin/env bash
# `make bench`: measures and prints; writes JSON to bench/out/ (git-ignored). Benchmarks are not tests.
source "$(dirname "$0")/lib.sh"
mkdir -p "$ROOT/bench/out"
shopt -s nullglob
benches=("$ROOT"/bench/bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
  say "PLACEHOLDER: no benchmark has landed yet; nothing was measured"
  exit 0
fi
bash "$ROOT/infra/install.sh"
bash "$ROOT/infra/up.sh"
for b in "${benches[@]}"; do say "running $(basename "$b")"; "$PY" "$b"; done
