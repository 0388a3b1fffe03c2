"""Whether the passage shown holds the answer: labelled answer spans and how they are matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb import search as search_module
from bot.kb.evaluate import Question, load_answer_spans, passage_holds_answer, score_passages
from bot.kb.index import build_index, load_index
from bot.kb.search import KnowledgeBase
from tests.factories import write_small_kb
from tests.fakes import HashingEmbedder


def test_a_span_is_found_as_the_passage_shows_it() -> None:
    passage = "Open the sign-in page and choose Forgot password. We email you a reset link."
    # Copied from the Markdown source: emphasis, a link and another line break.
    assert passage_holds_answer(passage, ["choose **Forgot password**.\n We email"])
    assert passage_holds_answer(passage, ["[Open the sign-in page](https://x.example/signin)"])
    assert passage_holds_answer(passage, ["nothing like it", "a reset link"])  # any one of them
    assert not passage_holds_answer(passage, ["a reset code"])
    assert not passage_holds_answer(passage, [])


def test_a_span_copied_from_a_table_row_is_found_in_the_rows_sentence() -> None:
    row_as_shown = "Standard: Delivery time 2-4 business days; Cost EUR 4.95."
    assert passage_holds_answer(row_as_shown, ["Standard | 2-4 business days | EUR 4.95"])
    assert not passage_holds_answer(row_as_shown, ["Express | 1 business day | EUR 9.95"])


def test_spans_load_without_the_questions_only_a_whole_article_answers(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text('{"id": "q1", "spans": ["a reset link"]}\n\n{"id": "q2", "spans": [], "note": "the table"}\n')
    assert load_answer_spans(path) == {"q1": ["a reset link"]}
    path.write_text('{"id": "q1", "spans": ["a reset link"]}\n{"id": "q2", "spans": "a reset link"}\n')
    with pytest.raises(ValueError, match=r"spans.jsonl, line 2"):
        load_answer_spans(path)
    path.write_text('{"id": "q1", "spans": ["a reset link"]}\n{"id": "q2", "spans": [\n')  # not JSON
    with pytest.raises(ValueError, match=r"spans.jsonl, line 2"):
        load_answer_spans(path)


def test_passages_are_scored_only_where_the_right_article_is_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "SECOND_PASSAGE_MARGIN", -1.0)  # one passage shown, whatever the scores
    build_index(write_small_kb(tmp_path / "kb"), tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)
    questions = [
        Question("right", "forgot password reset link", "reset-password", "dev", ""),
        Question("wrong-passage", "forgot password reset link", "reset-password", "dev", ""),
        Question("wrong-article", "forgot password reset link", "track-order", "dev", ""),
        Question("unlabelled", "forgot password reset link", "reset-password", "dev", ""),
    ]
    spans = {
        "right": ["reset link that works for 30 minutes"],
        "wrong-passage": ["Check your spam folder"],
        "wrong-article": ["Track parcel"],
    }
    assert score_passages(kb, questions, spans) == (1, 2)
    kb.threshold = 100.0  # nothing is answered: no passage is shown
    assert score_passages(kb, questions, spans) == (0, 0)
