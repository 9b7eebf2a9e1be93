#!/usr/bin/env bash
# The broker benchmarks behind perf/RESULTS.md ("Broker"), each measured in one run against the
# storage engine alone and the disk, on the same filesystem:
#   1. durable produce throughput through a real sluiced over loopback (`sluice perf produce`,
#      1 partition, acks=1, flush=always, 64 KiB batches) for 100-byte and 1 KiB records, next
#      to `sluice-bench append` with the same record and batch sizes (the storage engine alone,
#      with 8 appenders as in the storage issue and with 10, the producer's max_in_flight);
#   2. ack latency at a fixed 10 000 msgs/s (1 KiB records, linger 0) next to the disk's own
#      fdatasync latency (`sluice-bench fsync`).
# Usage: perf/run_broker_benchmarks.sh [BUILD_DIR] > results.txt   (REPEAT=3, SECONDS_PER_RUN=10)
set -euo pipefail
build=${1:-build}
repeat=${REPEAT:-3}
secs=${SECONDS_PER_RUN:-10}
bin=$build/bin
work=$(mktemp -d "${build}/broker-bench.XXXXXX")
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); nproc: $(nproc); kernel: $(uname -r)"
findmnt -no FSTYPE,OPTIONS -T "$work" || true

"$bin/sluiced" --data-dir "$work/data" --host 127.0.0.1 --port 0 --ready-file "$work/ready" \
  >"$work/sluiced.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
export SLUICE_BROKERS="127.0.0.1:$(cat "$work/ready")"

run() {  # prints the command and its JSON line
  echo "\$ $* (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" 2>/dev/null | tail -n 1
}

broker_produce() {  # SIZE TOPIC
  run "$bin/sluice" perf produce --topic "$2" --record-size "$1" --duration "$secs" \
    --acks 1 --linger-ms 5 --batch-size 65536 --compression none --json
}
# 8 appenders: the storage issue's configuration; 10: as many batches in flight as the
# producer keeps (max_in_flight 10, protocol/idempotent_window.h), the broker run's concurrency.
storage_append() {  # SIZE APPENDERS
  run "$bin/sluice-bench" append --record-size "$1" --batch-bytes 65536 \
    --appenders "$2" --flush always --seconds "$secs" --dir "$work" --no-baseline --json
}

# The disk runs slower for a while after a heavy write (its fdatasync p50 went from 0.8 to
# 2.3 ms for the run right after another), so each run starts after a pause, and the order of
# the three rotates from one repetition to the next.
n=0
for size in 100 1024; do
  for i in $(seq "$repeat"); do
    n=$((n + 1))
    "$bin/sluice" topic create "t$n" --partitions 1 --config flush=always >/dev/null
    for step in 0 1 2; do
      sleep 5
      case $(((step + i) % 3)) in
        0) broker_produce "$size" "t$n" ;;
        1) storage_append "$size" 8 ;;
        2) storage_append "$size" 10 ;;
      esac
    done
    "$bin/sluice" topic delete "t$n" >/dev/null
  done
done

for i in $(seq "$repeat"); do
  n=$((n + 1))
  "$bin/sluice" topic create "t$n" --partitions 1 --config flush=always >/dev/null
  run "$bin/sluice" perf produce --topic "t$n" --record-size 1024 --duration "$secs" \
    --throughput 10000 --acks 1 --linger-ms 0 --compression none --json
  run "$bin/sluice-bench" fsync --write-bytes 1024 --seconds "$secs" --dir "$work" --json
  "$bin/sluice" topic delete "t$n" >/dev/null
done
