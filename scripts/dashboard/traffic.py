#!/usr/bin/env python3
"""Mixed traffic for scripts/dashboard.sh, and the small prompt-cache upstream it needs.

    traffic.py drive --gateways URL1,URL2 --keys KEYS.json --seconds 150 [--rate 9]
    traffic.py cache-upstream            # first stdout line: cache-upstream listening on http://ADDR

`drive` sends, round-robin over the gateways as a load balancer would, for `--seconds` seconds:

- a paced mix (about `--rate` requests/s) of chat completions, plain and streamed, to every provider kind
  (openai, anthropic, gemini, openrouter, an OpenAI-compatible server, the prompt-cache upstream), with
  reasoning now and then; `/v1/messages` (Anthropic Messages API), `/v1/responses`, `/v1/embeddings`, plain
  and streamed; the alias `smart`, whose first targets fail (fallbacks); the `flaky` provider directly
  (5xx); bad requests (400, 404, 422);
- beside it: a key with a low `rate_limit_rpm` (429 rate, scope key), a key of an organization with a low
  `rate_limit_rpm` (scope organization), a key with a small monthly request limit (429 quota), made-up keys
  (401, gaia_auth_unknown_keys_total), one request at a time to the `slowpoke` provider, which answers
  after the gateway's timeout (kind `timeout`, 504), and every 30 s an operator enabling again the stored
  channel that has no credential (the upstream refuses it, kind `auth`, and it is disabled again).

At the end it prints one line per scenario with its status counts, and exits 1 when a scenario never got
one of the statuses it expects (the setup is broken, and the dashboard check would be meaningless).

`cache-upstream` is an Anthropic-format upstream (POST /v1/messages, plain and SSE) whose usage reports
prompt-cache reads and writes, which mock-upstream never does (its cache counts are always 0): it makes the
`cached_input` and `cache_write` token classes, and the cache-share panel, real.

Standard library only.
"""

import argparse
import http.client
import json
import random
import secrets
import string
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

WORDS = (
    "the quick brown fox jumps over a lazy dog while seven small models answer questions about "
    "latency tokens caching routing budgets and the weather in paris tomorrow morning"
).split()


def sentence(lo=4, hi=18):
    return " ".join(random.choice(WORDS) for _ in range(random.randint(lo, hi)))


# ---------------------------------------------------------------------------------------------- HTTP


def post(base, path, body, key, headers=None, timeout=30):
    """POSTs JSON (or raw bytes) and reads the whole answer (a stream to its end). Returns the status, or
    0 when the connection failed."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": "application/json", "Connection": "close"}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    h.update(headers or {})
    try:
        conn.request("POST", path, body=raw, headers=h)
        resp = conn.getresponse()
        while resp.read(65536):
            pass
        return resp.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


class Gateways:
    """Round-robin over the instances, like a load balancer."""

    def __init__(self, urls):
        self.urls = urls
        self.i = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.i += 1
            return self.urls[self.i % len(self.urls)]


# ---------------------------------------------------------------------------------------------- scenarios


def chat(model, stream=False, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": sentence()}], "max_tokens": 64}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return "/v1/chat/completions", body


def messages(model, stream=False):
    body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": sentence()}]}
    if stream:
        body["stream"] = True
    return "/v1/messages", body


def responses(model, stream=False):
    body = {"model": model, "input": sentence()}
    if stream:
        body["stream"] = True
    return "/v1/responses", body


def embeddings(model):
    return "/v1/embeddings", {"model": model, "input": [sentence(3, 8) for _ in range(random.randint(1, 4))]}


OK = {200}
# (name, weight, request builder, statuses that count as expected). Weights are relative, per paced request.
MIX = [
    ("chat openai", 10, lambda: chat("openai/gpt-4o-mini"), OK),
    ("chat openai stream", 8, lambda: chat("openai/gpt-4o-mini", stream=True), OK),
    ("chat openai reasoning", 2, lambda: chat("openai/o4-mini", reasoning_effort="low"), OK),
    ("chat anthropic", 4, lambda: chat("anthropic/claude-haiku-4-5"), OK),
    ("chat anthropic stream", 4, lambda: chat("anthropic/claude-haiku-4-5", stream=True), OK),
    ("chat gemini", 4, lambda: chat("google/gemini-2.5-flash"), OK),
    ("chat gemini stream", 3, lambda: chat("google/gemini-2.5-flash", stream=True), OK),
    ("chat openrouter", 2, lambda: chat("openrouter/meta-llama/llama-3.1-8b-instruct"), OK),
    ("chat compat", 3, lambda: chat("compat/llama-3.1-8b"), OK),
    ("chat compat stream", 2, lambda: chat("compat/llama-3.1-8b", stream=True), OK),
    ("chat claude-cache", 3, lambda: chat("claudecache/claude-sonnet-4-5"), OK),
    ("messages anthropic", 3, lambda: messages("anthropic/claude-sonnet-4-5"), OK),
    ("messages anthropic stream", 3, lambda: messages("anthropic/claude-sonnet-4-5", stream=True), OK),
    ("messages openai", 2, lambda: messages("openai/gpt-4o-mini"), OK),
    ("messages claude-cache stream", 2, lambda: messages("claudecache/claude-sonnet-4-5", stream=True), OK),
    ("responses openai", 3, lambda: responses("openai/gpt-4o-mini"), OK),
    ("responses openai stream", 2, lambda: responses("openai/gpt-4o-mini", stream=True), OK),
    ("responses gemini stream", 2, lambda: responses("google/gemini-2.5-flash", stream=True), OK),
    ("embeddings openai", 3, lambda: embeddings("openai/text-embedding-3-small"), OK),
    ("embeddings gemini", 2, lambda: embeddings("google/gemini-embedding-001"), OK),
    # The alias tries flaky/gpt-lite (503) and throttled/gpt-lite (429) first: fallbacks, then openai.
    ("chat alias smart", 4, lambda: chat("smart"), OK),
    ("chat alias smart stream", 2, lambda: chat("smart", stream=True), OK),
    # flaky/gpt-lite alone: its only channel answers 503, so the client gets a 5xx.
    ("chat flaky (5xx)", 2, lambda: chat("flaky/gpt-lite"), {502, 503}),
    ("bad: no messages", 1, lambda: ("/v1/chat/completions", {"model": "openai/gpt-4o-mini"}), {400}),
    ("bad: unknown model", 1, lambda: chat("openai/no-such-model"), {404}),
    ("bad: chat model on embeddings", 1, lambda: embeddings("openai/gpt-4o-mini"), {422}),
    ("bad: malformed JSON", 1, lambda: ("/v1/messages", b'{"model": "anthropic/claude-sonnet-4-5", '), {400}),
]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.by = defaultdict(Counter)
        self.expected = {}

    def add(self, name, status, expected):
        with self.lock:
            self.by[name][status] += 1
            self.expected[name] = expected


def paced(stop, rate, fn):
    """Calls fn about `rate` times a second until stop is set (rate < 1: one call every 1/rate s)."""
    period = 1.0 / rate
    nxt = time.monotonic()
    while not stop.is_set():
        fn()
        nxt += period * random.uniform(0.6, 1.4)
        delay = nxt - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            nxt = time.monotonic()


def made_up_key():
    alnum = string.ascii_lowercase + string.digits
    lookup = "".join(secrets.choice(alnum) for _ in range(12))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    return f"gaia_{lookup}_{secret}"


def drive(args):
    gws = Gateways(args.gateways.split(","))
    with open(args.keys) as f:
        keys = json.load(f)
    tally = Tally()
    stop = threading.Event()
    names = [m[0] for m in MIX]
    weights = [m[1] for m in MIX]
    by_name = {m[0]: m for m in MIX}

    def mixed():
        name = random.choices(names, weights)[0]
        _, _, build, expected = by_name[name]
        path, body = build()
        tally.add(name, post(gws.next(), path, body, keys["main"]), expected)

    def rate_limited_key():
        path, body = chat("openai/gpt-4o-mini")
        tally.add("key rate_limit_rpm (429)", post(gws.next(), path, body, keys["rpm"]), {200, 429})

    def org_rate_limited():
        path, body = chat("google/gemini-2.5-flash")
        tally.add("organization rate_limit_rpm (429)", post(gws.next(), path, body, keys["org_rpm"]), {200, 429})

    def quota_key():
        path, body = chat("anthropic/claude-haiku-4-5")
        tally.add("key monthly limit (429)", post(gws.next(), path, body, keys["quota"]), {200, 429})

    def unknown_keys():
        # A made-up key tried three times in a row on one instance, as a client retrying would: the first is
        # looked up in the database, the others are answered from memory (an instance forgets absent keys
        # at its key refresh, every 5 s, so they must come close together).
        key = made_up_key()
        gw = gws.next()
        path, body = chat("openai/gpt-4o-mini")
        for _ in range(3):
            tally.add("made-up key (401)", post(gw, path, body, key), {401})

    def operator():
        # An operator enables the stored channel compat/gpu-2 again without giving it a credential: the
        # upstream refuses it (401, kind "auth") and it is disabled again.
        u = urlsplit(gws.urls[0])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("PATCH", f"/v1/admin/channels/{keys['channel']}", body=b'{"enabled": true}',
                         headers={"Authorization": f"Bearer {keys['admin']}", "Content-Type": "application/json"})
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            conn.close()
        tally.add("operator re-enables compat/gpu-2", status, {200})

    def slow():
        path, body = chat("slowpoke/gpt-lite")
        tally.add("slowpoke (timeout, 504)", post(gws.next(), path, body, keys["main"], timeout=60), {502, 503, 504})

    workers = 4
    threads = [threading.Thread(target=paced, args=(stop, args.rate / workers, mixed)) for _ in range(workers)]
    threads += [
        threading.Thread(target=paced, args=(stop, 1.0, rate_limited_key)),
        threading.Thread(target=paced, args=(stop, 0.5, org_rate_limited)),
        threading.Thread(target=paced, args=(stop, 0.4, quota_key)),
        threading.Thread(target=paced, args=(stop, 0.2, unknown_keys)),
        threading.Thread(target=paced, args=(stop, 1 / 30, operator)),
        threading.Thread(target=paced, args=(stop, 0.1, slow)),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < args.seconds:
            time.sleep(min(10, max(0.1, args.seconds - (time.monotonic() - started))))
            done = sum(sum(c.values()) for c in tally.by.values())
            print(f"traffic: {time.monotonic() - started:5.0f} s, {done} requests", file=sys.stderr, flush=True)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    total = 0
    broken = []
    print("traffic: scenario                              requests  statuses", file=sys.stderr)
    for name in sorted(tally.by):
        c = tally.by[name]
        n = sum(c.values())
        total += n
        statuses = ", ".join(f"{s if s else 'conn-error'}×{k}" for s, k in sorted(c.items()))
        print(f"traffic:   {name:<36} {n:8}  {statuses}", file=sys.stderr)
        if not any(s in tally.expected[name] for s in c):
            broken.append(name)
    print(f"traffic: {total} requests in {args.seconds} s", file=sys.stderr)
    if broken:
        print(f"traffic: error: never answered as expected: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------- cache upstream


class CacheUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):  # quiet, like mock-upstream
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            req = {}
        if not self.path.startswith("/v1/messages") or not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            self.reply(404 if self.headers.get("x-api-key") else 401,
                       {"type": "error", "error": {"type": "not_found_error", "message": "no such route or key"}})
            return
        text = "cached answer: " + sentence(3, 12)
        out_tokens = len(text.split())
        # A long shared system prompt: most of it read from the cache, sometimes written to it.
        write = random.choice([0, 0, 0, 900])
        usage = {
            "input_tokens": random.randint(20, 60),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": 0 if write else random.randint(1200, 1800),
        }
        model = req.get("model", "claude-sonnet-4-5")
        msg_id = f"msg_cache_{secrets.token_hex(6)}"
        if not req.get("stream"):
            self.reply(200, {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {**usage, "output_tokens": out_tokens}})
            return
        events = [("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}})]
        for i, word in enumerate(text.split()):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": (" " if i else "") + word}}))
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": out_tokens}}),
                   ("message_stop", {"type": "message_stop"})]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.01)

    def reply(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def cache_upstream(args):
    server = ThreadingHTTPServer(("127.0.0.1", args.port), CacheUpstream)
    server.daemon_threads = True
    print(f"cache-upstream listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drive")
    d.add_argument("--gateways", required=True, help="comma-separated base URLs")
    d.add_argument("--keys", required=True, help="JSON file: main, rpm, org_rpm, quota, admin, channel (id)")
    d.add_argument("--seconds", type=float, default=150)
    d.add_argument("--rate", type=float, default=9, help="requests/s of the paced mix (the rest comes on top)")
    c = sub.add_parser("cache-upstream")
    c.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    if args.cmd == "drive":
        sys.exit(drive(args))
    cache_upstream(args)


if __name__ == "__main__":
    main()
