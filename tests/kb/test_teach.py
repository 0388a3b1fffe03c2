"""Adding a customer's question to an article's front matter: real files, a tmp copy of demo articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.kb.documents import FRONT_MATTER, load_articles
from bot.kb.teach import TeachError, add_front_matter_question

DEMO = PROJECT_ROOT / "data" / "kb"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """Two demo articles, the FAQ file and the HTML page, copied as they are."""
    source = tmp_path / "kb"
    (source / "devices").mkdir(parents=True)
    shutil.copy(DEMO / "account-locked.md", source)
    shutil.copy(DEMO / "doorbell-battery.md", source / "devices")  # in a subfolder: found recursively
    shutil.copy(DEMO / "faq-quick-answers.csv", source)
    shutil.copy(DEMO / "gift-wrapping.html", source)
    return source


def front_matter(path: Path) -> dict:
    return yaml.safe_load(FRONT_MATTER.match(path.read_text(encoding="utf-8")).group(1))


def test_add_appends_to_the_list_and_keeps_every_other_byte(kb: Path) -> None:
    path = kb / "account-locked.md"
    before = path.read_bytes()
    questions = front_matter(path)["questions"]
    taught = add_front_matter_question(kb, "account-locked", '  my  "acct" is\tlocked \\ again ', "questions")
    assert taught.path == path and taught.added
    after = path.read_bytes()
    # The demo writes its questions as the edit does: double-quoted, one per line.
    last_item = f"  - {json.dumps(questions[-1], ensure_ascii=False)}\n".encode()
    at = before.index(last_item) + len(last_item)
    assert after == before[:at] + b'  - "my \\"acct\\" is locked \\\\ again"\n' + before[at:]
    assert front_matter(path)["questions"] == [*questions, 'my "acct" is locked \\ again']


def test_add_keeps_windows_line_ends_and_a_list_at_the_end_of_the_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_bytes(b"---\r\ntitle: Plain\r\nquestions:\r\n- one\r\n---\r\nBody text.\r\n")
    add_front_matter_question(tmp_path, "plain", "two", "questions")
    assert path.read_bytes() == b'---\r\ntitle: Plain\r\nquestions:\r\n- one\r\n- "two"\r\n---\r\nBody text.\r\n'


def test_add_a_missing_key_before_the_closing_line(kb: Path) -> None:
    path = kb / "devices" / "doorbell-battery.md"
    text = path.read_text(encoding="utf-8")
    if "\nnot_answered:" in text:  # the demo may have the key by now: start from an article without it
        start = text.index("\nnot_answered:")
        end = text.index("\n---", start)
        path.write_text(text[:start] + text[end:], encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    meta = front_matter(path)
    taught = add_front_matter_question(kb, "doorbell-battery", "can the doorbell play my own tune", "not_answered")
    assert taught.added
    after = path.read_text(encoding="utf-8")
    closing = FRONT_MATTER.match(before).end(1)
    assert after == before[:closing] + '\nnot_answered:\n  - "can the doorbell play my own tune"' + before[closing:]
    assert front_matter(path) == {**meta, "not_answered": ["can the doorbell play my own tune"]}
    # A second one goes after the first.
    add_front_matter_question(kb, "doorbell-battery", "does it come in red", "not_answered")
    assert front_matter(path)["not_answered"] == ["can the doorbell play my own tune", "does it come in red"]


def test_a_question_already_there_is_not_added_twice(kb: Path) -> None:
    path = kb / "account-locked.md"
    before = path.read_bytes()
    taught = add_front_matter_question(kb, "account-locked", "  5 WRONG codes   = locked? ", "questions")
    assert not taught.added
    assert path.read_bytes() == before


def test_faq_rows_html_pages_and_unknown_ids_are_refused_with_a_message(kb: Path) -> None:
    files = {p: p.read_bytes() for p in kb.rglob("*") if p.is_file()}
    with pytest.raises(TeachError, match=r"is a FAQ row \(faq-quick-answers.csv\), which has no front matter"):
        add_front_matter_question(kb, "faq-outdoor-temperature", "is it ok in the snow", "questions")
    with pytest.raises(TeachError, match=r"is an HTML page \(gift-wrapping.html\), which has no front matter"):
        add_front_matter_question(kb, "gift-wrapping", "can you wrap it in red", "questions")
    with pytest.raises(TeachError, match="No article with the id 'no-such-article'"):
        add_front_matter_question(kb, "no-such-article", "anything", "questions")
    with pytest.raises(TeachError, match="The question is empty"):
        add_front_matter_question(kb, "account-locked", " \t ", "questions")
    assert {p: p.read_bytes() for p in kb.rglob("*") if p.is_file()} == files


@pytest.mark.parametrize(
    "front",
    ['questions: ["one", "two"]', 'questions: "just one"', "questions:\n  first: a mapping"],
)
def test_a_key_that_is_not_a_block_list_is_refused_and_the_file_untouched(tmp_path: Path, front: str) -> None:
    path = tmp_path / "flow.md"
    path.write_text(f"---\ntitle: Flow\n{front}\n---\nBody text.\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(TeachError, match=r"flow\.md .*edit it by hand"):
        add_front_matter_question(tmp_path, "flow", "three", "questions")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["flow.md"]  # no temporary file left


def test_an_edit_that_does_not_give_the_expected_front_matter_is_refused(tmp_path: Path) -> None:
    """What the line-by-line edit misreads (here a key written twice: YAML keeps the second list,
    the edit appends to the first) is caught by parsing the result before writing."""
    path = tmp_path / "odd.md"
    path.write_text("---\ntitle: Odd\nquestions:\n  - one\nquestions:\n  - two\n---\nBody.\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(
        TeachError, match=r"Could not add the question to odd\.md safely; edit its 'questions:' list by hand"
    ):
        add_front_matter_question(tmp_path, "odd", "three", "questions")
    assert path.read_bytes() == before


def test_the_edited_article_loads_with_the_new_question(kb: Path) -> None:
    add_front_matter_question(kb, "account-locked", "why is my login frozen", "questions")
    articles, problems = load_articles(kb)
    assert not problems
    (locked,) = [a for a in articles if a.id == "account-locked"]
    assert locked.questions[-1] == "why is my login frozen"
    assert locked.title == "My account is locked" and "5 failed attempts" in locked.body


def test_an_article_without_front_matter_gets_one_and_keeps_its_id_and_title(tmp_path: Path) -> None:
    path = tmp_path / "no-front-matter.md"
    path.write_text("# Pair the hub\n\nHold the button for five seconds.\n", encoding="utf-8")
    add_front_matter_question(tmp_path, "no-front-matter", "hub will not pair", "questions")
    assert path.read_text(encoding="utf-8") == (
        '---\nquestions:\n  - "hub will not pair"\n---\n# Pair the hub\n\nHold the button for five seconds.\n'
    )
    ((article,), problems) = load_articles(tmp_path)
    assert not problems
    assert (article.id, article.title, article.questions) == ("no-front-matter", "Pair the hub", ("hub will not pair",))


def test_an_edit_waits_for_another_process_editing_the_same_folder(kb: Path, tmp_path: Path) -> None:
    """Two helpdesks sharing one source folder take turns: no question is lost."""
    import subprocess
    import sys

    released = tmp_path / "released"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "folder = os.open(sys.argv[1], os.O_RDONLY)\n"
            "fcntl.flock(folder, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(0.5)\n"
            "open(sys.argv[2], 'w').close()\n",  # written while it still holds the lock
            str(kb),
            str(released),
        ],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        add_front_matter_question(kb, "account-locked", "unlock by carrier pigeon", "not_answered")
        assert released.exists()  # the edit waited until the other process let go
        assert front_matter(kb / "account-locked.md")["not_answered"][-1] == "unlock by carrier pigeon"
