"""Tickets per second on SQLite and PostgreSQL: the store, the helpdesk API, and the chat.

  store   TicketStore.create one after another, and from 4 threads (each create is one
          transaction with the per-hour limit checks, the SUP- reference and the audit event)
  api     POST /api/tickets/{ref}/replies over HTTP to a real helpdesk (uvicorn); the API has
          no endpoint that creates tickets: customers open them in the chat
  chat    REST conversations that run the whole ticket form (ask, email, description,
          category, order number) against a full stack; tickets completed per second
PostgreSQL runs in a scratch database that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.bench.common import bench_settings, free_port, latency_summary, machine, write_json
from bot.config import PROJECT_ROOT, Settings
from bot.launcher import Service, start_stack

__all__ = ["postgres_database", "run_tickets"]

# psycopg2 named explicitly: SQLAlchemy 2.1 would pick psycopg 3, which is not installed.
POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
STORE_THREADS = 4
CHAT_TURNS_MAX = 8
DESCRIPTION = "my camera keeps going offline every night since the last update"


@contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL, name: str = "kestrel_bench"):
    """A fresh PostgreSQL database for one run, dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text

    name = f"{name}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _store(url: str, settings: Settings):
    from bot.tickets.store import TicketStore

    # bench_settings lifts the per-hour limits: a few simulated customers open many tickets.
    return TicketStore.from_settings(settings.model_copy(update={"database_url": url}))


def _new_ticket(number: int, tag: str):
    from bot.tickets.store import NewTicket

    return NewTicket(
        customer_email=f"customer{number}@example.com",
        summary=f"Camera {number} keeps going offline",
        description="It drops off the wifi every night since the last update.",
        category="technical",
        team="Technical",
        priority="normal",
        channel="rest",
        conversation_id=f"bench-{tag}-{number}",
        transcript=[{"sender": "customer", "text": "my camera keeps going offline", "at": "2026-01-01T00:00:00Z"}],
        idempotency_key=f"bench-{tag}-{number}",
    )


def store_creates(url: str, count: int, settings: Settings) -> dict[str, Any]:
    store = _store(url, settings)
    try:
        rows: dict[str, Any] = {}
        for label, threads in (("sequential", 1), (f"{STORE_THREADS}_threads", STORE_THREADS)):
            tag = uuid.uuid4().hex[:6]

            def create(number: int, tag: str = tag) -> float:
                started = time.perf_counter()
                store.create(_new_ticket(number, tag))
                return (time.perf_counter() - started) * 1000

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=threads) as pool:
                latencies = list(pool.map(create, range(count)))
            elapsed = time.perf_counter() - started
            rows[label] = {"tickets": count, "tickets_per_s": round(count / elapsed, 1), **latency_summary(latencies)}
        return rows
    finally:
        store.close()


def api_replies(url: str, count: int, concurrency: int, settings: Settings) -> dict[str, Any]:
    """Agent replies through a real helpdesk process on `url`."""
    from bot.tickets.users import UserDirectory

    store = _store(url, settings)
    tag = uuid.uuid4().hex[:6]
    try:
        directory = UserDirectory(store.sessions)
        agent = directory.create(f"bench-{tag}@kestrel.example", "bench password 123", role="admin")
        token = directory.issue_token(agent.id, "bench")
        references = [store.create(_new_ticket(n, tag))[0].reference for n in range(concurrency)]
    finally:
        store.close()
    port = free_port()
    env = {**settings.as_environment(), "DATABASE_URL": url, "SUPPORT_OUTBOX_ENABLED": "false"}
    helpdesk = Service(
        "helpdesk-bench",
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "uvicorn", "bot.web.app:app", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        env=env,
    )
    helpdesk.start(settings.var_dir / "log")
    try:
        deadline = time.monotonic() + 60
        while not helpdesk.is_healthy():
            if helpdesk.exited() or time.monotonic() > deadline:
                raise RuntimeError(f"the helpdesk did not start:\n{helpdesk.log_tail()}")
            time.sleep(0.2)
        return asyncio.run(_post_replies(f"http://127.0.0.1:{port}", token, references, count))
    finally:
        helpdesk.terminate()
        helpdesk.wait_or_kill(time.monotonic() + 10)


async def _post_replies(base: str, token: str, references: list[str], count: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def agent(reference: str, replies: int) -> None:
            nonlocal errors
            for number in range(replies):
                started = time.perf_counter()
                response = await client.post(f"/api/tickets/{reference}/replies", json={"body": f"Reply {number}"})
                if response.status_code == 201:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        per_agent = max(1, count // len(references))
        await asyncio.gather(*(agent(reference, per_agent) for reference in references))
        elapsed = time.perf_counter() - started
    done = len(latencies) + errors
    return {
        "replies": done,
        "agents": len(references),
        "replies_per_s": round(done / elapsed, 1),
        "errors": errors,
        **latency_summary(latencies),
    }


def _chat_answer(bot_text: str, email: str) -> str | None:
    """What a customer types next in the ticket form; None once the ticket is opened."""
    lowered = bot_text.lower()
    if "opened ticket" in lowered:
        return None
    if "email" in lowered and "@" not in lowered.split("email", 1)[1][:80]:
        return email
    if "order number" in lowered:
        return "skip"
    if "topic" in lowered:
        return "technical"
    if "describe" in lowered:
        return DESCRIPTION
    return "/affirm"  # a proposed summary or a duplicate question: accept and go on


async def chat_tickets(settings: Settings, customers: int, duration_s: float) -> dict[str, Any]:
    """Closed-loop customers, each opening one ticket per conversation through the form."""
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    completed: list[float] = []
    failures = 0

    async def customer(client: httpx.AsyncClient, number: int, deadline: float) -> None:
        nonlocal failures
        while time.monotonic() < deadline:
            sender = f"bench-ticket-{number}-{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            text: str | None = "open a ticket"
            for _ in range(CHAT_TURNS_MAX):
                response = await client.post(url, json={"sender": sender, "message": text})
                bot_text = "\n".join(m.get("text", "") for m in response.json()) if response.status_code == 200 else ""
                text = _chat_answer(bot_text, f"{sender}@example.com")
                if text is None:
                    completed.append(time.perf_counter() - started)
                    break
            else:
                failures += 1

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(customer(client, n, started + duration_s) for n in range(customers)))
    elapsed = time.monotonic() - started
    return {
        "customers": customers,
        "tickets": len(completed),
        "tickets_per_s": round(len(completed) / elapsed, 2),
        "failed_conversations": failures,
        **{k: v for k, v in latency_summary([s * 1000 for s in completed]).items() if k != "n"},
    }


def run_tickets(
    base: Settings,
    *,
    creates: int = 500,
    replies: int = 500,
    api_concurrency: int = 8,
    chat_customers: int = 10,
    chat_duration_s: float = 30,
    databases: tuple[str, ...] = ("sqlite", "postgresql"),
    out: Path | None = None,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"machine": machine(), "databases": {}}
    for database in databases:
        with _database(database, base) as url:
            settings = bench_settings(base, database_url=url)
            row = {
                "store": store_creates(url, creates, settings),
                "api_replies": api_replies(url, replies, api_concurrency, settings),
            }
            if chat_customers:
                stack = start_stack(settings, on_progress=lambda _line: None)
                try:
                    asyncio.run(chat_tickets(settings, 1, 3))  # warm the form's path once
                    row["chat"] = asyncio.run(chat_tickets(settings, chat_customers, chat_duration_s))
                finally:
                    stack.stop()
            figures["databases"][database] = row
            print(f"{database}: {row}", flush=True)
    write_json(out, figures)
    return figures


@contextmanager
def _database(kind: str, base: Settings):
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    elif kind == "sqlite":
        yield bench_settings(base).tickets_database_url  # a file in a fresh scratch folder
    else:
        raise ValueError(f"unknown database '{kind}': use sqlite or postgresql")
