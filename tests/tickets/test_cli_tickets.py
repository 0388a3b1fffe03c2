"""`python -m bot tickets ...` as an agent or admin runs it, against a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.tickets.store import TicketStore
from tests.tickets.conftest import SLA
from tests.tickets.test_store import new_ticket

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    store = TicketStore(url, SLA)
    transcript = [
        {"sender": "customer", "text": f"my lock is jammed {XSS}", "at": "2026-11-25T10:00:00+00:00"},
        {"sender": "bot", "text": "I'm not sure about this one", "at": "2026-11-25T10:00:01+00:00"},
    ]
    ticket, _ = store.create(new_ticket(summary="Lock jammed", transcript=transcript, category="technical"))
    store.create(new_ticket(summary="Refund missing", conversation_id="c2", category="billing", team="Billing"))
    store.close()
    return url, ticket.reference


def bot(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "tickets", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_shows_the_queue_newest_first(database: tuple[str, str]) -> None:
    url, _ = database
    table = bot(url, "list")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].startswith("reference")
    assert "Refund missing" in lines[1] and "Lock jammed" in lines[2]
    rows = json.loads(bot(url, "list", "--json").stdout)
    assert [r["summary"] for r in rows] == ["Refund missing", "Lock jammed"]
    assert json.loads(bot(url, "list", "--json", "--status", "resolved").stdout) == []
    bad = bot(url, "list", "--status", "lost")
    assert bad.returncode == 1 and "unknown status 'lost'" in bad.stderr


def test_show_json_has_the_fields_and_the_transcript(database: tuple[str, str]) -> None:
    url, reference = database
    shown = json.loads(bot(url, "show", reference, "--json").stdout)
    assert shown["reference"] == reference and shown["status"] == "new" and shown["category"] == "technical"
    assert shown["transcript"][0]["text"].startswith("my lock is jammed")
    short = bot(url, "show", "sup-" + reference[-1])  # "SUP-1" works too
    assert short.returncode == 0 and "Audit trail" in short.stdout


def test_export_renders_markdown_json_and_escaped_html(database: tuple[str, str]) -> None:
    url, reference = database
    assert f"# {reference}: Lock jammed" in bot(url, "export", reference).stdout
    assert json.loads(bot(url, "export", reference, "--format", "json").stdout)["reference"] == reference
    page = bot(url, "export", reference, "--format", "html").stdout
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_comment_is_an_internal_note_in_the_audit_trail(database: tuple[str, str]) -> None:
    url, reference = database
    result = bot(url, "comment", reference, "Called the customer", "--author", "agent:sam@kestrel.example")
    assert result.returncode == 0 and reference in result.stdout
    events = json.loads(bot(url, "show", reference, "--json").stdout)["events"]
    assert events[-1] | {"at": None} == {
        "at": None,
        "kind": "comment",
        "actor": "agent:sam@kestrel.example",
        "body": "Called the customer",
        "public": False,
        "data": {},
    }


def test_an_unknown_reference_is_a_clear_error(database: tuple[str, str]) -> None:
    url, _ = database
    for args in (("show", "SUP-999999"), ("export", "SUP-999999"), ("comment", "SUP-999999", "hi")):
        result = bot(url, *args)
        assert result.returncode == 1 and result.stderr.strip() == "error: no ticket SUP-999999"
