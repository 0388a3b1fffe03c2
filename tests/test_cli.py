"""The command line as a user runs it (real subprocesses, the real embedding model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from tests.factories import write_small_kb


def bot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    source = write_small_kb(root / "kb")
    (source / "broken.md").write_text("---\ntitle: [oops\n---\ntext\n")
    (source / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    result = bot("kb", "build", "--source", str(source), "--index", str(root / "index"))
    assert result.returncode == 0, result.stderr
    assert "3 articles" in result.stdout and "2 problems" in result.stdout
    assert "a running bot answers from it within a few seconds" in result.stdout
    assert f"skipped {source / 'broken.md'}: broken front matter" in result.stderr
    assert f"skipped {source / 'binary.md'}: not UTF-8" in result.stderr
    # The configured model was adapted to the demo help centre, not to these articles.
    assert "the embedding model was adapted to other articles (0 of today's 3" in result.stderr
    return root / "index"


def test_kb_build_twice_embeds_nothing_the_second_time(small_index: Path) -> None:
    source = small_index.parent / "kb"
    result = bot("kb", "build", "--source", str(source), "--index", str(small_index))
    assert "(0 embedded, 3 unchanged, 0 removed, 2 problems)" in result.stdout
    assert "a running bot" not in result.stdout  # nothing changed for it


def test_kb_build_embeds_on_onnxruntime_without_loading_sentence_transformers(tmp_path: Path) -> None:
    # The console's rebuild after each taught question waits for this command: the ONNX export
    # gives the same vectors without loading the sentence-transformers model.
    source = write_small_kb(tmp_path / "kb")
    code = (
        "import sys; from bot.cli import main; "
        f"main(['kb', 'build', '--source', {str(source)!r}, '--index', {str(tmp_path / 'index')!r}]); "
        "print('sentence_transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    assert "(3 embedded, 0 unchanged" in result.stdout
    assert result.stdout.splitlines()[-1] == "False"


def test_kb_query_follows_the_jsonl_contract(small_index: Path) -> None:
    lines = [
        {"id": "a", "text": "I forgot my password"},
        {"id": 7, "text": "   "},
        {"id": "long", "text": "password " * 2000},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    result = bot("kb", "query", "--index", str(small_index), "--jsonl", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7, "long", None]
    assert out[0]["decision"] == "answer"
    assert out[0]["hits"][0]["article_id"] == "reset-password"
    assert set(out[0]["hits"][0]) == {"article_id", "title", "url", "score", "passage"}
    assert len(out[0]["hits"]) == 3  # every article of this tiny KB, best first
    assert out[1] == {"id": 7, "decision": "escalate", "hits": []}
    assert out[2]["decision"] in ("answer", "escalate") and out[2]["hits"]
    assert out[3]["error"].startswith("line 4:")


def test_kb_search_prints_a_readable_ranked_list(small_index: Path) -> None:
    result = bot("kb", "search", "where is my parcel", "--index", str(small_index))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("decision: ")
    assert "1. Track your order  [track-order]" in result.stdout
    assert "https://help.example/track-order" in result.stdout
    assert "read as" not in result.stdout


def test_kb_search_says_how_it_read_a_misspelt_question(small_index: Path) -> None:
    result = bot("kb", "search", "forgot my  pasword", "--index", str(small_index))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "read as: forgot my password"
    assert "1. Reset your password  [reset-password]" in result.stdout


def test_kb_calibrate_uses_a_file_without_splits_whole_and_explains_a_useless_one(
    small_index: Path, tmp_path: Path
) -> None:
    rows = [
        {"text": "i forgot my password", "article_id": "reset-password"},
        {"text": "where is my parcel now", "article_id": "track-order"},
        {"text": "when does my refund arrive", "article_id": "refund-times"},
        {"text": "what is the weather in paris tomorrow"},
        {"text": "recommend me a pizza place"},
    ]
    questions = tmp_path / "ours.jsonl"
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = bot("kb", "calibrate", "--questions", str(questions), "--index", str(small_index))
    assert result.returncode == 0, result.stderr
    assert " on 5 questions: correct-answer rate " in result.stdout
    assert "SUPPORT_KB_ANSWER_THRESHOLD=" in result.stdout

    questions.write_text("".join(json.dumps(row) + "\n" for row in rows[:3]))  # nothing to refuse
    useless = bot("kb", "calibrate", "--questions", str(questions), "--index", str(small_index))
    assert useless.returncode == 1 and "questions it must not answer" in useless.stderr
    assert "Traceback" not in useless.stderr

    questions.write_text('{"text": "fine"}\n["not", "an", "object"]\n')
    broken = bot("kb", "calibrate", "--questions", str(questions), "--index", str(small_index))
    assert broken.returncode == 1 and f"{questions}, line 2: expected a JSON object" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_kb_calibrate_takes_the_dev_and_calibration_splits_of_several_files(small_index: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo.jsonl"
    demo.write_text(
        json.dumps({"text": "i forgot my password", "article_id": "reset-password", "split": "dev"})
        + "\n"
        + json.dumps({"text": "when does my refund arrive", "article_id": "refund-times", "split": "test"})
        + "\n"
        + json.dumps({"text": "recommend me a pizza place", "split": "test"})
        + "\n"
    )
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"text": "where is my parcel now", "article_id": "track-order", "split": "calibration"})
        + "\n"
        + json.dumps({"text": "what is the weather in paris tomorrow", "split": "calibration"})
        + "\n"
    )
    result = bot("kb", "calibrate", "--questions", str(demo), str(extra), "--index", str(small_index))
    assert result.returncode == 0, result.stderr
    assert " on 3 questions: " in result.stdout  # the test split is left for reporting

    alone = bot("kb", "calibrate", "--questions", str(demo), "--index", str(small_index))
    assert alone.returncode == 1 and "questions it must not answer" in alone.stderr  # its dev split has none


def test_kb_search_with_a_missing_index_explains_how_to_build_one(tmp_path: Path) -> None:
    result = bot("kb", "search", "hello", "--index", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "python -m bot kb build" in result.stderr
    assert "Traceback" not in result.stderr


def test_kb_export_onnx_writes_the_model_once(tmp_path: Path) -> None:
    first = bot("kb", "export-onnx", "--dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    path = Path(first.stdout.strip().splitlines()[-1])
    # The configured model, adapted to data/kb (bot/kb/adapt.py), under its fingerprinted name.
    assert path.parent.name.startswith("all-MiniLM-L6-v2-kb-") and path.name == "model.onnx"
    assert path.parent.parent == tmp_path and path.stat().st_size > 10_000_000
    written = path.stat().st_mtime_ns
    again = bot("kb", "export-onnx", "--dir", str(tmp_path))
    assert again.returncode == 0 and path.stat().st_mtime_ns == written  # reused, not exported again
    stock = bot("kb", "export-onnx", "--dir", str(tmp_path), "--stock")
    assert stock.returncode == 0, stock.stderr
    assert Path(stock.stdout.strip().splitlines()[-1]) == tmp_path / "all-MiniLM-L6-v2" / "model.onnx"


def test_kb_gaps_lists_the_questions_the_bot_could_not_answer(tmp_path: Path) -> None:
    from bot.tickets.kb_questions import KBQuestionLog
    from bot.tickets.store import TicketStore
    from tests.tickets.conftest import SLA

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}", SLA)
    log = KBQuestionLog(store.sessions)
    log.record("c1", "can the doorbell play my own tune, call me on +31 20 555 0142", "escalated",
               article_id="doorbell-battery", score=1.21)  # fmt: skip
    log.record("c2", "doorbell battery dies in a week", "answered", article_id="doorbell-battery", score=2.3)
    log.record("c2", "doorbell battery dies in a week", "not_helpful", article_id="doorbell-battery")
    log.flush()
    store.close()
    env = {**os.environ, "SUPPORT_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "gaps", "--days", "7"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 questions to the knowledge base, 1 answered, 1 not answered (50%)" in result.stdout
    assert "can the doorbell play my own tune" in result.stdout and "555 0142" not in result.stdout
    assert "[closest: doorbell-battery 1.21]" in result.stdout
    assert '"Yes, that solved it" 0 (0%), "No" 1' in result.stdout
    assert "1 /    0 / 1    doorbell-battery" in result.stdout
    assert "doorbell battery dies in a week  [given: doorbell-battery]" in result.stdout  # a "No" to look at
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "gaps", "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = json.loads(exported.stdout)
    assert report["counts"] == {"answered": 1, "escalated": 1, "off_topic": 0, "solved": 0, "not_helpful": 1}
    assert report["unanswered"][0]["closest_article"] == "doorbell-battery"
    assert [(n["question"], n["article_given"]) for n in report["said_no"]] == [
        ("doorbell battery dies in a week", "doorbell-battery")
    ]
    assert "555 0142" not in exported.stdout
    assert report["articles"] == [{"article_id": "doorbell-battery", "answered": 1, "solved": 0, "not_helpful": 1}]
    other = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "gaps", "--json", "--article", "reset-password"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert json.loads(other.stdout)["unanswered"] == []  # none of them was closest to that article
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "gaps", "--days", "0"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0 and "--days and --limit must be at least 1" in bad.stderr
    assert "Traceback" not in bad.stderr
