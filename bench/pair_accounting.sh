#!/usr/bin/env bash
# bench/pair_accounting.sh REV [RUNS]: hour accounting's bench "before and after" in the same run
# conditions (issue 12: "make bench before and after"). Not part of `make bench`; not a test.
#
# REV (a commit, e.g. the last one before a change) is checked out beside this one under
# .data/pair/<rev> with a virtualenv of its own (its own lock). Then, RUNS times (default 2),
# alternating, each on a fresh bench stack of its own ports: this checkout's bench_accounting.py and
# REV's, both under bench/accounting_cpu.py, which adds CPU-seconds per 1,000 events (process +
# PostgreSQL) for (a) raw consumption, (b) accounting and (c) the rebuild — the fair figure on a shared
# machine. One JSON line per run in bench/out/pair_accounting.jsonl, then a table.
# Sizes: BENCH_STUDENTS/BENCH_ENTRIES as bench_accounting.py; by default a 500,000-record rebuild and
# small (d)/(e) (their figures are not compared here).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"  # not ROOT: infra/lib.sh, sourced below, sets ROOT to its own checkout
REV="${1:?usage: bench/pair_accounting.sh REV [RUNS]}"
RUNS="${2:-2}"
SHORT="$(git -C "$HERE" rev-parse --short "$REV")"
BEFORE="$HERE/.data/pair/$SHORT"
OUT="$HERE/bench/out/pair_accounting.jsonl"
export BENCH_REBUILD_EVENTS="${BENCH_REBUILD_EVENTS:-500000}" BENCH_RSS_STUDENTS="${BENCH_RSS_STUDENTS:-2000}" BENCH_FRESH_S="${BENCH_FRESH_S:-5}"
mkdir -p "$HERE/bench/out" "$HERE/.data/pair"
[ -d "$BEFORE" ] || git -C "$HERE" worktree add --detach "$BEFORE" "$REV" >/dev/null
[ -x "$BEFORE/.venv/bin/python" ] || (cd "$BEFORE" && bash infra/install.sh)
bash "$HERE/infra/install.sh"
mkdir -p "$BEFORE/bench/out"

one() {  # one() LABEL CHECKOUT KAFKA_PORT PG_PORT PROM_PORT
  local label="$1" dir="$2"
  ( cd "$dir"
    export WERKPLEK_DATA="$dir/.data/bench-pair" WERKPLEK_KAFKA_PORT="$3" WERKPLEK_KAFKA_CONTROLLER_PORT="$(($3 + 1))" \
      WERKPLEK_PG_PORT="$4" WERKPLEK_PROM_PORT="$5"
    source infra/benchenv.sh
    bash infra/down.sh >/dev/null 2>&1 || true
    rm -rf "$WERKPLEK_DATA/kafka/data"
    bash infra/postgres/postgres.sh wipe >/dev/null
    trap 'bash infra/down.sh >/dev/null 2>&1' EXIT
    bash infra/up.sh >/dev/null || die "the $label bench stack did not start (logs under $WERKPLEK_DATA)"
    .venv/bin/python "$HERE/bench/accounting_cpu.py" "$dir/bench/bench_accounting.py" \
      | tee "$HERE/bench/out/pair_accounting_$label.log" | sed -n 's/^ACCOUNTING_CPU //p' \
      | python3 -c "import json,sys; d=json.load(sys.stdin); d['label']='$label'; print(json.dumps(d))" >>"$OUT" )
}

: >"$OUT"
for i in $(seq "$RUNS"); do
  echo "[pair] run $i: this checkout (load $(cut -d' ' -f1 /proc/loadavg))"
  one after "$HERE" 39092 55434 39090
  echo "[pair] run $i: $SHORT (load $(cut -d' ' -f1 /proc/loadavg))"
  one before "$BEFORE" 49092 55444 49090
done
python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'run':<8}{'raw ev/s':>10}{'acc ev/s':>10}{'ratio':>7}{'rebuild/s':>11}  CPU-s/1000: raw  engine  rebuild  load")
for r in rows:
    cpu = {p["part"]: p for p in r["cpu"]}
    print(f"{r['label']:<8}{r['raw_consume_events_per_s']:>10,}{r['accounting_events_per_s']:>10,}{r['ratio']:>7}"
          f"{r['rebuild_events_per_s']:>11,}  {cpu['raw']['cpu_s_per_1000']:>15} {cpu['engine']['cpu_s_per_1000']:>7}"
          f" {cpu['rebuild']['cpu_s_per_1000']:>8}  {cpu['raw']['loadavg'][0]}")
for label in ("after", "before"):
    mine = [{p["part"]: p["cpu_s_per_1000"] for p in r["cpu"]} for r in rows if r["label"] == label]
    print(label, {k: round(statistics.mean(m[k] for m in mine), 4) for k in ("raw", "engine", "rebuild")})
EOF
