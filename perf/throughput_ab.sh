#!/usr/bin/env bash
# Produce-throughput A/B: `sluice perf produce` as fast as it goes against a fresh 1-partition
# topic, with each given bin directory in turn (A B A B ...), each run on its own freshly
# started sluiced.
#   perf/throughput_ab.sh [--record-size B] [--batch-size B] [--flush POLICY] [--seconds S]
#                         [--runs N] BIN_DIR...
# Defaults: 100-byte records, 64 KiB batches, flush=always, 6 s, 3 runs (the broker benchmark's
# 100 B durable case; perf/compare uses --batch-size 204800). Prints one line per run: bin dir,
# run, records/s, MiB/s, the client's CPU seconds (user + system, /usr/bin/time) and the
# broker's (from /proc/PID/stat at its exit); then the medians per bin dir.
set -euo pipefail
size=100; batch=65536; flush=always; secs=6; runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --record-size) size=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --flush) flush=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) break ;;
  esac
done
bins=("$@")
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--record-size B] [--runs N] BIN_DIR..." >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0 needs /usr/bin/time (Debian package time)" >&2; exit 2; }
work=$(mktemp -d /tmp/throughput-ab.XXXXXX)
. "$(dirname "$0")/ab_broker.sh"
trap ab_cleanup EXIT
ticks=$(getconf CLK_TCK)
broker_cpu_seconds() {  # utime + stime of $pid, fields 14 and 15 of /proc/PID/stat
  awk -v t="$ticks" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t}' "/proc/$pid/stat"
}

for i in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    rm -rf "$work/data"
    ab_start "$b"
    "$b/sluice" topic create tput --brokers "127.0.0.1:$port" --partitions 1 \
      --config "flush=$flush" >/dev/null
    /usr/bin/time -f "%U %S" -o "$work/client.time" \
      "$b/sluice" perf produce --brokers "127.0.0.1:$port" --topic tput --record-size "$size" \
      --duration "$secs" --acks 1 --linger-ms 5 --batch-size "$batch" --compression none \
      --json 2>/dev/null | tail -1 >"$work/run.json"
    broker_cpu=$(broker_cpu_seconds)
    ab_stop
    client_cpu=$(awk '{printf "%.2f", $1 + $2}' "$work/client.time")
    jq -r --arg b "$b" --arg i "$i" --arg c "$client_cpu" --arg k "$broker_cpu" \
      '[$b, $i, (.records_per_sec | floor), (.mib_per_sec * 100 | floor) / 100, $c, $k] | @tsv' "$work/run.json" |
      tee -a "$work/runs.tsv"
  done
done
for b in "${bins[@]}"; do
  echo "median $b records/s $(ab_median "$work/runs.tsv" "$b" 3 | cut -d' ' -f1)" \
    "MiB/s $(ab_median "$work/runs.tsv" "$b" 4 | cut -d' ' -f1)" \
    "client CPU s $(ab_median "$work/runs.tsv" "$b" 5 | cut -d' ' -f1)" \
    "broker CPU s $(ab_median "$work/runs.tsv" "$b" 6 | cut -d' ' -f1)"
done
rm -rf "$work/data"
echo "work dir: $work"
