"""The console's background index rebuild: one at a time, requests coalesced, a status for the page.

Most tests run a tiny Python command in place of `kb build` (real child processes, no model);
one runs the real `kb build` on a copy of two demo articles."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.kb.index import build_index
from bot.kb.rebuild import IndexRebuilder
from bot.kb.teach import add_front_matter_question
from tests.fakes import HashingEmbedder

# Notes each run in a log file, then waits for a gate file, so the test decides when a build ends.
FAKE_BUILD = """
import pathlib, sys, time
log, gate = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with log.open("a") as f:
    f.write("run\\n")
deadline = time.monotonic() + 30
while not gate.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
print("skipped broken.md: no title", file=sys.stderr)
print("\\rBatches:   0%|    | 0/2\\rBatches:  50%|##  | 1/2\\rBatches: 100%|####| 2/2", file=sys.stderr)
print("3 articles, 9 passages, 12 example questions in index")
print("a running bot answers from it within a few seconds, without a restart")
"""


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_requests_during_a_build_make_exactly_one_more_build(tmp_path: Path) -> None:
    log, gate = tmp_path / "runs.log", tmp_path / "gate"
    rebuilder = IndexRebuilder([sys.executable, "-c", FAKE_BUILD, str(log), str(gate)])
    assert not rebuilder.status().building and rebuilder.status().last_finished_at is None

    rebuilder.request()
    wait_until(lambda: runs(log) == 1)
    status = rebuilder.status()
    assert status.building and status.building_since is not None and not status.another_queued
    for _ in range(5):  # say, five questions taught while the first build runs
        rebuilder.request()
    assert rebuilder.status().another_queued

    gate.touch()
    assert rebuilder.wait(timeout=60)
    assert runs(log) == 2  # the first, and one more for everything asked meanwhile
    status = rebuilder.status()
    assert not status.building and not status.another_queued
    assert status.last_ok is True and status.last_finished_at is not None
    assert status.last_summary == "3 articles, 9 passages, 12 example questions in index"
    assert status.last_output.splitlines() == [
        "skipped broken.md: no title",  # what went wrong first
        "Batches: 100%|####| 2/2",  # a progress bar as it ended, not each of its states
        "3 articles, 9 passages, 12 example questions in index",
        "a running bot answers from it within a few seconds, without a restart",
    ]

    rebuilder.request()  # idle again: a new request starts a new build
    assert rebuilder.wait(timeout=60) and runs(log) == 3


def test_a_failed_build_is_reported_with_its_last_lines(tmp_path: Path) -> None:
    failing = "import sys; print('Traceback (most recent call last):', file=sys.stderr); "
    failing += "print('ValueError: no article could be read from kb', file=sys.stderr); sys.exit(1)"
    rebuilder = IndexRebuilder([sys.executable, "-c", failing])
    rebuilder.request()
    assert rebuilder.wait(timeout=60)
    status = rebuilder.status()
    assert status.last_ok is False and status.last_summary == ""
    assert status.last_output.endswith("ValueError: no article could be read from kb")


def test_a_build_that_hangs_is_stopped(tmp_path: Path) -> None:
    rebuilder = IndexRebuilder([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    rebuilder.request()
    assert rebuilder.wait(timeout=30)
    status = rebuilder.status()
    assert status.last_ok is False and status.last_output == "stopped after 0.5 s without finishing"


def test_a_command_that_cannot_start_is_reported_and_the_next_request_runs(tmp_path: Path) -> None:
    rebuilder = IndexRebuilder([str(tmp_path / "no-such-program")])
    rebuilder.request()
    assert rebuilder.wait(timeout=30)
    assert rebuilder.status().last_ok is False and "could not run" in rebuilder.status().last_output
    rebuilder.request()  # not stuck in "building"
    assert rebuilder.wait(timeout=30)


def test_the_real_kb_build_puts_a_taught_question_in_the_index(tmp_path: Path) -> None:
    source, index = tmp_path / "kb", tmp_path / "index"
    source.mkdir()
    for name in ("account-locked.md", "reset-password.md"):
        shutil.copy(PROJECT_ROOT / "data" / "kb" / name, source)
    build_index(source, index, HashingEmbedder(), show_progress=False)  # the index as it was
    question = "my login is frozen since this morning, what now"
    assert question not in article_questions(index)["account-locked"]

    add_front_matter_question(source, "account-locked", question, "questions")
    rebuilder = IndexRebuilder.for_index(source, index)
    rebuilder.request()
    assert rebuilder.wait(timeout=600)
    status = rebuilder.status()
    assert status.last_ok, status.last_output
    assert status.last_summary.startswith("2 articles, ")
    assert article_questions(index)["account-locked"][-1] == question
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    assert meta["model"] != HashingEmbedder.name  # built by the real model, in its own process


def article_questions(index: Path) -> dict[str, list[str]]:
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    return {a["id"]: a["questions"] for a in meta["articles"]}
