#!/usr/bin/env bash
# Replay A/B: writes HISTORY_MIB of 1 KiB records once (relaxed flush, as perf/compare's
# workload 3), then times `sluice perf consume` from the first offset with each given bin
# directory in turn (A B A B ...), each with its own sluiced on the same data directory.
#   perf/replay_ab.sh [--history-mib N] [--runs N] [--keep DIR] [--consumers N] BIN_DIR...
# --consumers N: N consumers at once (workload 4, fan-out); MB/s is then their aggregate (all
# bytes over the slowest one's time) and CPU the sum of theirs.
# Prints one line per run: bin dir, run, MB/s (10^6 bytes of values per second, as
# perf/compare reports it), CPU seconds (user + system) of the consuming process; then the
# medians per bin dir.
set -euo pipefail
history_mib=1024; runs=3; work=""; consumers=1
while [ $# -gt 0 ]; do
  case $1 in
    --history-mib) history_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) work=$2; shift 2 ;;
    --consumers) consumers=$2; shift 2 ;;
    *) break ;;
  esac
done
bins=("$@")
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--history-mib N] [--runs N] BIN_DIR..." >&2; exit 2; }
work=${work:-$(mktemp -d /tmp/replay-ab.XXXXXX)}
mkdir -p "$work"
. "$(dirname "$0")/ab_broker.sh"
trap ab_cleanup EXIT
start() { ab_start "$1"; }
stop() { ab_stop; }

if [ ! -e "$work/written" ]; then
  start "${bins[0]}"
  "${bins[0]}/sluice" topic create history --brokers "127.0.0.1:$port" --partitions 1 \
    --config flush=interval:1000 >/dev/null
  "${bins[0]}/sluice" perf produce --brokers "127.0.0.1:$port" --topic history \
    --record-size 1024 --num-records $(( (history_mib << 20) / 1024 )) --acks 1 --linger-ms 5 \
    --batch-size 65536 --compression none --json >"$work/produce.json"
  stop
  touch "$work/written"
fi

for i in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    start "$b"
    readers=()
    for c in $(seq "$consumers"); do
      /usr/bin/time -f "%U %S" -o "$work/cpu.$c" "$b/sluice" perf consume \
        --brokers "127.0.0.1:$port" --topic history --json >"$work/consume.$c" 2>/dev/null &
      readers+=($!)
    done
    wait "${readers[@]}"
    mbps=$(jq -s '(map(.bytes) | add) / (map(.seconds) | max) / 1e6 | floor' "$work"/consume.*)
    cpu=$(cat "$work"/cpu.* | awk '{s += $1 + $2} END {print s}')
    rm -f "$work"/consume.* "$work"/cpu.*
    stop
    echo "$b $i $mbps $cpu" | tee -a "$work/runs.txt"
  done
done
for b in "${bins[@]}"; do
  read -r mbps n < <(ab_median "$work/runs.txt" "$b" 3)
  read -r cpu _ < <(ab_median "$work/runs.txt" "$b" 4)
  echo "median $b $mbps MB/s ($n runs)"
  echo "median $b $cpu s consumer CPU"
done
echo "work dir: $work"
