#!/usr/bin/env bash
# Ack-latency A/B: `sluice perf produce` at a fixed rate against a fresh 1-partition topic, with
# each given bin directory in turn (A B A B ...), each run on its own freshly started sluiced.
#   perf/latency_ab.sh [--rate N] [--flush POLICY] [--seconds S] [--runs N] [--record-size B]
#                      BIN_DIR...
# Defaults: 50 000 records/s, flush=interval:1000, 8 s, 3 runs, 1 KiB records (perf/compare's
# workload 2, relaxed). Prints one line per run: bin dir, run, records/s, ack p50 / p99 / p99.9
# / max in ms; then the medians per bin dir.
set -euo pipefail
rate=50000; flush=interval:1000; secs=8; runs=3; size=1024
while [ $# -gt 0 ]; do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --flush) flush=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --record-size) size=$2; shift 2 ;;
    *) break ;;
  esac
done
bins=("$@")
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--rate N] [--flush P] [--runs N] BIN_DIR..." >&2; exit 2; }
work=$(mktemp -d /tmp/latency-ab.XXXXXX)
. "$(dirname "$0")/ab_broker.sh"
trap ab_cleanup EXIT
start() { rm -rf "$work/data"; ab_start "$1"; }  # a fresh data directory per run
stop() { ab_stop; }

for i in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    start "$b"
    "$b/sluice" topic create lat --brokers "127.0.0.1:$port" --partitions 1 \
      --config "flush=$flush" >/dev/null
    "$b/sluice" perf produce --brokers "127.0.0.1:$port" --topic lat --record-size "$size" \
      --duration "$secs" --throughput "$rate" --acks 1 --linger-ms 0 --compression none \
      --json 2>/dev/null | tail -1 >"$work/run.json"
    stop
    jq -r --arg b "$b" --arg i "$i" '[$b, $i, (.records_per_sec | floor), .latency_p50_ms,
      .latency_p99_ms, .latency_p999_ms, .latency_max_ms] | @tsv' "$work/run.json" |
      tee -a "$work/runs.tsv"
  done
done
for b in "${bins[@]}"; do
  for col in 4 5 6 7; do
    awk -F'\t' -v b="$b" -v c="$col" '$1 == b {print $c}' "$work/runs.tsv" | sort -g |
      awk '{a[NR]=$1} END {printf "%s ", a[int((NR+1)/2)]}'
  done | awk -v b="$b" '{print "median", b, "p50", $1, "p99", $2, "p99.9", $3, "max", $4, "ms"}'
done
rm -rf "$work/data"
echo "work dir: $work"
