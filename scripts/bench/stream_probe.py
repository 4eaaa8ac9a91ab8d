#!/usr/bin/env python3
"""Time to first token and total time of N sequential streaming requests (scripts/bench.sh helper).

    stream_probe.py URL BODY_JSON N [Header: value ...]

One request per connection (Connection: close); the clock starts after the TCP connect, when the request
is sent. "First token" is the first received byte range that contains the mock's first word (b"echo"), so
response headers and role-only chunks do not count; "total" is the end of the response (EOF). The same
client measures the mock directly and GaiaRouter, so its own overhead cancels out in the difference.
Prints one JSON object: counts, errors and p50/p90/p99 of both, in microseconds.
"""
import json
import socket
import sys
import time
from urllib.parse import urlsplit


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def one(host, port, raw):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        t0 = time.perf_counter()
        sock.sendall(raw)
        first = None
        seen = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            if first is None:
                seen = (seen + data)[-65536:]
                if b"echo" in seen:
                    first = time.perf_counter()
                elif not seen.startswith(b"HTTP/1.1 200"):
                    # Keep reading to the end, but this is an error.
                    pass
        total = time.perf_counter()
        status_ok = seen.startswith(b"HTTP/1.1 200") or first is not None
        return first, total, t0, status_ok
    finally:
        sock.close()


def main():
    url, body, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    headers = sys.argv[4:]
    u = urlsplit(url)
    path = u.path + (("?" + u.query) if u.query else "")
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {u.hostname}:{u.port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    ttft, total, errors = [], [], 0
    for i in range(n + 10):
        try:
            first, end, t0, ok = one(u.hostname, u.port, raw)
        except OSError:
            errors += 1
            continue
        if i < 10:  # warm-up
            continue
        if first is None or not ok:
            errors += 1
            continue
        ttft.append((first - t0) * 1e6)
        total.append((end - t0) * 1e6)
    out = {"requests": len(ttft), "errors": errors}
    for name, vals in (("ttft", ttft), ("total", total)):
        for p in (50, 90, 99):
            v = pct(vals, p)
            out[f"{name}_p{p}_us"] = round(v, 1) if v is not None else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
