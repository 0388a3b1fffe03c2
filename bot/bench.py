"""`make bench`: latency through the REST channel, start-up time and memory of each process.

Three kinds of message go through the same Rasa server in the same run:
  plain    "hello": NLU + a response from the domain, no action server
  noop     "ping":  NLU + a custom action that only replies (the action-server hop alone)
  kb       support questions answered from the KB by `action_answer_from_kb`
each sent 200 times one after another, and 200 times from 10 concurrent conversations.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bot.config import Settings
from bot.launcher import start_stack

__all__ = ["percentile", "process_tree_rss_mb", "run_bench"]

KB_QUESTIONS = [
    "how do i reset my password",
    "where is my order",
    "my camera keeps going offline",
    "how long does a refund take",
    "can i change my delivery address",
    "i was charged twice",
    "how do i cancel kestrel protect",
    "the app crashes when i open it",
    "how do i download my data",
    "do you ship internationally",
]
MESSAGES = {"plain": ["hello"], "noop": ["ping"], "kb": KB_QUESTIONS}


@dataclass
class LatencyRow:
    kind: str
    mode: str
    requests: int
    p50_ms: float
    p95_ms: float
    errors: int


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (Linux)."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(c) for c in children)
    return total_kb / 1024


def _send(client: httpx.Client, url: str, sender: str, text: str) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        response = client.post(url, json={"sender": sender, "message": text}, timeout=60)
        ok = response.status_code == 200 and bool(response.json())
    except httpx.HTTPError:
        ok = False
    return (time.perf_counter() - started) * 1000, ok


def _measure(url: str, kind: str, mode: str, total: int, conversations: int) -> LatencyRow:
    texts = MESSAGES[kind]
    per_conversation = total // conversations

    def conversation(number: int) -> list[tuple[float, bool]]:
        sender = f"bench-{kind}-{mode}-{number}-{uuid.uuid4().hex[:6]}"
        with httpx.Client() as client:
            return [_send(client, url, sender, texts[i % len(texts)]) for i in range(per_conversation)]

    if mode == "sequential":
        # One conversation after another, 10 messages each, so trackers stay realistically short.
        results = [r for n in range(total // 10) for r in _measure_chunk(url, kind, n)]
    else:
        with ThreadPoolExecutor(max_workers=conversations) as pool:
            results = [r for rows in pool.map(conversation, range(conversations)) for r in rows]
    latencies = [ms for ms, ok in results if ok]
    errors = sum(1 for _, ok in results if not ok)
    return LatencyRow(kind, mode, len(results), percentile(latencies, 50), percentile(latencies, 95), errors)


def _measure_chunk(url: str, kind: str, number: int) -> list[tuple[float, bool]]:
    texts = MESSAGES[kind]
    sender = f"bench-{kind}-seq-{number}-{uuid.uuid4().hex[:6]}"
    with httpx.Client() as client:
        return [_send(client, url, sender, texts[(number * 10 + i) % len(texts)]) for i in range(10)]


def run_bench(settings: Settings, *, requests: int = 200, concurrency: int = 10, out: Path | None = None) -> dict:
    """Start a private stack on `settings`' ports, measure, stop it; returns (and writes) the figures."""
    started = time.monotonic()
    ready_at: dict[str, float] = {}

    def progress(line: str) -> None:
        if line.endswith(" is ready"):
            ready_at[line.split()[0]] = round(time.monotonic() - started, 1)

    stack = start_stack(settings, on_progress=progress)
    try:
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        for kind in MESSAGES:  # warm every path once
            _measure(url, kind, "concurrent", concurrency, concurrency)
        rows = [
            _measure(url, kind, mode, requests, 1 if mode == "sequential" else concurrency)
            for mode in ("sequential", "concurrent")
            for kind in MESSAGES
        ]
        memory = {s.name: round(process_tree_rss_mb(s.process.pid), 1) for s in stack.services if s.process}
    finally:
        stack.stop()
    p95 = {(r.kind, r.mode): r.p95_ms for r in rows}
    figures = {
        "latency": [asdict(r) for r in rows],
        "kb_p95_over_noop_p95": {
            mode: round(p95[("kb", mode)] / p95[("noop", mode)], 2) for mode in ("sequential", "concurrent")
        },
        "ready_after_s": ready_at,
        "rss_mb": memory,
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
    return figures


def print_report(figures: dict) -> None:
    print(f"{'kind':<6} {'mode':<11} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for row in figures["latency"]:
        print(
            f"{row['kind']:<6} {row['mode']:<11} {row['requests']:>4} {row['p50_ms']:8.1f} "
            f"{row['p95_ms']:8.1f} {row['errors']:>6}"
        )
    print(f"KB p95 / do-nothing action p95: {figures['kb_p95_over_noop_p95']}")
    print(f"ready after (s, started together): {figures['ready_after_s']}")
    print(f"resident memory (MB): {figures['rss_mb']}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_settings(base: Settings) -> Settings:
    """The bench runs its own stack on free ports and a scratch tracker store."""
    var = Path(tempfile.mkdtemp(prefix="bench-"))
    return base.model_copy(
        update={
            "rasa_port": free_port(),
            "action_port": free_port(),
            "helpdesk_port": free_port(),
            "var_dir": var,
            "tracker_db": var / "tracker.db",
        }
    )
