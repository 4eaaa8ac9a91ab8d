#!/usr/bin/env python3
"""Turns scripts/bench.sh's raw records into target/bench/results.{json,md} and the printed table.

    report.py line FILE.json                 # one progress line for one scenario (stderr of bench.sh)
    report.py report RAW_DIR OUT_DIR --machine TEXT

Each raw record is a JSON object written by bench.sh: name, group, target (mock | gaiarouter), dialect,
connections, baseline (the direct run it is compared with), GaiaRouter's CPU ticks and VmHWM/VmRSS around
the run, and either "wrk" (load runs, from scripts/bench/post.lua) or "probe" (streaming runs, from
scripts/bench/stream_probe.py). The statistics benchmark's output (stats-*.txt) is parsed too.
"""
import argparse
import datetime
import glob
import json
import os
import re
import sys

ORDER = ["direct", "gateway", "paced", "reference", "streamload", "signins", "stream", "slow50", "idle"]
SLOW_UPSTREAM_MS = 50


def overhead_quantiles(before, after, qs=(0.5, 0.99)):
    """Quantiles (µs) of GaiaRouter's own time per request over one run, from two snapshots of the
    gaia_request_overhead_seconds histogram ([[le or None for +Inf, cumulative count], …]): linear within
    the bucket, as Prometheus' histogram_quantile does, so they are as coarse as the buckets."""
    if not before or not after or len(before) != len(after):
        return None
    delta = [(le, a - b) for (le, a), (_, b) in zip(after, before)]
    total = delta[-1][1]
    if total <= 0:
        return None
    out = {"count": total}
    for q in qs:
        rank, lower, below = q * total, 0.0, 0
        value = None
        for le, cum in delta:
            if cum >= rank:
                if le is None:  # in +Inf: the last finite bound is all we know
                    value = lower
                else:
                    inside = cum - below
                    value = lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
                break
            lower, below = (le if le is not None else lower), cum
        out[f"p{round(q * 100)}_us"] = round(value * 1e6, 1) if value is not None else None
    return out


def scenario(rec):
    """The figures of one raw record, in one flat dict (latencies in µs)."""
    s = {k: rec[k] for k in ("name", "group", "target", "dialect", "connections", "baseline", "kind")}
    gw = rec["target"] == "gaiarouter"
    if rec["kind"] == "load":
        w = rec["wrk"]
        secs = w["duration_us"] / 1e6
        errors = w["errors_connect"] + w["errors_read"] + w["errors_write"] + w["errors_status"] + w["errors_timeout"]
        s.update(
            requests=w["requests"],
            rps=round(w["requests"] / secs, 1) if secs else 0,
            p50_us=w["p50_us"],
            p90_us=w["p90_us"],
            p99_us=w["p99_us"],
            max_us=w["max_us"],
            errors=errors,
            errors_detail={k[7:]: v for k, v in w.items() if k.startswith("errors_") and v},
        )
    elif rec["kind"] == "streamload":
        sl = rec["sl"]
        secs = sl["duration_us"] / 1e6
        s.update(
            requests=sl["streams"],
            rps=round(sl["streams"] / secs, 1) if secs else 0,
            ttft_p50_us=sl["ttft_p50_us"],
            ttft_p99_us=sl["ttft_p99_us"],
            p50_us=sl["last_p50_us"],
            p90_us=None,
            p99_us=sl["last_p99_us"],
            errors=sl["errors"],
        )
    else:
        p = rec["probe"]
        s.update(
            requests=p["requests"],
            errors=p["errors"],
            ttft_p50_us=p["ttft_p50_us"],
            ttft_p90_us=p["ttft_p90_us"],
            ttft_p99_us=p["ttft_p99_us"],
            p50_us=p["total_p50_us"],
            p90_us=p["total_p90_us"],
            p99_us=p["total_p99_us"],
        )
    if gw:
        # The streaming probe also sends 10 unmeasured warm-up requests inside the CPU window.
        n = s["requests"] + (s["errors"] + 10 if rec["kind"] == "stream" else 0)
        s["gateway_cpu_us_per_request"] = cpu_per_request(rec, n)
        s["gateway_peak_rss_mb"] = round(rec["gateway_peak_rss_kb"] / 1024, 1)
        s["gateway_rss_mb"] = round(rec["gateway_rss_kb"] / 1024, 1)
        if rec.get("gateway_rss_before_kb"):
            s["gateway_rss_before_mb"] = round(rec["gateway_rss_before_kb"] / 1024, 1)
        if rec.get("gateway_rss_mid_kb"):
            s["gateway_rss_mid_mb"] = round(rec["gateway_rss_mid_kb"] / 1024, 1)
        own = overhead_quantiles(rec.get("overhead_before"), rec.get("overhead_after"))
        if own:
            s["gateway_own_p50_us"], s["gateway_own_p99_us"] = own["p50_us"], own["p99_us"]
            s["gateway_own_count"] = own["count"]
    elif rec["target"] == "nginx":
        n = s["requests"]
        s["nginx_cpu_us_per_request"] = cpu_per_request(rec, n)
    return s


# CPU is read in clock ticks (10 ms); a window with fewer than this many holds more rounding and background work
# (usage batches, refresh loops) than the requests' own: e.g. 200 sequential streams take ~40 ms, one tick more or
# less is 50 µs a stream. Such rows show no CPU per request.
MIN_CPU_TICKS = 50


def cpu_per_request(rec, n):
    ticks = rec["gateway_cpu_ticks"]
    if not n or ticks < MIN_CPU_TICKS:
        return None
    return round(ticks / rec["clk_tck"] * 1e6 / n, 1)


def add_deltas(rows):
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        b = by_name.get(r.get("baseline") or "")
        if not b:
            continue
        for k in ("p50_us", "p99_us", "ttft_p50_us", "ttft_p99_us"):
            if r.get(k) is not None and b.get(k) is not None:
                r["added_" + k] = round(r[k] - b[k], 1)


def fmt_us(v):
    if v is None:
        return "–"
    return f"{v / 1000:.2f} ms" if abs(v) >= 1000 else f"{v:.0f} µs"


def fmt_delta(v):
    """A difference with its sign: +170 µs, −39 µs."""
    if v is None:
        return "–"
    return ("−" if v < 0 else "+") + fmt_us(abs(v))


def fmt_row(r):
    cells = [
        r["name"],
        str(r["connections"]),
        f"{r['rps']:,.0f}" if "rps" in r else "–",
        fmt_us(r.get("ttft_p50_us")) if r["kind"] in ("stream", "streamload") else "",
        fmt_us(r["p50_us"]),
        fmt_us(r.get("p90_us")),
        fmt_us(r["p99_us"]),
        fmt_delta(r.get("added_ttft_p50_us") if r["kind"] == "stream" else r.get("added_p50_us")),
        fmt_delta(r.get("added_p99_us")),
        fmt_us(r.get("gateway_own_p50_us")) if "gateway_own_p50_us" in r else "–",
        fmt_us(r.get("gateway_own_p99_us")) if "gateway_own_p99_us" in r else "–",
        fmt_us(r.get("gateway_cpu_us_per_request", r.get("nginx_cpu_us_per_request")))
        if r["target"] in ("gaiarouter", "nginx") else "–",
        f"{r['gateway_peak_rss_mb']:.1f}" if "gateway_peak_rss_mb" in r else "–",
        str(r["errors"]),
    ]
    return cells


HEADER = [
    "scenario", "conns", "req/s", "TTFT p50", "p50", "p90", "p99", "added p50", "added p99",
    "GW own p50", "GW own p99", "CPU/req", "GW peak RSS MB", "errors",
]


def parse_stats(path):
    """The statistics benchmark's timings from round 1 (warm), in ms."""
    out, rnd, loaded = {}, None, None
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"loaded (\d+) records in (.*)", line)
        if m:
            loaded = {"records": int(m.group(1)), "load_time": m.group(2).strip()}
        m = re.match(r"\s*round (\d+)", line)
        if m:
            rnd = int(m.group(1))
        m = re.match(r"\s{2}(\S.*?)\s+([\d.]+) ms$", line)
        if m and rnd is not None:
            out.setdefault(m.group(1), {})[f"round{rnd}_ms"] = float(m.group(2))
    return {"load": loaded, "queries": out} if out else None


def memory_run(raw):
    """The optional long run: RSS samples (epoch seconds, kB) and wrk's summary."""
    sp, wp = os.path.join(raw, "memory.samples"), os.path.join(raw, "memory.wrk.txt")
    if not (os.path.exists(sp) and os.path.exists(wp)):
        return None
    samples = []
    for line in open(sp):
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            samples.append((int(parts[0]), int(parts[1])))
    w = None
    for line in open(wp, errors="replace"):
        if line.startswith("BENCH_JSON "):
            w = json.loads(line[len("BENCH_JSON "):])
    if not samples or not w:
        return None
    mb = [round(kb / 1024, 1) for _, kb in samples]
    return {
        "requests": w["requests"],
        "errors": sum(v for k, v in w.items() if k.startswith("errors_")),
        "rss_mb_first": mb[0],
        "rss_mb_quarter": mb[len(mb) // 4],
        "rss_mb_last": mb[-1],
        "rss_mb_max": max(mb),
        "samples": [[t - samples[0][0], m] for (t, _), m in zip(samples, mb)],
    }


def targets(rows):
    by = {r["name"]: r for r in rows}
    res = []

    def add(target, value, met, note=""):
        res.append({"target": target, "measured": value, "met": met, "note": note})

    c32 = [by.get(n) for n in ("gw-openai-c32", "gw-anthropic-c32", "gw-gemini-c32")]
    c32 = [r for r in c32 if r]
    paced = [by.get(n) for n in ("gw-openai-c32-paced", "gw-anthropic-c32-paced", "gw-gemini-c32-paced")]
    paced = [r for r in paced if r]
    c1 = by.get("gw-openai-c1")
    if paced or c32:
        # Paced runs measure GaiaRouter's own added latency; closed-loop runs at c=32 saturate the two
        # shared cores, where "added" is mostly queueing for the CPU (reported in the note).
        rows32 = paced or c32
        kind = "paced" if paced else "saturated"
        worst50 = max(r.get("added_p50_us", 0) for r in rows32)
        worst99 = max(r.get("added_p99_us", 0) for r in rows32)
        sat = ""
        if c32:
            sat = (f"saturated closed loop: {fmt_delta(max(r.get('added_p50_us', 0) for r in c32))} p50, "
                   f"{fmt_delta(max(r.get('added_p99_us', 0) for r in c32))} p99")
        ref = by.get("nginx-openai-c32-paced" if paced else "nginx-openai-c32")
        ref_note = (f"nginx alone, same load: {fmt_delta(ref.get('added_p50_us'))} p50, "
                    f"{fmt_delta(ref.get('added_p99_us'))} p99" if ref else "")
        own50 = [r["gateway_own_p50_us"] for r in rows32 if r.get("gateway_own_p50_us") is not None]
        own99 = [r["gateway_own_p99_us"] for r in rows32 if r.get("gateway_own_p99_us") is not None]
        own_note = lambda own: f"GaiaRouter's own time ≈ {fmt_us(max(own))}" if own else ""
        add("added latency at c=32: p50 ≤ 100 µs", f"{fmt_us(worst50)} (worst of the three dialects, {kind})",
            worst50 <= 100, "; ".join(x for x in (own_note(own50), ref_note, sat) if x))
        c1_ref = by.get("nginx-openai-c1")
        c1_note = ""
        if c1:
            c1_note = f"c=1: {fmt_delta(c1.get('added_p50_us'))} p50"
            if c1_ref:
                c1_note += f" (nginx alone: {fmt_delta(c1_ref.get('added_p50_us'))})"
        add("added latency at c=32: p99 ≤ 1 ms", f"{fmt_us(worst99)} ({kind})", worst99 <= 1000,
            "; ".join(x for x in (own_note(own99), ref_note, c1_note) if x))
    # Under load (c ≥ 32): at c=1 the process's idle wake-ups and 5-second reloads are spread over few
    # requests, so that row is reported in the note, not judged.
    cpu = [r for r in rows if r["target"] == "gaiarouter" and r["kind"] == "load"
           and r["group"] == "gateway" and r["connections"] >= 32 and r.get("gateway_cpu_us_per_request")]
    if cpu:
        c32 = [r for r in cpu if r["name"] in ("gw-openai-c32", "gw-anthropic-c32", "gw-gemini-c32")]
        worst = max(c32 or cpu, key=lambda r: r["gateway_cpu_us_per_request"])
        worst_all = max(cpu, key=lambda r: r["gateway_cpu_us_per_request"])
        note = f"worst of every loaded run: {fmt_us(worst_all['gateway_cpu_us_per_request'])} ({worst_all['name']})"
        if c1 and c1.get("gateway_cpu_us_per_request"):
            note += f"; c=1: {fmt_us(c1['gateway_cpu_us_per_request'])}"
        add("GaiaRouter CPU per non-streaming request ≤ 100 µs (c=32)",
            f"{fmt_us(worst['gateway_cpu_us_per_request'])} (worst: {worst['name']})",
            worst["gateway_cpu_us_per_request"] <= 100, note)
    st = [r for r in rows if r["kind"] == "stream" and r["target"] == "gaiarouter"]
    if st:
        worst = max(st, key=lambda r: r.get("added_ttft_p50_us") or 0)
        add("streaming TTFT within 1 ms of direct (p50)", f"{fmt_delta(worst.get('added_ttft_p50_us'))} (worst: {worst['name']})",
            (worst.get("added_ttft_p50_us") or 0) <= 1000)
        ch = by.get("stream-gw-chunked")
        if ch:
            add("chunks forwarded without buffering (10 chunks 10 ms apart)",
                f"TTFT {fmt_us(ch['ttft_p50_us'])} vs total {fmt_us(ch['p50_us'])}",
                ch["ttft_p50_us"] < 0.2 * ch["p50_us"])
    for c in (32, 256):
        g, n, d = by.get(f"gw-stream-c{c}"), by.get(f"nginx-stream-c{c}"), by.get(f"direct-stream-c{c}")
        if g:
            ref = (f"nginx {n['rps']:,.0f} streams/s, p99 {fmt_us(n['p99_us'])}, CPU/stream "
                   f"{fmt_us(n.get('nginx_cpu_us_per_request'))}" if n else "no nginx row")
            ratio = f" ({g['rps'] / n['rps']:.2f}× nginx)" if n and n["rps"] else ""
            add(f"keep-alive streams at c={c}: no stall (p50 to the last byte < 40 ms), no errors",
                f"{g['rps']:,.0f} streams/s{ratio}, p50 {fmt_us(g['p50_us'])}, p99 {fmt_us(g['p99_us'])}, "
                f"CPU/stream {fmt_us(g.get('gateway_cpu_us_per_request'))}, errors {g['errors']}",
                g["errors"] == 0 and g["p50_us"] < 40_000,
                "; ".join(x for x in (ref, f"mock directly {d['rps']:,.0f} streams/s" if d else "") if x))
    s, base, storm = by.get("gw-openai-c32-paced-signins"), by.get("gw-openai-c32-paced"), by.get("sign-in-storm-c50")
    if s and base:
        limit = max(1.5 * base["p99_us"], base["p99_us"] + 1000)
        add("50 concurrent sign-ins do not move the p99 of concurrent chat requests (paced c=32)",
            f"p99 {fmt_us(s['p99_us'])} with the storm, {fmt_us(base['p99_us'])} without; p50 "
            f"{fmt_us(s['p50_us'])} / {fmt_us(base['p50_us'])}",
            s["p99_us"] <= limit and s["errors"] == 0,
            (f"sign-ins during the run: {storm['rps']:,.0f}/s, p99 {fmt_us(storm['p99_us'])}, "
             f"errors {storm['errors']}; met when within 1.5× or +1 ms") if storm else "")
    s = by.get("gw-slow50-c1000")
    if s:
        add("1,000 connections, 50 ms upstream: no errors", str(s["errors"]), s["errors"] == 0)
        add("… p99 within 10 ms of the upstream's 50 ms", fmt_us(s["p99_us"]),
            s["p99_us"] <= (SLOW_UPSTREAM_MS + 10) * 1000,
            f"direct p99 {fmt_us(by['direct-slow50-c1000']['p99_us'])}" if "direct-slow50-c1000" in by else "")
        add("… peak RSS ≤ 150 MB", f"{s['gateway_peak_rss_mb']} MB", s["gateway_peak_rss_mb"] <= 150)
    s = by.get("gw-slow500-c1000")
    if s:
        d = by.get("direct-slow500-c1000")
        add("1,000 connections, 500 ms upstream (feasible rate): no errors, p99 ≤ 510 ms, peak RSS ≤ 150 MB",
            f"errors {s['errors']}, p99 {fmt_us(s['p99_us'])}, peak RSS {s['gateway_peak_rss_mb']} MB",
            s["errors"] == 0 and s["p99_us"] <= 510_000 and s["gateway_peak_rss_mb"] <= 150,
            f"direct p99 {fmt_us(d['p99_us'])}" if d else "")
    idle = [r for r in rows if r["group"] == "idle" and r["target"] == "gaiarouter"]
    for s in idle:
        add(f"{s['connections']:,} concurrent idle streams hold without errors",
            f"errors {s['errors']}, {s['requests']:,} streams completed, peak RSS {s['gateway_peak_rss_mb']} MB",
            s["errors"] == 0 and s["requests"] >= s["connections"])
    return res


def ratio_table(rows):
    """Issue 19's table: GaiaRouter beside nginx in the same run, the ratio, the target and whether it is met."""
    by = {r["name"]: r for r in rows}
    out = []

    def cpu(r):
        return r.get("gateway_cpu_us_per_request", r.get("nginx_cpu_us_per_request")) if r else None

    def row(measure, gw, ng, fmt, target, ok):
        ratio = gw / ng if gw is not None and ng else None
        out.append({"measure": measure, "gaiarouter": gw, "nginx": ng, "ratio": round(ratio, 2) if ratio else None,
                    "target": target, "met": ok(ratio, gw) if gw is not None else None, "fmt": fmt})

    g, n = by.get("gw-openai-c32"), by.get("nginx-openai-c32")
    if g and n:
        row("CPU per request, c=32", cpu(g), cpu(n), "us", "≤ 3× nginx", lambda x, _: x is not None and x <= 3)
        row("requests/s, c=32", g["rps"], n["rps"], "n", "—", lambda x, _: None)
    g, n = by.get("gw-openai-c32-paced"), by.get("nginx-openai-c32-paced")
    if g and n:
        row("added p50, paced c=32", g.get("added_p50_us"), n.get("added_p50_us"), "us", "≤ 1.5× nginx",
            lambda x, _: x is not None and x <= 1.5)
    for c in (32, 256):
        g, n = by.get(f"gw-stream-c{c}"), by.get(f"nginx-stream-c{c}")
        if g and n:
            row(f"keep-alive streams/s, c={c}", g["rps"], n["rps"], "n", "≥ 0.7× nginx" if c == 32 else "—",
                (lambda x, _: x is not None and x >= 0.7) if c == 32 else (lambda x, _: None))
            row(f"CPU per stream, c={c}", cpu(g), cpu(n), "us", "≤ 2.5× nginx" if c == 32 else "—",
                (lambda x, _: x is not None and x <= 2.5) if c == 32 else (lambda x, _: None))
            row(f"added TTFT p99, c={c}", g.get("added_ttft_p99_us"), n.get("added_ttft_p99_us"), "us", "≤ 1 ms",
                lambda _, v: v <= 1000)
            row(f"errors, c={c}", g["errors"], n["errors"], "n", "0", lambda _, v: v == 0)
    g, n = by.get("gw-stream-slow50-c1000"), by.get("nginx-stream-slow50-c1000")
    if g:
        row("streams/s, c=1,000, 50 ms to the first event", g["rps"], n["rps"] if n else None, "n", "—",
            lambda x, _: None)
        row("added TTFT p99, c=1,000, 50 ms to the first event", g.get("added_ttft_p99_us"),
            n.get("added_ttft_p99_us") if n else None, "us", "≤ 1 ms", lambda _, v: v <= 1000)
        row("last byte p99, c=1,000, 50 ms to the first event", g["p99_us"], n["p99_us"] if n else None, "us", "—",
            lambda x, _: None)
        row("errors, c=1,000, 50 ms to the first event", g["errors"], n["errors"] if n else None, "n", "0",
            lambda _, v: v == 0)
    for s in [r for r in rows if r["group"] == "idle" and r["target"] == "gaiarouter"]:
        before = s.get("gateway_rss_before_mb", 0)
        row(f"idle streams held at once (errors {s['errors']})", s["connections"], None, "n", "10,000, 0 errors",
            lambda _, v, s=s: v >= 10000 and s["errors"] == 0)
        if s.get("gateway_rss_mid_mb") and s["connections"]:
            per = (s["gateway_rss_mid_mb"] - before) * 1024 / s["connections"]
            row("memory per open stream (RSS growth while all are open / streams)", round(per, 1), None, "kb",
                "≤ 30 KB", lambda _, v: v <= 30)
        if s["connections"]:
            per = (s["gateway_peak_rss_mb"] - before) * 1024 / s["connections"]
            row("… at the peak of the burst that opens them (peak RSS growth / streams)", round(per, 1), None,
                "kb", "—", lambda x, _: None)
    return out


def fmt_ratio_value(v, fmt):
    if v is None:
        return "–"
    if fmt == "us":
        return fmt_us(v)
    if fmt == "kb":
        return f"{v:.1f} KB"
    return f"{v:,.0f}"


def table(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    groups = sorted({r["group"] for r in rows}, key=lambda g: ORDER.index(g) if g in ORDER else 99)
    for g in groups:
        for r in rows:
            if r["group"] == g:
                lines.append("| " + " | ".join(fmt_row(r)) + " |")
    return lines


def instructions(rec):
    """One callgrind record: user-space instructions per request (scripts/bench.sh, section 6)."""
    n = rec["requests"] or 0
    return {"name": rec["name"], "requests": n, "errors": rec.get("errors_status") or 0,
            "instructions": rec["instructions"],
            "instructions_per_request": round(rec["instructions"] / n) if n else None}


def report(raw, out, machine):
    records = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(raw, "*.json")))
               if not p.endswith("tenant.json")]
    ir = [instructions(r) for r in records if r.get("kind") == "instructions"]
    ir_order = ["ir-openai", "ir-anthropic", "ir-gemini", "ir-openai-stream"]
    ir.sort(key=lambda x: ir_order.index(x["name"]) if x["name"] in ir_order else len(ir_order))
    rows = [scenario(r) for r in records if r.get("kind") != "instructions"]
    order = {n: i for i, n in enumerate(sorted(os.listdir(raw), key=lambda f: os.path.getmtime(os.path.join(raw, f))))}
    rows.sort(key=lambda r: order.get(r["name"] + ".json", 0))
    add_deltas(rows)
    stats = {}
    for backend in ("sqlite", "postgres"):
        p = os.path.join(raw, f"stats-{backend}.txt")
        if os.path.exists(p):
            parsed = parse_stats(p)
            if parsed:
                stats[backend] = parsed
    tenant = None
    tp = os.path.join(raw, "tenant.json")
    if os.path.exists(tp):
        try:
            tenant = json.load(open(tp)).get("usage")
        except (ValueError, OSError):
            tenant = None
    t = targets(rows)
    memory = memory_run(raw)
    if memory:
        r = memory
        t.append({"target": "flat memory over a long run (RSS at the end ≤ RSS after the first quarter + 10 MB)",
                  "measured": f"{r['requests']:,} requests: {r['rss_mb_first']} → {r['rss_mb_quarter']} → "
                              f"{r['rss_mb_last']} MB (max {r['rss_mb_max']})",
                  "met": r["rss_mb_last"] <= r["rss_mb_quarter"] + 10, "note": f"errors {r['errors']}"})
    result = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "notes": "latencies in µs; wrk closed-loop runs share the cores with the mock and GaiaRouter, so at "
                 "c≥32 'added' latency includes CPU contention; c=1 shows the unloaded per-hop cost",
        "scenarios": rows,
        "tenant_usage_after_run": tenant,
        "targets": t,
        "stats_benchmark": stats or None,
        "memory_run": memory,
        "instructions_per_request": ir or None,
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
    ratios = ratio_table(rows)
    result["versus_nginx"] = [{k: v for k, v in x.items() if k != "fmt"} for x in ratios]
    md = [f"# GaiaRouter benchmark — {result['generated_at']}", "", f"Machine: {machine}", ""]
    if ratios:
        md += ["## GaiaRouter beside nginx (same run, same mock)", "",
               "| measure | GaiaRouter | nginx | ratio | target | met |", "|---|---|---|---|---|---|"]
        md += [f"| {x['measure']} | {fmt_ratio_value(x['gaiarouter'], x['fmt'])} | "
               f"{fmt_ratio_value(x['nginx'], x['fmt'])} | {x['ratio'] if x['ratio'] is not None else '–'}"
               f"{'×' if x['ratio'] is not None else ''} | {x['target']} | "
               f"{'–' if x['met'] is None else ('yes' if x['met'] else 'no')} |" for x in ratios]
        md += ["", "## Every scenario", ""]
    md += table(rows)
    md += ["", "TTFT = time to the first token (streaming rows, sequential requests); for streaming rows p50/p90/p99 "
               "are the total time and 'added p50' is the added TTFT. GW = the GaiaRouter process. 'GW own' = "
               "GaiaRouter's own time per request from its gaia_request_overhead_seconds histogram (time on the "
               "chat route minus time waiting on the provider; bucket-interpolated). CPU/req = GaiaRouter's CPU, "
               "or nginx's (master and workers) on the nginx reference rows.", ""]
    if tenant:
        md += [f"Tenant usage recorded during the run (organization): {json.dumps(tenant)}", ""]
    if ir:
        md += ["## Instructions per request (callgrind: user space, every thread, one connection)", "",
               "| kind | requests | instructions per request | errors |", "|---|---|---|---|"]
        md += [f"| {x['name']} | {x['requests']:,} | "
               f"{x['instructions_per_request']:,} | {x['errors']} |" if x["instructions_per_request"] else
               f"| {x['name']} | 0 | – | {x['errors']} |" for x in ir]
        md += [""]
    md += ["## Targets", "", "| target | measured | met | note |", "|---|---|---|---|"]
    md += [f"| {x['target']} | {x['measured']} | {'yes' if x['met'] else 'no'} | {x['note']} |" for x in t]
    if stats:
        md += ["", "## Statistics queries (warm round, ms)", ""]
        names = list(next(iter(stats.values()))["queries"].keys())
        backends = list(stats.keys())
        md += ["| query | " + " | ".join(backends) + " |", "|---|" + "---|" * len(backends)]
        for n in names:
            md.append(f"| {n} | " + " | ".join(
                str(stats[b]["queries"].get(n, {}).get("round1_ms", "–")) for b in backends) + " |")
        for b in backends:
            if stats[b]["load"]:
                md.append(f"\n{b}: {stats[b]['load']['records']:,} records loaded in {stats[b]['load']['load_time']}")
    else:
        md += ["", "Statistics-query benchmark: not run (BENCH_SKIP_STATS=1)."]
    wp = os.path.join(raw, "write-path-postgres.txt")
    if os.path.exists(wp):
        lines = [l.rstrip() for l in open(wp) if l.startswith(("write path", "  "))]
        lines = [l for l in lines if not l.startswith("  ---")]
        if lines:
            md += ["", "## Write path (three usage writers, one PostgreSQL)", "", "```"] + lines + ["```"]
            result["write_path"] = lines
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    print(text)
    print(f"written: {os.path.join(out, 'results.json')}, {os.path.join(out, 'results.md')}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "line":
        rec = json.load(open(sys.argv[2]))
        if rec.get("kind") == "instructions":
            x = instructions(rec)
            per = f"{x['instructions_per_request']:,}" if x["instructions_per_request"] else "–"
            print(f"  {x['name']:<24} {x['requests']:>6,} requests  {per} instructions per request"
                  f"  errors {x['errors']}")
            return
        r = scenario(rec)
        extra = ""
        if r["target"] == "gaiarouter":
            extra = f"  GW CPU/req {fmt_us(r['gateway_cpu_us_per_request'])}  peak RSS {r['gateway_peak_rss_mb']} MB"
            if "gateway_own_p50_us" in r:
                extra += f"  own p50 {fmt_us(r['gateway_own_p50_us'])} p99 {fmt_us(r['gateway_own_p99_us'])}"
        elif r["target"] == "nginx":
            extra = f"  nginx CPU/req {fmt_us(r['nginx_cpu_us_per_request'])}"
        if r["kind"] == "streamload":
            print(f"  {r['name']:<24} {r['rps']:>9,.0f} streams/s  TTFT p50 {fmt_us(r['ttft_p50_us'])} p99 "
                  f"{fmt_us(r['ttft_p99_us'])}  last byte p50 {fmt_us(r['p50_us'])} p99 {fmt_us(r['p99_us'])}"
                  f"  errors {r['errors']}{extra}")
        elif r["kind"] == "stream":
            print(f"  {r['name']:<24} TTFT p50 {fmt_us(r['ttft_p50_us'])}  total p50 {fmt_us(r['p50_us'])}"
                  f"  errors {r['errors']}{extra}")
        else:
            print(f"  {r['name']:<24} {r['rps']:>9,.0f} req/s  p50 {fmt_us(r['p50_us'])}  p99 {fmt_us(r['p99_us'])}"
                  f"  errors {r['errors']}{extra}")
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["report"])
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--machine", default="")
    a = ap.parse_args()
    report(a.raw, a.out, a.machine)


if __name__ == "__main__":
    main()
