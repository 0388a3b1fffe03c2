"""Simulated customers over REST and socket.io against one stack: latency, messages/s, errors.

Three kinds of message go through the same Rasa server in the same run:
  plain    "hello": NLU + a response from the domain, no action server (Rasa's own work only)
  noop     "ping":  NLU + a custom action that only replies (the action-server hop alone)
  kb       support questions answered from the KB by `action_answer_from_kb`

Open-loop runs: N customers for a fixed duration, each sending plain, noop, kb, kb, ... in
turn and pausing about 2 s between messages as people do, so all three kinds are measured
under the same load. Closed-loop runs: N customers with no pause, one kind at a time, for
the maximum messages per second. A customer starts a new conversation every
MESSAGES_PER_CONVERSATION messages, so trackers stay as short as real ones. With `stock_rasa`,
stock Rasa's own bot (`rasa init`'s) is measured the same way after the stack stops, so that the
KB answers' maximum is compared with stock Rasa's of the same hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from bot.bench.cluster import start_extra_rasa_servers, start_nginx
from bot.bench.common import (
    free_port,
    latency_summary,
    machine,
    percentile_ratio_interval,
    process_tree_rss_mb,
    write_json,
)
from bot.bench.socket_frames import read_turns, server_side_figures
from bot.bench.stock_rasa import stock_project, stock_rasa_server
from bot.config import Settings
from bot.launcher import start_stack

__all__ = ["KB_QUESTIONS", "TEXTS", "open_loop_duration", "run_conversations"]

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
TEXTS = {"plain": ["hello"], "noop": ["ping"], "kb": KB_QUESTIONS}
KIND_OF_TEXT = {text: kind for kind, texts in TEXTS.items() for text in texts}
# Read by channels/socket_frame_log.py in the Rasa server(s) this bench starts.
SOCKET_FRAME_LOG_VARIABLE = "SUPPORT_SOCKET_FRAME_LOG"
MIXED_KINDS = ("plain", "noop", "kb", "kb")
MESSAGES_PER_CONVERSATION = 10
REPLY_TIMEOUT_S = 30.0


class Chat(Protocol):
    # When the last `say` got its first reply part (perf_counter), where a channel can tell;
    # over socket.io a KB answer's text comes before its "Did this solve it?".
    first_part_at: float | None

    async def say(self, text: str) -> bool: ...

    async def close(self) -> None: ...


class RestChat:
    """One conversation over the REST channel: a reply is the response body."""

    first_part_at: float | None = None  # the REST body holds every part at once

    def __init__(self, client: httpx.AsyncClient, url: str, sender: str) -> None:
        self.client, self.url, self.sender = client, url, sender

    async def say(self, text: str) -> bool:
        try:
            response = await self.client.post(url=self.url, json={"sender": self.sender, "message": text})
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json())

    async def close(self) -> None:
        pass


class SocketChat:
    """One conversation over Rasa's socket.io channel.

    socket.io has no end-of-turn marker: Rasa emits one `bot_uttered` per message part, so a
    turn is over when as many parts arrived as the same text produced in a probe (`expected`).
    """

    def __init__(self, base_url: str, sender: str, expected: dict[str, int], source_address: str | None = None) -> None:
        self.base_url, self.sender, self.expected = base_url, sender, expected
        # Behind nginx, which keeps a socket.io client to one server by its address (first three
        # octets), each simulated customer connects from its own loopback address.
        self.source_address = source_address
        self.http_session: Any = None
        self.replies: asyncio.Queue[dict] = asyncio.Queue()
        self.stray = 0  # parts that arrived after their turn was counted complete
        self.first_part_at: float | None = None
        self.sio: Any = None

    async def open(self) -> None:
        import socketio

        options: dict[str, Any] = {}
        if self.source_address:
            import aiohttp

            connector = aiohttp.TCPConnector(local_addr=(self.source_address, 0))
            self.http_session = options["http_session"] = aiohttp.ClientSession(connector=connector)
        self.sio = socketio.AsyncClient(reconnection=False, **options)
        confirmed = asyncio.Event()
        self.sio.on("session_confirm", lambda *_: confirmed.set())
        self.sio.on("bot_uttered", self.replies.put_nowait)
        await self.sio.connect(self.base_url, transports=["websocket"], wait_timeout=REPLY_TIMEOUT_S)
        await self.sio.emit("session_request", {"session_id": self.sender})
        await asyncio.wait_for(confirmed.wait(), REPLY_TIMEOUT_S)

    async def say(self, text: str) -> bool:
        while not self.replies.empty():
            self.replies.get_nowait()
            self.stray += 1
        self.first_part_at = None
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.sender})
        try:
            for part in range(self.expected.get(text, 1)):
                await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT_S)
                if part == 0:
                    self.first_part_at = time.perf_counter()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()
        if self.http_session is not None:
            await self.http_session.close()


def loopback_address(number: int) -> str:
    """A loopback address of its own for customer `number`: 127.0.<1-250>.1 (Linux answers all of 127/8)."""
    return f"127.0.{number % 250 + 1}.1"


async def probe_socket_parts(base_url: str, texts: list[str], quiet_s: float = 1.5) -> dict[str, int]:
    """How many `bot_uttered` parts each text produces in a fresh conversation."""

    async def count(text: str) -> int:
        chat = SocketChat(base_url, f"bench-probe-{uuid.uuid4().hex[:8]}", {})
        await chat.open()
        try:
            await chat.sio.emit("user_uttered", {"message": text, "session_id": chat.sender})
            parts = 0
            while True:
                try:
                    await asyncio.wait_for(chat.replies.get(), REPLY_TIMEOUT_S if parts == 0 else quiet_s)
                except TimeoutError:
                    return parts
                parts += 1
        finally:
            await chat.close()

    counts = await asyncio.gather(*(count(t) for t in texts))
    return dict(zip(texts, counts, strict=True))


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    done_at: float
    first_part_ms: float | None = None


async def _customer(
    open_chat, kinds: tuple[str, ...], number: int, deadline: float, think_s: float, samples: list[Sample]
) -> int:
    rng = random.Random(number)
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s))  # customers arrive spread out, not in lockstep
    sent = stray = 0
    while time.monotonic() < deadline:
        chat = await open_chat(f"bench-{number}-{uuid.uuid4().hex[:8]}")
        try:
            for _ in range(MESSAGES_PER_CONVERSATION):
                if time.monotonic() >= deadline:
                    break
                kind = kinds[sent % len(kinds)]
                texts = TEXTS[kind]
                text = texts[(number + sent) % len(texts)]
                started = time.perf_counter()
                ok = await chat.say(text)
                ended = time.perf_counter()
                first = (chat.first_part_at - started) * 1000 if chat.first_part_at else None
                samples.append(Sample(kind, (ended - started) * 1000, ok, time.monotonic(), first))
                sent += 1
                if think_s:
                    await asyncio.sleep(rng.uniform(0.75, 1.25) * think_s)
        finally:
            stray += getattr(chat, "stray", 0)
            await chat.close()
    return stray


async def run_load(
    settings: Settings, channel: str, customers: int, think_s: float, kinds: tuple[str, ...], duration_s: float,
    expected_parts: dict[str, int], loop: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One run: `customers` conversations for `duration_s`; messages started after it are not sent.
    `loop` names the run ("open" with pauses, "closed" without, unless given). Behind a load balancer
    (`settings.rasa_server_url`), each socket.io customer comes from its own loopback address."""
    spread_sources = settings.rasa_server_url is not None
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=customers + 5, max_keepalive_connections=customers + 5)
    async with httpx.AsyncClient(timeout=REPLY_TIMEOUT_S, limits=limits) as client:
        opened = 0

        async def open_chat(sender: str) -> Chat:
            nonlocal opened
            if channel == "rest":
                return RestChat(client, f"{settings.rasa_url}/webhooks/rest/webhook", sender)
            opened += 1
            chat = SocketChat(
                settings.rasa_url, sender, expected_parts, loopback_address(opened) if spread_sources else None
            )
            await chat.open()
            return chat

        started = time.monotonic()
        deadline = started + duration_s
        strays = await asyncio.gather(
            *(_customer(open_chat, kinds, n, deadline, think_s, samples) for n in range(customers))
        )
    elapsed = max((s.done_at for s in samples), default=time.monotonic()) - started
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    latencies = {kind: [s.ms for s in rows if s.ok] for kind, rows in by_kind.items()}
    interval = percentile_ratio_interval(latencies.get("kb", []), latencies.get("noop", []))
    return {
        "channel": channel,
        "customers": customers,
        "think_s": think_s,
        # How far the KB p95 / noop p95 ratio moves with these samples alone (bootstrap, 90%).
        "kb_over_noop_p95_interval": list(interval) if interval else None,
        "loop": loop or ("closed" if think_s == 0 else "open"),
        "duration_s": round(elapsed, 1),
        "messages": len(samples),
        "messages_per_s": round(len(samples) / elapsed, 2) if elapsed > 0 else 0.0,
        "errors": sum(1 for s in samples if not s.ok),
        "stray_socket_parts": sum(strays),
        "kinds": {
            kind: {
                **latency_summary([s.ms for s in rows if s.ok]),
                "errors": sum(1 for s in rows if not s.ok),
                "messages_per_s": round(len(rows) / elapsed, 2) if elapsed > 0 else 0.0,
                # socket.io only: until the first part (a KB answer's text) rather than the last.
                "first_part": latency_summary(firsts) if (firsts := _first_parts(rows)) else None,
                "first_to_last_part": latency_summary(gaps) if (gaps := _part_gaps(rows)) else None,
            }
            for kind, rows in by_kind.items()
        },
    }


def open_loop_duration(duration_s: float, customers: int, think_s: float, min_noop_answers: int) -> float:
    """Seconds for an open-loop run: `duration_s`, or longer if needed for about `min_noop_answers`
    do-nothing answers, the kind the KB answers' p95 is compared with and the rarer of the two.

    One customer pausing 2 s sends a do-nothing message every 8 s or so: in 180 s, 22 of them and
    42 KB answers, so each p95 was the second or third slowest answer and the ratio's 90% interval
    0.4-0.6 wide (docs/benchmarks.md). Ten customers get 100 in about 80 s.
    """
    per_noop_s = think_s * len(MIXED_KINDS) / MIXED_KINDS.count("noop") / max(customers, 1)
    return max(duration_s, min_noop_answers * per_noop_s)


def _first_parts(rows: list[Sample]) -> list[float]:
    return [s.first_part_ms for s in rows if s.ok and s.first_part_ms is not None]


def _part_gaps(rows: list[Sample]) -> list[float]:
    return [s.ms - s.first_part_ms for s in rows if s.ok and s.first_part_ms is not None]


def run_conversations(
    settings: Settings,
    *,
    duration_s: float = 60,
    closed_duration_s: float = 30,
    levels: tuple[int, ...] = (1, 10, 50),
    closed_customers: int = 10,
    sequential_duration_s: float = 20,
    think_s: float = 2.0,
    channels: tuple[str, ...] = ("rest", "socketio"),
    behind_nginx: int = 0,
    min_noop_answers: int = 100,
    stock_rasa: Path | None = None,
    out=None,
) -> dict[str, Any]:
    """Start a private stack, run every load, stop it; returns (and writes) the figures.

    `min_noop_answers`: an open-loop run lasts longer than `duration_s` when fewer do-nothing
    answers than this would come in it (open_loop_duration).

    `behind_nginx`: that many Rasa servers behind nginx, the customers talking to nginx
    (docs/deploy.md; `settings` must name the shared tracker store and Redis); 0: one server.

    `stock_rasa`: a folder for `rasa init`'s bot (made once and kept); after this stack stops, that
    bot's "hello" is measured in a closed loop like ours (bot/bench/stock_rasa.py).
    """
    figures: dict[str, Any] = {"machine": machine(), "think_s": think_s}
    # Made (and trained) before anything is measured, so that the training disturbs no run.
    stock = stock_project(stock_rasa) if stock_rasa is not None and closed_duration_s else None
    started = time.monotonic()
    ready_at: dict[str, float] = {}

    def progress(line: str) -> None:
        if line.endswith(" is ready"):
            ready_at[line.split()[0]] = round(time.monotonic() - started, 1)

    # The Rasa server(s) log when each socket.io message arrives and each reply leaves: the
    # server's share of what the customers measure (bot/bench/socket_frames.py).
    frame_log = settings.var_dir / "socket_frames.log"
    with _environment(SOCKET_FRAME_LOG_VARIABLE, str(frame_log)):
        stack = start_stack(settings, on_progress=progress)
    figures["startup"] = {"ready_after_s": ready_at, "all_ready_after_s": round(time.monotonic() - started, 1)}
    stacks, nginx = [stack], None
    try:
        if behind_nginx:
            with _environment(SOCKET_FRAME_LOG_VARIABLE, str(frame_log)):
                others, more = start_extra_rasa_servers(settings, behind_nginx - 1, settings.var_dir)
            stacks += more
            nginx = start_nginx(settings.var_dir / "nginx", [settings, *others])
            figures["behind_nginx"] = {"rasa_servers": behind_nginx, "tracker_store": "postgresql", "redis": True}
            settings = settings.model_copy(update={"rasa_server_url": nginx.url})  # the customers' way in
        figures["rss_mb_idle"] = _memory(stacks)
        all_texts = sorted({t for texts in TEXTS.values() for t in texts})
        expected = asyncio.run(probe_socket_parts(settings.rasa_url, all_texts))
        figures["socket_parts_per_text"] = expected

        def measure(channel: str, customers: int, think: float, kinds: tuple[str, ...], seconds: float,
                    loop: str | None = None) -> dict[str, Any]:  # fmt: skip
            began = time.monotonic()
            run = asyncio.run(run_load(settings, channel, customers, think, kinds, seconds, expected, loop))
            if channel == "socketio":
                turns = read_turns(frame_log)
                run["server_side"] = server_side_figures(turns, KIND_OF_TEXT, began, time.monotonic())
            _say(run)
            return run

        runs = []
        for channel in channels:
            # Warm every path once (first KB search, first socket connection) outside the figures.
            asyncio.run(run_load(settings, channel, 2, 0, MIXED_KINDS, 3, expected))
            # One customer, no pause, all three kinds in turn: every message alone on the server
            # (about 200 KB answers in 20 s here), for latency without queueing.
            if sequential_duration_s:
                runs.append(measure(channel, 1, 0, MIXED_KINDS, sequential_duration_s, "sequential"))
            for customers in levels:
                cell_s = open_loop_duration(duration_s, customers, think_s, min_noop_answers)
                runs.append(measure(channel, customers, think_s, MIXED_KINDS, cell_s))
            for kind in TEXTS if closed_duration_s else ():
                runs.append(measure(channel, closed_customers, 0, (kind,), closed_duration_s))
        figures["runs"] = runs
        figures["rss_mb_after_load"] = _memory(stacks)
        if nginx is not None:
            figures["behind_nginx"]["requests_by_server"] = nginx.requests_by_server()
    finally:
        if nginx is not None:
            nginx.stop()
        for each in reversed(stacks):
            each.stop()
    if stock is not None:
        figures["stock_rasa"] = _measure_stock_rasa(settings, stock, closed_customers, closed_duration_s)
    figures["targets"] = _targets(figures["runs"], levels, figures.get("stock_rasa"))
    write_json(out, figures)
    return figures


def _measure_stock_rasa(settings: Settings, project: Path, customers: int, seconds: float) -> dict[str, Any]:
    """Stock Rasa's "hello" in a closed loop of `customers` REST conversations, alone on the machine
    as this project's stack was for its own closed loops."""
    with stock_rasa_server(project, free_port()) as url:
        stock = settings.model_copy(update={"rasa_server_url": url})
        asyncio.run(run_load(stock, "rest", 2, 0, ("plain",), 3, {}))  # warm, outside the figures
        run = asyncio.run(run_load(stock, "rest", customers, 0, ("plain",), seconds, {}, "closed"))
    run["server"] = "stock rasa init bot, rasa run"
    _say(run)
    return run


def _memory(stacks) -> dict[str, float]:
    # The first stack's servers by name; more Rasa servers as rasa-2, rasa-3, ...
    memory = {}
    for n, stack in enumerate(stacks):
        for s in stack.services:
            if s.process:
                memory[s.name if n == 0 else f"{s.name}-{n + 1}"] = round(process_tree_rss_mb(s.process.pid), 1)
    return memory


def _say(run: dict[str, Any]) -> None:
    kinds = ", ".join(f"{k} p95 {v['p95_ms']} ms (n {v['n']})" for k, v in run["kinds"].items())
    interval = run.get("kb_over_noop_p95_interval")
    ratio = f"; kb/noop p95 90% interval {interval[0]}-{interval[1]}" if interval else ""
    first = (run["kinds"].get("kb") or {}).get("first_part")
    if first:
        ratio += f"; kb first part p95 {first['p95_ms']} ms"
    server = _server_kb_over_noop_p95(run)
    if server:
        ratio += f"; in the server kb p95 {server[0]} / noop p95 {server[1]} ms"
    print(
        f"{run['channel']:<8} {run['loop']:<6} {run['customers']:>3} customers: {run['messages_per_s']:6.1f} msg/s, "
        f"{run['errors']} errors; {kinds}{ratio}",
        flush=True,
    )


def _server_kb_over_noop_p95(run: dict[str, Any]) -> tuple[float, float] | None:
    """KB and do-nothing p95 as timed in the Rasa server (socket.io only), when both were."""
    server = run.get("server_side") or {}
    kb, noop = (server.get(kind, {}).get("p95_ms") for kind in ("kb", "noop"))
    return (kb, noop) if kb and noop else None


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """`name=value` in this process's environment, which the servers started meanwhile inherit."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


STOCK_RASA_MSGS_PER_S = 40.0  # stock Rasa 3.6, 10 closed-loop conversations (from the issue)


def _targets(
    runs: list[dict[str, Any]], levels: tuple[int, ...], stock_run: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The issue's targets, judged on what was measured (None where a run is missing)."""
    out: dict[str, Any] = {}
    for run in runs:
        kinds = run["kinds"]
        label = f"{run['channel']}_{run['loop']}_{run['customers']}"
        if run["loop"] != "closed" and kinds.get("kb", {}).get("p95_ms") and kinds.get("noop", {}).get("p95_ms"):
            out[f"{label}_kb_p95_over_noop_p95"] = round(kinds["kb"]["p95_ms"] / kinds["noop"]["p95_ms"], 2)
            if run.get("kb_over_noop_p95_interval"):
                out[f"{label}_kb_p95_over_noop_p95_90pct_interval"] = run["kb_over_noop_p95_interval"]
            if (kinds["kb"].get("first_part") or {}).get("p95_ms"):
                # Until the answer's text shows, without the "Did this solve it?" after it.
                first = kinds["kb"]["first_part"]["p95_ms"]
                out[f"{label}_kb_first_part_p95_over_noop_p95"] = round(first / kinds["noop"]["p95_ms"], 2)
            if server := _server_kb_over_noop_p95(run):
                # From the message's arrival in the Rasa server to the turn's last reply leaving it.
                out[f"{label}_server_kb_p95_over_noop_p95"] = round(server[0] / server[1], 2)
        if run["loop"] == "open" and run["customers"] == max(levels) and kinds:  # none when too short to send
            worst = max((v["p95_ms"] or 0) for v in kinds.values())
            out[f"{label}_worst_p95_ms"] = worst
            out[f"{label}_p95_under_1s"] = worst < 1000
        if run["loop"] == "closed":
            (kind,) = kinds
            out[f"{label}_{kind}_messages_per_s"] = run["messages_per_s"]
            if kind == "kb" and stock_run and stock_run["messages_per_s"]:
                # The maximum against stock Rasa's, both measured in this run.
                out[f"{label}_kb_over_stock_rasa"] = round(run["messages_per_s"] / stock_run["messages_per_s"], 2)
    out["errors_total"] = sum(run["errors"] for run in runs)
    out["stock_rasa_reference_messages_per_s"] = STOCK_RASA_MSGS_PER_S
    if stock_run:
        out["stock_rasa_messages_per_s"] = stock_run["messages_per_s"]
        out["errors_total"] += stock_run["errors"]
    return out
