# Sourced by the A/B scripts (replay_ab.sh, latency_ab.sh, partitions_ab.sh): start and stop
# one sluiced on a loopback port of its choosing, with its data and log in the caller's $work
# directory.
# After ab_start BIN_DIR: $pid is the broker's, $port its port. ab_stop waits for it to exit.
pid=""
ab_start() {  # BIN_DIR
  rm -f "$work/ready"
  "$1/sluiced" --data-dir "$work/data" --host 127.0.0.1 --port 0 --ready-file "$work/ready" \
    >>"$work/sluiced.log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do [ -s "$work/ready" ] && break; sleep 0.05; done
  port=$(cat "$work/ready")
}
ab_stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# "MEDIAN N": the median of column COL over the lines of FILE whose first field is BIN_DIR, and
# how many there were.
ab_median() {  # FILE BIN_DIR COL
  awk -v b="$2" -v c="$3" '$1 == b {print $c}' "$1" | sort -g |
    awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], NR}'
}
ab_cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true; }
