#!/usr/bin/python3
"""perf/compare's report: reads the run's meta.json and raw.jsonl (one JSON line per measured
run, from the drivers, `sluice perf --json` and `sluice-bench fsync --json`, tagged by
perf/compare with workload, system, durability, record_size, rate and run) and writes into OUT:
results.json (every run and every aggregated figure), report.md, and PNG charts drawn by gnuplot.

Every figure is the median of the runs with min-max; MB = 10^6 bytes of record values.
Standard library only (Debian's /usr/bin/python3).

usage: report.py META RAW OUT
"""
import json
import os
import statistics
import subprocess
import sys

SYSTEMS = ["sluice", "redis", "nats"]
PEERS = ["redis", "nats"]
NAMES = {"sluice": "Sluice", "redis": "Redis Streams", "nats": "NATS JetStream"}


def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


def mbps(r):
    return r["bytes"] / r["seconds"] / 1e6 if r.get("seconds") else None


def fmt(s, digits=0, unit=""):
    if s is None:
        return "—"
    f = "{:,.%df}" % digits
    txt = f.format(s["median"]).replace(",", " ")
    if s["runs"] > 1:
        txt += " (" + f.format(s["min"]).replace(",", " ") + "–" + \
            f.format(s["max"]).replace(",", " ") + ")"
    return txt + unit


def ratio_txt(r, target=None):
    """Two decimals, or three where two would print the target for a figure on either side of
    it (0.499 against a 0.5 bar must not read as 0.50, not met)."""
    if r is None:
        return "—"
    if r < 0.1:
        return "%.2g" % r
    if target is not None and r != target and round(r, 2) == target:
        return "%.3f" % r
    return "%.2f" % r


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def latency_rows(select, fsync, workload):
    """Workload 2 at each rate and durability: per system the achieved rate and the latency
    percentiles of `workload` runs ("latency": send to ack, "e2e": send to a live consumer's
    receipt), with Sluice's p99 against the best peer's and, when durable, the fdatasync p99."""
    latency = []
    rates = sorted({r["rate"] for r in select(workload=workload)})
    for dur in ["durable", "relaxed"]:
        for rate in rates:
            row = {"durability": dur, "rate": rate, "systems": {}}
            for s in SYSTEMS:
                rs = select(workload=workload, system=s, durability=dur, rate=rate)
                if not rs:
                    continue
                row["systems"][s] = {
                    "achieved_msgs_s": stat([r["records_per_sec"] for r in rs]),
                    **{k: stat([r["latency_%s_ms" % k] for r in rs])
                       for k in ["p50", "p99", "p999", "max"]}}
            sl = row["systems"].get("sluice")
            peers = [row["systems"][p]["p99"]["median"] for p in PEERS
                     if p in row["systems"] and row["systems"][p]["p99"]]
            best = min(peers) if peers else None
            row["best_peer_p99_ms"] = best
            if sl and sl["p99"] and best:
                row["sluice_p99_over_best_peer"] = sl["p99"]["median"] / best
                row["target_p99_le_peer_met"] = sl["p99"]["median"] <= best
            if dur == "durable" and sl and sl["p99"] and fsync["p99"]:
                row["sluice_p99_over_fdatasync_p99"] = sl["p99"]["median"] / fsync["p99"]["median"]
                row["target_2x_fdatasync_met"] = row["sluice_p99_over_fdatasync_p99"] <= 2
            latency.append(row)
    return latency


def main():
    meta_path, raw_path, out = sys.argv[1:4]
    with open(meta_path) as f:
        meta = json.load(f)
    runs = []
    with open(raw_path) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    ok_runs = [r for r in runs if not r.get("error")]
    failed = [r for r in runs if r.get("error")]

    def select(**kw):
        return [r for r in ok_runs if all(r.get(k) == v for k, v in kw.items())]

    figures = {}

    # Limits.
    # The disk's limit is the faster of two ways to it: through the page cache (which on this
    # VM also measures how fast the host backs fresh pages) or around it (O_DIRECT).
    disk_buffered = stat([mbps(r) for r in select(workload="limit-disk")])
    disk_direct = stat([mbps(r) for r in select(workload="limit-disk-direct")])
    disk = max([d for d in (disk_buffered, disk_direct) if d],
               key=lambda d: d["median"], default=disk_buffered)
    fsync = {k: stat([r["fsync_%s_us" % k] / 1000 for r in select(workload="limit-fsync")])
             for k in ["p50", "p99", "p999", "max"]}
    tcp = stat([mbps(r) for r in select(workload="limit-tcp")])
    figures["limits"] = {"disk_seq_write_mb_s": disk, "disk_buffered_mb_s": disk_buffered,
                         "disk_direct_mb_s": disk_direct, "fdatasync_ms": fsync,
                         "loopback_tcp_mb_s": tcp}

    # Workload 1: produce throughput.
    produce = []
    for dur in ["durable", "relaxed"]:
        for size in [100, 1024]:
            row = {"durability": dur, "record_size": size, "systems": {}}
            for s in SYSTEMS:
                rs = select(workload="produce", system=s, durability=dur, record_size=size)
                if not rs:
                    continue
                row["systems"][s] = {"mb_s": stat([mbps(r) for r in rs]),
                                     "msgs_s": stat([r["records_per_sec"] for r in rs]),
                                     "failed": sum(r.get("failed", 0) for r in rs)}
            sl = row["systems"].get("sluice")
            peers = [row["systems"][p]["mb_s"]["median"] for p in PEERS if p in row["systems"]]
            best = max(peers) if peers else None
            row["best_peer_mb_s"] = best
            row["sluice_over_best_peer"] = sl["mb_s"]["median"] / best if sl and best else None
            row["target_2x_peer_met"] = (row["sluice_over_best_peer"] >= 2
                                         if row["sluice_over_best_peer"] is not None else None)
            if dur == "durable" and sl and disk:
                row["sluice_over_disk"] = sl["mb_s"]["median"] / disk["median"]
                row["target_0_6_disk_met"] = row["sluice_over_disk"] >= 0.6
            produce.append(row)
    figures["produce"] = produce

    # Workload 2: ack and end-to-end latency at a fixed rate.
    figures["latency"] = latency_rows(select, fsync, "latency")
    figures["e2e"] = latency_rows(select, fsync, "e2e")

    # Workloads 3 and 4: replay, one consumer and four at once (aggregate MB/s: all bytes over
    # the slowest consumer's time).
    replay = {"systems": {}}
    fanout = {"systems": {}}
    for s in SYSTEMS:
        rs = select(workload="replay", system=s)
        if rs:
            replay["systems"][s] = {"mb_s": stat([mbps(r) for r in rs]),
                                    "msgs_s": stat([r["records_per_sec"] for r in rs]),
                                    "mib_read": statistics.median(r["bytes"] for r in rs) / 2**20}
        agg = []
        for run in sorted({r["run"] for r in ok_runs if r["workload"].startswith("fanout-")}):
            rs = [r for r in ok_runs if r["workload"].startswith("fanout-") and r["system"] == s
                  and r["run"] == run]
            if len(rs) == 4:
                agg.append(sum(r["bytes"] for r in rs) / max(r["seconds"] for r in rs) / 1e6)
        if agg:
            fanout["systems"][s] = {"aggregate_mb_s": stat(agg)}
    for fig, key in [(replay, "mb_s"), (fanout, "aggregate_mb_s")]:
        sl = fig["systems"].get("sluice")
        peers = [fig["systems"][p][key]["median"] for p in PEERS if p in fig["systems"]]
        best = max(peers) if peers else None
        fig["best_peer_mb_s"] = best
        fig["sluice_over_best_peer"] = sl[key]["median"] / best if sl and best else None
        fig["target_2x_peer_met"] = (fig["sluice_over_best_peer"] >= 2
                                     if fig["sluice_over_best_peer"] is not None else None)
        if sl and tcp:
            fig["sluice_over_tcp"] = sl[key]["median"] / tcp["median"]
    replay["target_0_5_tcp_met"] = (replay["sluice_over_tcp"] >= 0.5
                                    if "sluice_over_tcp" in replay else None)
    figures["replay"] = replay
    figures["fanout"] = fanout
    history = {s: {"mb_s": stat([mbps(r) for r in select(workload="history", system=s)])}
               for s in SYSTEMS if select(workload="history", system=s)}
    figures["history_load"] = history
    parts = []
    for dur in ["durable", "relaxed"]:
        row = {"durability": dur, "systems": {}}
        for s in SYSTEMS:
            rs = select(workload="partitions", system=s, durability=dur)
            if rs:
                rss = [r["rss_hwm_kib"] / 1024 for r in select(workload="rss", system=s,
                                                               durability="partitions-" + dur)]
                row["systems"][s] = {"msgs_s": stat([r["records_per_sec"] for r in rs]),
                                     "mb_s": stat([mbps(r) for r in rs]),
                                     "rss_hwm_mib": rss[0] if rss else None}
        one = select(workload="keyed-1", system="sluice", durability=dur)
        row["sluice_keyed_1_partition_msgs_s"] = stat([r["records_per_sec"] for r in one])
        sl = row["systems"].get("sluice")
        if sl and one:
            row["sluice_over_1_partition"] = (sl["msgs_s"]["median"]
                                              / row["sluice_keyed_1_partition_msgs_s"]["median"])
            row["target_0_5_met"] = row["sluice_over_1_partition"] >= 0.5
        peers = [row["systems"][p]["msgs_s"]["median"] for p in PEERS if p in row["systems"]]
        best = max(peers) if peers else None
        row["sluice_over_best_peer"] = sl["msgs_s"]["median"] / best if sl and best else None
        row["target_2x_peer_met"] = (row["sluice_over_best_peer"] >= 2
                                     if row["sluice_over_best_peer"] is not None else None)
        if row["systems"]:
            parts.append(row)
    figures["partitions"] = parts
    figures["rss_hwm_mib"] = [{"system": r["system"], "phase": r["durability"],
                               "mib": r["rss_hwm_kib"] / 1024} for r in select(workload="rss")]

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "figures": figures, "runs": runs}, f, indent=1)
    charts = draw_charts(out, figures, meta)
    write_report(out, meta, dict(figures, _runs=ok_runs), failed, charts)


def gnuplot(out, name, script, data):
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        f.write(data)
    full = ('set terminal pngcairo size 1000,520 font "sans,10" background "white"\n'
            'set output "%s"\nset datafile missing "?"\nset key outside right top\n'
            'set style fill solid 0.8 border -1\nset grid ytics\n' % os.path.join(out, name + ".png")
            + script.replace("DATA", "\"%s\"" % dat))
    try:
        subprocess.run(["gnuplot"], input=full.encode(), check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed for %s: %s" % (name, getattr(e, "stderr", e)),
              file=sys.stderr)
        return None
    finally:
        os.remove(dat)
    return name + ".png"


def bar_rows(rows):
    """rows: [(label, [stat or None per series])] -> gnuplot data: label m1 lo1 hi1 m2 ..."""
    lines = []
    for label, stats in rows:
        cells = ['"%s"' % label]
        for s in stats:
            cells += ["?", "?", "?"] if s is None else \
                ["%.3f" % s["median"], "%.3f" % s["min"], "%.3f" % s["max"]]
        lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


def bar_chart(out, name, title, ylabel, series, rows, logscale=False):
    """A clustered bar chart, one cluster per row, one bar (median, min-max) per series;
    series without any figure are left out."""
    keep = [i for i in range(len(series)) if any(r[1][i] is not None for r in rows)]
    if not keep or keep == [len(series) - 1]:  # nothing but the limit
        return None
    series = [series[i] for i in keep]
    rows = [(label, [stats[i] for i in keep]) for label, stats in rows]
    plots = []
    for i, sname in enumerate(series):
        c = 2 + 3 * i
        plots.append('DATA using %d:%d:%d:xtic(1) title "%s"' % (c, c + 1, c + 2, sname))
    script = ('set title "%s"\nset ylabel "%s"\n%sset yrange [%s:*]\n'
              'set style data histogram\nset style histogram errorbars gap 2 lw 1\n'
              'set xtics nomirror rotate by -25\nset bmargin 5\nplot '
              % (title, ylabel, "set logscale y\n" if logscale else "",
                 "0.01" if logscale else "0") + ", ".join(plots) + "\n")
    return gnuplot(out, name, script, bar_rows(rows))


def draw_charts(out, figures, meta):
    charts = {}
    lim = figures["limits"]
    rows = []
    for row in figures["produce"]:
        label = "%s, %s B" % (row["durability"], row["record_size"])
        rows.append((label, [row["systems"].get(s, {}).get("mb_s") for s in SYSTEMS]
                     + [lim["disk_seq_write_mb_s"] if row["durability"] == "durable" else None]))
    charts["produce"] = bar_chart(
        out, "produce_throughput", "Produce throughput, 1 partition/stream (median, min-max)",
        "MB/s of record values", [NAMES[s] for s in SYSTEMS] + ["disk seq. write limit"], rows)
    for key, what in [("latency", "Ack latency"), ("e2e", "End-to-end latency")]:
        for dur in ["durable", "relaxed"]:
            rows = []
            for row in figures[key]:
                if row["durability"] != dur:
                    continue
                for k, label in [("p50", "p50"), ("p99", "p99"), ("p999", "p99.9"),
                                 ("max", "max")]:
                    rows.append(("%gk/s %s" % (row["rate"] / 1000, label),
                                 [row["systems"].get(s, {}).get(k) for s in SYSTEMS]
                                 + [lim["fdatasync_ms"].get(k) if dur == "durable" else None]))
            if rows:
                charts[key + "_" + dur] = bar_chart(
                    out, key + "_" + dur,
                    "%s at a fixed rate, 1 KiB records, %s (median, min-max)" % (what, dur),
                    "ms (log scale)", [NAMES[s] for s in SYSTEMS] + ["fdatasync of 4 KiB"], rows,
                    logscale=True)
    rows = [("replay, 1 consumer", [figures["replay"]["systems"].get(s, {}).get("mb_s")
                                    for s in SYSTEMS] + [lim["loopback_tcp_mb_s"]]),
            ("fan-out, 4 consumers", [figures["fanout"]["systems"].get(s, {}).get("aggregate_mb_s")
                                      for s in SYSTEMS] + [lim["loopback_tcp_mb_s"]])]
    charts["replay"] = bar_chart(
        out, "replay",
        "Replay of %d MiB of history from the first offset (median, min-max)" % meta["history_mib"],
        "MB/s of record values", [NAMES[s] for s in SYSTEMS] + ["loopback TCP limit"], rows)
    return charts


def latency_section(w, rows, charts, key, title, explanation, show_rate=True):
    """Writes workload 2's table for `rows` (latency_rows) under `title`; nothing when empty.
    Without `show_rate`, no achieved-rate column (an e2e run's time includes its consumer's
    start and drain, so its records per second understate the rate sent)."""
    if not rows:
        return
    w(title)
    for dur in ["durable", "relaxed"]:
        if charts.get(key + "_" + dur):
            w("![%s %s](%s)\n" % (key, dur, charts[key + "_" + dur]))
    w(explanation)
    rate_head = " achieved msgs/s |" if show_rate else ""
    w("| durability | rate | system |%s p50 | p99 | p99.9 | max |" % rate_head)
    w("| --- | --- | --- |%s --- | --- | --- | --- |" % (" --- |" if show_rate else ""))
    for row in rows:
        for s in SYSTEMS:
            if s not in row["systems"]:
                if s == "nats" and row["durability"] == "durable":
                    w("| %s | %d/s | %s | not comparable (no fsync before ack) | | | |%s"
                      % (row["durability"], row["rate"], NAMES[s], " |" if show_rate else ""))
                continue
            x = row["systems"][s]
            rate_cell = ""
            if show_rate:
                behind = (x["achieved_msgs_s"]
                          and x["achieved_msgs_s"]["median"] < 0.95 * row["rate"])
                rate_cell = " %s%s |" % (fmt(x["achieved_msgs_s"]),
                                         " **(fell behind the rate)**" if behind else "")
            w("| %s | %d/s | %s |%s %s | %s | %s | %s |" % (
                row["durability"], row["rate"], NAMES[s], rate_cell,
                fmt(x["p50"], 2), fmt(x["p99"], 2), fmt(x["p999"], 2), fmt(x["max"], 2)))
    w("\n| durability | rate | Sluice p99 / best peer p99 | target p99 ≤ best peer | Sluice p99 / "
      "fdatasync p99 | target ≤ 2 (durable) |\n| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        w("| %s | %d/s | %s | %s | %s | %s |" % (
            row["durability"], row["rate"], ratio_txt(row.get("sluice_p99_over_best_peer"), 1),
            verdict(row.get("target_p99_le_peer_met")),
            ratio_txt(row.get("sluice_p99_over_fdatasync_p99"), 2),
            verdict(row.get("target_2x_fdatasync_met"))))
    w("")


def write_report(out, meta, fig, failed, charts):
    lim = fig["limits"]
    L = []
    w = L.append
    w("# Sluice against Redis Streams and NATS JetStream (%s)\n" % meta["started"][:10])
    if meta["quick"]:
        w("**Quick smoke run (`--quick`): one short run per figure; the figures mean nothing.**\n")
    w("Command: `%s` (commit %s), %s to %s. Machine: %d CPUs (idle: %s), kernel %s, data "
      "directories on %s. Every figure is the median of %d runs, min–max in parentheses; MB = "
      "10^6 bytes of record values (keys, ids and headers not counted). Ratios compare medians "
      "measured in this same run. Raw runs: `raw.jsonl`; every figure: `results.json`.\n"
      % (meta["command"].strip(), meta["commit"], meta["started"], meta["finished"], meta["nproc"],
         meta.get("cpuidle", "not recorded"), meta["kernel"], meta["filesystem"], meta["repeat"]))
    loads = [r["load1"] for r in fig.get("_runs", []) if "load1" in r]
    if meta.get("only") and meta["only"] != "limits,throughput,partitions,replay":
        w("Parts run: %s (`--only`); the other workloads are not in this report.\n"
          % meta["only"])
    w("The machine is shared with other work, so figures are noisy; every system ran "
      "interleaved with the others, run by run. 1-minute load average at the start of the runs "
      "(2 CPUs): median %s, min %s, max %s (per run in `raw.jsonl`).\n"
      % ((statistics.median(loads), min(loads), max(loads)) if loads else ("?", "?", "?")))
    w("## Systems and settings\n")
    w("| | Sluice | Redis Streams | NATS JetStream |\n| --- | --- | --- | --- |")
    w("| version | this commit, Release build | %s | %s |"
      % (meta["redis_version"].split(" sha")[0], meta["nats_version"]))
    w("| client | `sluice perf produce/consume` (producer and consumer libraries) | "
      "`sluice-compare-redis` (hiredis) | `sluice-compare-nats` (cnats, libnats) |")
    w("| log | topic, 1 partition | stream (one key), `XADD key * v <value>` | stream on one "
      "subject, file storage, 1 replica |")
    w("| durable | `flush=always` (fdatasync before the ack) | `appendonly yes`, "
      "`appendfsync always` | %s |"
      % ("`sync_interval: always`" if meta["nats_durable_supported"] else
         "**not available**: %s rejects `sync_interval` (a 2.10 option), so JetStream is not "
         "compared under durable settings" % meta["nats_version"]))
    w("| relaxed | `flush=interval:1000` (ack from the page cache, fdatasync every 1 s) | "
      "`appendfsync everysec` | the default (ack after the write to the file; 2.9 syncs "
      "every 2 minutes) |")
    w("| pipelining (throughput) | `--acks 1 --linger-ms 5 --batch-size 204800 --max-in-flight 5 "
      "--compression none`, idempotent producer, 5 requests in flight (one batch of a partition each: up to "
      "1 000 KiB unacknowledged) | up to 1 MiB of XADDs unanswered | up to 1 MiB of "
      "`js_PublishAsync` unacknowledged |")
    w("| fixed rate (latency) | `--throughput R --linger-ms 0` | R/s, up to 65536 unanswered | "
      "R/s, up to 65536 unacknowledged |")
    w("| end to end | `sluice perf e2e`, the same producer settings, a consumer in the same "
      "process | the same XADDs, `XREAD BLOCK` on a second connection | the same publishes, "
      "an ephemeral push consumer (deliver all, ack none) on a second connection |")
    w("| replay | `sluice perf consume` from the first offset | `XRANGE` of 10 000 entries at a "
      "time | ephemeral pull consumer, deliver all, ack none, `Fetch` of 1 000 |")
    w("| server | `sluiced` (one shard per core) | `redis-server` (`--save ''`, AOF rewrite off) "
      "| `nats-server -js` |")
    w("")
    w("Each server runs on 127.0.0.1 with its own fresh data directory on the same filesystem; "
      "each run uses a fresh topic/stream, deleted afterwards. Durations: produce %d s per run, "
      "fixed-rate %d s per run; history %d MiB of 1 KiB records (written with relaxed settings, "
      "read back from a warm page cache: each system's data files are read once just before "
      "each replay run, because this machine's kernel pages out what went unread for about a "
      "minute).\n"
      % (meta["produce_seconds"], meta["latency_seconds"], meta["history_mib"]))

    w("## Limits of this machine (same run)\n")
    w("| limit | how | figure |\n| --- | --- | --- |")
    w("| disk sequential write | %d MiB in 1 MiB `pwrite`s + one `fdatasync`, through the page "
      "cache / with `O_DIRECT`; the limit is the faster (on this VM the first is also the pace "
      "at which the host backs fresh pages) | %s / %s; limit %s MB/s |"
      % (meta["disk_mib"], fmt(lim.get("disk_buffered_mb_s")), fmt(lim.get("disk_direct_mb_s")),
         fmt(lim["disk_seq_write_mb_s"])))
    fs = lim["fdatasync_ms"]
    w("| fdatasync latency | 4 KiB `pwrite` + `fdatasync`, back to back, %d s (`sluice-bench "
      "fsync`) | p50 %s, p99 %s, p99.9 %s, max %s ms |"
      % (meta["fsync_seconds"], fmt(fs["p50"], 3), fmt(fs["p99"], 3), fmt(fs["p999"], 3),
         fmt(fs["max"], 3)))
    w("| loopback TCP | two processes, 1 MiB writes, %d s | %s MB/s |\n"
      % (meta["tcp_seconds"], fmt(lim["loopback_tcp_mb_s"])))

    mark = len(L)  # each workload section is dropped again when it has no figures
    w("## 1. Produce throughput (one partition / stream, pipelined)\n")
    if charts.get("produce"):
        w("![produce throughput](%s)\n" % charts["produce"])
    w("| durability | record | Sluice MB/s | Sluice msgs/s | Redis MB/s | NATS MB/s | Sluice / "
      "best peer | Sluice / disk | targets (≥ 2× peer; durable ≥ 0.6 disk) |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in fig["produce"]:
        sy = row["systems"]
        nats = fmt(sy["nats"]["mb_s"], 1) if "nats" in sy else (
            "not comparable" if row["durability"] == "durable" else "—")
        w("| %s | %d B | %s | %s | %s | %s | %s | %s | %s%s |" % (
            row["durability"], row["record_size"], fmt(sy.get("sluice", {}).get("mb_s"), 1),
            fmt(sy.get("sluice", {}).get("msgs_s")), fmt(sy.get("redis", {}).get("mb_s"), 1), nats,
            ratio_txt(row["sluice_over_best_peer"], 2), ratio_txt(row.get("sluice_over_disk"), 0.6),
            verdict(row["target_2x_peer_met"]),
            ("; " + verdict(row["target_0_6_disk_met"])) if "target_0_6_disk_met" in row else ""))
    w("\nRedis fsyncs once per event-loop iteration under `appendfsync always`, and it reads at "
      "most 16 KiB of one client's commands per iteration, so a single pipelining connection gets "
      "few XADDs per fsync (more connections would share them; not measured here).")
    w("\nmsgs/s of the peers: " + "; ".join(
        "%s %s B %s: %s" % (NAMES[s], row["record_size"], row["durability"],
                            fmt(row["systems"][s]["msgs_s"]))
        for row in fig["produce"] for s in PEERS if s in row["systems"]) + ".\n")

    if not any(row["systems"] for row in fig["produce"]):
        del L[mark:]
    latency_section(w, fig["latency"], charts, "latency",
                    "## 2. Ack latency at a fixed rate (1 KiB records)\n",
                    "Latency from the client's send call to the acknowledgement (Sluice: `send()` "
                    "to the callback; Redis: writing the XADD to reading its reply; NATS: "
                    "`js_PublishAsync` to the PubAck). In ms.\n")
    latency_section(w, fig["e2e"], charts, "e2e",
                    "## 2, end to end. Latency from producer to a live consumer (1 KiB records)\n",
                    "The fixed-rate producer above with a consumer reading the same log as it "
                    "grows, in the same process; latency from the send call to the consumer's "
                    "receipt, by the send time stamped into each value (Sluice: `sluice perf "
                    "e2e`, its consumer long-polling Fetch; Redis: `XREAD BLOCK` on a second "
                    "connection; NATS: an ephemeral push consumer, no acks, on a second "
                    "connection). Under durable settings Sluice's consumer sees a record only once "
                    "it is durable (below the high watermark). The rate each system kept is "
                    "in the ack-latency table above. In ms.\n", show_rate=False)
    mark = len(L)
    w("## 3 and 4. Replay from the first offset, one consumer and four at once\n")
    if charts.get("replay"):
        w("![replay](%s)\n" % charts["replay"])
    rp, fo = fig["replay"], fig["fanout"]
    w("| | Sluice | Redis | NATS | Sluice / best peer | Sluice / loopback TCP | targets |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    w("| replay, 1 consumer, MB/s | %s | %s | %s | %s | %s | ≥ 2× peer: %s; ≥ 0.5 TCP: %s |" % (
        *[fmt(rp["systems"].get(s, {}).get("mb_s")) for s in SYSTEMS],
        ratio_txt(rp["sluice_over_best_peer"], 2), ratio_txt(rp.get("sluice_over_tcp"), 0.5),
        verdict(rp["target_2x_peer_met"]), verdict(rp["target_0_5_tcp_met"])))
    w("| fan-out, 4 consumers, aggregate MB/s | %s | %s | %s | %s | %s | ≥ 2× peer: %s |" % (
        *[fmt(fo["systems"].get(s, {}).get("aggregate_mb_s")) for s in SYSTEMS],
        ratio_txt(fo["sluice_over_best_peer"], 2), ratio_txt(fo.get("sluice_over_tcp")),
        verdict(fo["target_2x_peer_met"])))
    w("\nFan-out aggregate: all bytes read by the four consumers over the slowest one's time "
      "(four connections, so it can exceed the single-connection loopback TCP figure). "
      "Writing the history (%d MiB, relaxed, count-bound, one run): %s.\n" % (
          meta["history_mib"], "; ".join("%s %s MB/s" % (NAMES[s], fmt(v["mb_s"]))
                                         for s, v in fig["history_load"].items())))
    w("Server memory, peak RSS (VmHWM) per phase: " + "; ".join(
        "%s %s %.0f MiB" % (NAMES[r["system"]], r["phase"], r["mib"])
        for r in fig["rss_hwm_mib"]) + ".\n")

    if not fig["replay"]["systems"]:
        del L[mark:]
    mark = len(L)
    w("## 5. %d partitions, one producer spreading keys (1 KiB records)\n" % meta["partitions"])
    if meta.get("partitions_warmup"):
        w("Each measured run follows an unmeasured warm-up run of the same length on the same "
          "fresh topic/streams (the first writes to new partitions fault in their index pages, "
          "a one-time cost).\n")
    w("One producer, record n keyed `k<n mod %d>`: Sluice a topic of %d partitions "
      "(`sluice-compare-sluice`, the producer library with the throughput settings above; "
      "murmur2 of the key picks the partition); Redis and NATS %d streams, record n to stream "
      "n mod %d. Fresh servers for this workload; RSS is the server's peak (VmHWM) over it. "
      "The Sluice reference is the same keyed producer against a 1-partition topic, same run.\n"
      % ((meta["partitions"],) * 4))
    w("| durability | Sluice msgs/s | Sluice 1 partition msgs/s | Redis msgs/s | NATS msgs/s | "
      "Sluice / 1 partition (target ≥ 0.5) | Sluice / best peer (target ≥ 2) | peak RSS Sluice / "
      "Redis / NATS MiB |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in fig["partitions"]:
        sy = row["systems"]
        w("| %s | %s | %s | %s | %s | %s %s | %s %s | %s |" % (
            row["durability"], fmt(sy.get("sluice", {}).get("msgs_s")),
            fmt(row["sluice_keyed_1_partition_msgs_s"]), fmt(sy.get("redis", {}).get("msgs_s")),
            fmt(sy["nats"]["msgs_s"]) if "nats" in sy else "not comparable",
            ratio_txt(row.get("sluice_over_1_partition"), 0.5), verdict(row.get("target_0_5_met")),
            ratio_txt(row["sluice_over_best_peer"], 2), verdict(row["target_2x_peer_met"]),
            " / ".join("%.0f" % sy[s]["rss_hwm_mib"] if s in sy and sy[s]["rss_hwm_mib"]
                       else "—" for s in SYSTEMS)))
    w("")

    if not fig["partitions"]:
        del L[mark:]
    w("## Not measured yet\n")
    w("- NATS JetStream under durable settings (not available in the Debian 12 package).")
    if failed:
        w("\n**Failed runs** (left out of the figures): " + "; ".join(
            "%s %s %s %s B rate %s run %s" % (r.get("workload"), r.get("system"),
                                               r.get("durability"), r.get("record_size"),
                                               r.get("rate"), r.get("run")) for r in failed))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
