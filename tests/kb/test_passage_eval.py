"""Whether the passage shown holds the answer: labelled answer spans and how they are matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb import search as search_module
from bot.kb.evaluate import (
    Question,
    load_answer_spans,
    passage_holds_answer,
    score_passages,
    score_second_tries,
)
from bot.kb.index import build_index, load_index
from bot.kb.search import KnowledgeBase
from bot.kb.second_try import second_try
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


def test_no_brings_the_next_confident_article_else_another_part_of_the_one_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "SECOND_PASSAGE_MARGIN", -1.0)  # one passage shown, whatever the scores
    build_index(write_small_kb(tmp_path / "kb"), tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)
    query = "forgot password reset link"
    hits = kb.search(query)
    assert hits[0].article_id == "reset-password" and "reset link" in hits[0].passage

    # Another article is confident (every one is, at threshold 0): it comes first.
    again = second_try(kb, query, hits, "reset-password")
    assert again is not None and not again.same_article and again.hit.article_id == hits[1].article_id
    # None is: the article's other part, never the one shown.
    kb.threshold = hits[1].score + 0.01
    again = second_try(kb, query, hits, "reset-password")
    assert again is not None and again.same_article
    assert again.hit.article_id == "reset-password" and again.hit.passage == "Check your spam folder."
    # A one-passage article has no other part: nothing, and the honest answer follows.
    refunds = "refunds card business days"
    kb.threshold = 100.0
    assert second_try(kb, refunds, kb.search(refunds), "refund-times") is None

    questions = [
        Question("right", query, "reset-password", "dev", ""),
        Question("wrong-passage", query, "reset-password", "dev", ""),
        Question("wrong-article", query, "track-order", "dev", ""),
    ]
    spans = {
        "right": ["reset link that works for 30 minutes"],
        "wrong-passage": ["Check your spam folder"],
        "wrong-article": ["Track parcel"],
    }
    # The first answer missed for two of them. With track-order confident, "No" brings it: right for
    # the question about it. Without, the spam folder passage: right for the other.
    assert hits[1].article_id == "track-order"
    wrong_passage, wrong_article = questions[1:]
    kb.threshold = 0.0
    assert score_second_tries(kb, questions, spans) == (1, 2)
    assert score_second_tries(kb, [wrong_article], spans) == (1, 1)
    kb.threshold = hits[1].score + 0.01
    assert score_second_tries(kb, questions, spans) == (1, 2)
    assert score_second_tries(kb, [wrong_passage], spans) == (1, 1)
    kb.threshold = 100.0  # nothing answered at all
    assert score_second_tries(kb, questions, spans) == (0, 0)
