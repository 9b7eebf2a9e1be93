#!/usr/bin/env bash
# Workload 5 A/B (many partitions, relaxed flush): for each run and each given bin directory in
# turn (A B A B ...), a fresh sluiced on an empty data directory, a topic of PARTITIONS
# partitions with flush=interval:1000, a warm-up produce of WARMUP seconds, then the measured
# produce of SECONDS (`sluice-compare-sluice produce`, 1 KiB records keyed over the partitions,
# as perf/compare's workload 5).
#   perf/partitions_ab.sh [--runs N] [--partitions N] [--seconds S] [--warmup S] [--perf-stat]
#                         BIN_DIR...
# Each BIN_DIR needs sluiced, sluice and sluice-compare-sluice. --perf-stat also counts the
# broker's pwritev calls and io_uring submissions during the measured produce (needs `perf`).
# Prints one line per run: bin dir, run, records/s, broker CPU seconds during the measured
# produce, load average; then the median per bin dir.
set -euo pipefail
runs=3; partitions=1000; seconds=6; warmup=6; perf_stat=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --perf-stat) perf_stat=1; shift ;;
    *) break ;;
  esac
done
bins=("$@")
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--runs N] [--partitions N] BIN_DIR..." >&2; exit 2; }
work=$(mktemp -d /tmp/partitions-ab.XXXXXX)
. "$(dirname "$0")/ab_broker.sh"
trap 'ab_cleanup; rm -rf "$work"' EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
produce() {  # BIN_DIR SECONDS
  "$1/sluice-compare-sluice" produce --port "$port" --topic w5 --record-size 1024 \
    --seconds "$2" --keys "$partitions"
}

for i in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    rm -rf "$work/data"
    ab_start "$b"
    "$b/sluice" --brokers "127.0.0.1:$port" topic create w5 --partitions "$partitions" \
      --config flush=interval:1000 >/dev/null
    produce "$b" "$warmup" >/dev/null
    c0=$(cpu_ticks "$pid")
    counts=""
    if [ "$perf_stat" = 1 ]; then
      perf stat -x, -e syscalls:sys_enter_pwritev,io_uring:io_uring_submit_req -p "$pid" \
        -o "$work/stat" 2>/dev/null &
      stat_pid=$!
    fi
    out=$(produce "$b" "$seconds")
    if [ "$perf_stat" = 1 ]; then
      kill -INT "$stat_pid"; wait "$stat_pid" 2>/dev/null || true
      counts=" pwritev,uring_submits=$(cut -d, -f1 "$work/stat" | grep -E '^[0-9]+$' | paste -sd,)"
    fi
    c1=$(cpu_ticks "$pid")
    ab_stop
    rate=$(echo "$out" | jq -r '.records_per_sec | floor')
    cpu=$(echo "$c0 $c1 $(getconf CLK_TCK)" | awk '{printf "%.2f", ($2 - $1) / $3}')
    echo "$b $i $rate $cpu load=$(cut -d' ' -f1 /proc/loadavg)$counts" | tee -a "$work/runs.txt"
  done
done
for b in "${bins[@]}"; do
  read -r rate n < <(ab_median "$work/runs.txt" "$b" 3)
  echo "median $b $rate records/s ($n runs)"
done
