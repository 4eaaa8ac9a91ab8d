#!/usr/bin/env python3
"""The `make soak` report (see docs/soak.md).

  report.py sanity WRK_OUTPUT        every request kind answered as it must (exit 1 otherwise)
  report.py report OUT_DIR [...]     reads OUT_DIR/wrk.txt and OUT_DIR/samples.tsv, writes OUT_DIR/results.json
                                     and OUT_DIR/results.md, prints the table; exit 1 when an answer was
                                     unexpected or memory grew over the last third of the run
"""

import argparse
import json
import re
import sys
from pathlib import Path

KINDS = [
    "openai", "openai_stream", "anthropic", "anthropic_stream", "gemini", "gemini_stream", "openrouter",
    "openrouter_stream", "unknown_model", "bad_request", "unreachable", "upstream_503", "stream_cut",
]
EXPECTED_FAILURE = {
    "unknown_model": "404 model_not_found",
    "bad_request": "400 (unknown role)",
    "unreachable": "502 (connection refused)",
    "upstream_503": "502 after one retry",
    "stream_cut": "200 + error event",
}
# Memory is "flat" when the fitted growth over the last third of the run stays under this share of the
# last third's mean RSS (or under FLAT_FLOOR_KB, whichever is larger: allocator noise on a small process).
FLAT_SHARE = 0.05
FLAT_FLOOR_KB = 2048


def wrk_summary(path):
    for line in Path(path).read_text(errors="replace").splitlines():
        if line.startswith("SOAK_JSON "):
            return json.loads(line[len("SOAK_JSON "):])
    sys.exit(f"soak: no SOAK_JSON line in {path}:\n" + Path(path).read_text(errors="replace")[-2000:])


def by_kind(outcomes):
    """{kind: {"ok": n, "expected": n, "unexpected": {"status|code": n}}}"""
    table = {k: {"ok": 0, "expected": 0, "unexpected": {}} for k in KINDS}
    for key, n in outcomes.items():
        kind, _, rest = key.partition("|")
        row = table.setdefault(kind, {"ok": 0, "expected": 0, "unexpected": {}})
        if rest in ("ok", "expected"):
            row[rest] += n
        else:
            what = rest.removeprefix("unexpected|")
            row["unexpected"][what] = row["unexpected"].get(what, 0) + n
    return table


def kinds_table(table):
    lines = ["| kind | must get | ok / as expected | unexpected |", "|---|---|---:|---|"]
    for kind, row in table.items():
        must = EXPECTED_FAILURE.get(kind, "200 (stream ends with [DONE])" if "stream" in kind else "200")
        bad = ", ".join(f"{n} × {what}" for what, n in sorted(row["unexpected"].items())) or "0"
        lines.append(f"| {kind} | {must} | {row['ok'] + row['expected']} | {bad} |")
    return "\n".join(lines)


def sanity(path):
    table = by_kind(wrk_summary(path)["outcomes"])
    print(kinds_table(table), file=sys.stderr)
    missing = [k for k, r in table.items() if r["ok"] + r["expected"] == 0]
    wrong = [k for k, r in table.items() if r["unexpected"]]
    if missing or wrong:
        print(f"soak: kinds never answered as expected: {missing}; kinds with unexpected answers: {wrong}",
              file=sys.stderr)
        return 1
    return 0


def seconds(duration):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", duration.strip())
    if not m:
        sys.exit(f"soak: cannot read the duration {duration!r} (use e.g. 90s, 10m, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def fit(points):
    """Least-squares slope (y per x) of [(x, y)]."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def report(args):
    out = Path(args.out)
    wrk = wrk_summary(out / "wrk.txt")
    rows = [line.split("\t") for line in (out / "samples.tsv").read_text().splitlines()[1:] if line.strip()]
    samples = [
        {"t": float(r[0]), "rss_kb": int(r[1]), "cpu_ticks": int(r[2]), "records": int(r[3])} for r in rows
    ]
    t0 = samples[0]["t"]
    run_s = seconds(args.duration)
    for prev, s in zip([None] + samples, samples):
        s["t_s"] = round(s["t"] - t0, 1)
        s["cpu_pct"] = None
        if prev is not None and s["t"] > prev["t"]:
            s["cpu_pct"] = round(100 * (s["cpu_ticks"] - prev["cpu_ticks"]) / args.clk_tck / (s["t"] - prev["t"]), 1)
    during = [s for s in samples if s["t_s"] <= run_s + args.sample_secs / 2]

    # Memory verdict: the slope of the last third of the run (the first third is warm-up: pools, caches).
    third = [s for s in during if s["t_s"] >= run_s * 2 / 3]
    middle = [s for s in during if run_s / 3 <= s["t_s"] < run_s * 2 / 3]
    memory = {"samples_last_third": len(third)}
    if len(third) >= 3:
        slope = fit([(s["t_s"], s["rss_kb"]) for s in third])  # kB per second
        span = third[-1]["t_s"] - third[0]["t_s"]
        mean_last = sum(s["rss_kb"] for s in third) / len(third)
        growth = slope * span
        allowed = max(FLAT_SHARE * mean_last, FLAT_FLOOR_KB)
        memory.update({
            "slope_kb_per_min": round(slope * 60, 1),
            "slope_mib_per_hour": round(slope * 3600 / 1024, 1),
            "growth_over_last_third_kb": round(growth),
            "allowed_kb": round(allowed),
            "mean_rss_kb_last_third": round(mean_last),
            "mean_rss_kb_middle_third": round(sum(s["rss_kb"] for s in middle) / len(middle)) if middle else None,
            "flat": growth <= allowed,
        })
        memory["verdict"] = (
            f"flat: {growth / 1024:+.1f} MiB fitted over the last third ({span:.0f} s), within "
            f"{allowed / 1024:.1f} MiB" if memory["flat"] else
            f"GROWING: {growth / 1024:+.1f} MiB fitted over the last third ({span:.0f} s), more than "
            f"{allowed / 1024:.1f} MiB ({memory['slope_mib_per_hour']} MiB/hour)"
        )
    else:
        memory["flat"] = None
        memory["verdict"] = (f"too short to judge: {len(third)} samples in the last third "
                             f"(run longer or sample more often)")

    table = by_kind(wrk["outcomes"])
    unexpected = sum(sum(r["unexpected"].values()) for r in table.values())
    socket_errors = wrk["errors_connect"] + wrk["errors_read"] + wrk["errors_write"] + wrk["errors_timeout"]
    answered = sum(r["ok"] + r["expected"] + sum(r["unexpected"].values()) for r in table.values())
    first_records = next((s["records"] for s in samples if s["records"] >= 0), 0)
    records = samples[-1]["records"] - first_records
    result = {
        "machine": args.machine,
        "duration": args.duration,
        "connections": args.connections,
        "pause_ms": args.pause_ms,
        "requests": wrk["requests"],
        "requests_per_s": round(wrk["requests"] * 1e6 / wrk["duration_us"], 1),
        "latency_ms": {k: round(wrk[f"{k}_us"] / 1000, 2) for k in ("p50", "p90", "p99", "max")},
        "socket_errors": {k: wrk[f"errors_{k}"] for k in ("connect", "read", "write", "timeout")},
        "outcomes": table,
        "unexpected": unexpected,
        "usage_records_written": records,
        "answers": answered,
        "memory": memory,
        "samples": [{k: s[k] for k in ("t_s", "rss_kb", "cpu_pct", "records")} for s in samples],
    }
    ok = unexpected == 0 and socket_errors == 0 and memory["flat"] is not False
    result["verdict"] = "pass" if ok else "FAIL"

    step = max(1, len(samples) // 30)
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    mem_lines = ["| t (s) | RSS (MiB) | CPU (% of one core) | usage records |", "|---:|---:|---:|---:|"]
    for s in shown:
        cpu = "" if s["cpu_pct"] is None else f"{s['cpu_pct']:.0f}"
        mem_lines.append(f"| {s['t_s']:.0f} | {s['rss_kb'] / 1024:.1f} | {cpu} | {s['records']} |")
    lat = result["latency_ms"]
    md = "\n".join([
        f"# Soak: {args.duration}, {args.connections} connections, {args.pause_ms} ms pause — {result['verdict']}",
        "",
        f"Machine: {args.machine}.",
        "",
        f"- **{wrk['requests']:,} requests** ({result['requests_per_s']:,} req/s); latency p50 {lat['p50']} ms, "
        f"p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {lat['max']} ms (all kinds together).",
        f"- **Unexpected answers: {unexpected}**; socket errors: {result['socket_errors']}.",
        f"- **Memory: {memory['verdict']}.**",
        f"- Usage records written during the run: {records:,} for {answered:,} answers (the answers in flight when "
        f"the load stopped are recorded too, as client disconnects).",
        "",
        "## Answers by kind",
        "",
        kinds_table(table),
        "",
        "## GaiaRouter's memory and CPU over time",
        "",
        "\n".join(mem_lines),
        "",
    ])
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(md)
    print(md)
    print(f"(written to {out / 'results.md'} and {out / 'results.json'})", file=sys.stderr)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sanity")
    s.add_argument("wrk_output")
    r = sub.add_parser("report")
    r.add_argument("out")
    r.add_argument("--clk-tck", type=int, default=100)
    r.add_argument("--duration", required=True)
    r.add_argument("--connections", type=int, required=True)
    r.add_argument("--pause-ms", type=int, required=True)
    r.add_argument("--sample-secs", type=float, required=True)
    r.add_argument("--machine", default="")
    args = p.parse_args()
    sys.exit(sanity(args.wrk_output) if args.cmd == "sanity" else report(args))


if __name__ == "__main__":
    main()
