"""The evaluation questions are usable and stay independent of each other and of the articles."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.cli import DEMO_QUESTION_SETS, HELD_OUT_SETS
from bot.config import PROJECT_ROOT
from bot.kb.documents import load_articles
from bot.kb.evaluate import load_questions

EVAL = PROJECT_ROOT / "eval"


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@pytest.fixture(scope="module")
def articles() -> dict:
    found, problems = load_articles(PROJECT_ROOT / "data" / "kb")
    assert not problems
    return {article.id: article for article in found}


@pytest.mark.parametrize("name", DEMO_QUESTION_SETS)
def test_every_labelled_article_exists_and_both_kinds_are_there(name: str, articles: dict) -> None:
    questions = load_questions(EVAL / name)
    assert {q.article_id for q in questions if q.article_id} <= set(articles)
    assert sum(1 for q in questions if not q.article_id) >= 30  # out-of-scope ones to calibrate against
    assert len({normalised(q.text) for q in questions}) == len(questions)  # no question twice


def test_the_calibration_set_covers_every_article_and_repeats_no_test_or_example_question(articles: dict) -> None:
    calibration = load_questions(EVAL / "kb_calibration.jsonl")
    assert {q.split for q in calibration} == {"calibration"}
    assert {q.article_id for q in calibration if q.article_id} == set(articles)
    test = {normalised(q.text) for q in load_questions(EVAL / "kb_questions.jsonl") if q.split == "test"}
    examples = {normalised(text) for article in articles.values() for text in article.questions}
    for question in calibration:
        assert normalised(question.text) not in test | examples, question.id


@pytest.mark.parametrize(
    ("name", "split", "near_misses", "far_off_topic"),
    [("kb_fresh.jsonl", "fresh", 40, 20), ("kb_fresh2.jsonl", "fresh2", 38, 20), ("kb_fresh3.jsonl", "fresh3", 40, 19)],
)
def test_a_fresh_set_asks_twice_about_every_article_and_repeats_no_other_question(
    name: str, split: str, near_misses: int, far_off_topic: int, articles: dict
) -> None:
    """`kb eval`'s later held-out sets: two answerable questions an article, written after the search
    and threshold were settled, repeating no question the search or its threshold was tuned on (the
    second set's writer wrote two of the calibration set's near misses word for word, the third
    one of the second's far off-topic questions: dropped)."""
    fresh = load_questions(EVAL / name)
    assert {q.split for q in fresh} == {split}
    per_article = Counter(q.article_id for q in fresh if q.article_id)
    assert set(per_article) == set(articles) and set(per_article.values()) == {2}
    assert Counter(q.kind for q in fresh if not q.article_id) == {"oos_near": near_misses, "oos_far": far_off_topic}
    seen = {normalised(q.text) for other in DEMO_QUESTION_SETS if other != name for q in load_questions(EVAL / other)}
    seen |= {normalised(text) for article in articles.values() for text in (*article.questions, *article.not_answered)}
    assert not {normalised(q.text) for q in fresh} & seen


def test_kb_calibrate_never_reads_the_held_out_questions() -> None:
    """The threshold is chosen on the dev and calibration splits only; the fresh set stays held out."""
    from bot.cli import CALIBRATION_SPLITS, _parser

    defaults = _parser().parse_args(["kb", "calibrate"])
    assert not {EVAL / name for name in HELD_OUT_SETS} & set(defaults.questions)
    assert "fresh" not in CALIBRATION_SPLITS and "test" not in CALIBRATION_SPLITS


def test_the_demo_help_centre_knows_its_own_words_and_forgives_a_typo(demo_kb) -> None:
    share = demo_kb.lexical.unknown_share
    known = demo_kb._question_words
    assert share("my camra is offline", also_known=known) == 0.0
    assert share("is kestrel bringing out a thermostat", also_known=known) > 0.0  # "thermostat"


def test_no_evaluation_or_example_question_is_listed_as_not_answered(articles: dict) -> None:
    """The not-answered questions (front matter `not_answered:`) were written without the
    evaluation questions; none may repeat one, nor an answerable example question."""
    not_answered = {normalised(text): article.id for article in articles.values() for text in article.not_answered}
    assert len(not_answered) >= 500  # 12 per Markdown article were written
    examples = {normalised(text) for article in articles.values() for text in article.questions}
    evaluation = {
        normalised(q.text)
        for name in ("kb_questions.jsonl", "kb_calibration.jsonl")
        for q in load_questions(EVAL / name)
    }
    assert not set(not_answered) & examples
    assert not set(not_answered) & evaluation


def test_the_follow_up_cases_name_real_articles_and_both_kinds_in_both_splits(articles: dict) -> None:
    import json

    rows = [json.loads(line) for line in (EVAL / "kb_follow_ups.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {row["article_id"] for row in rows} - {None} <= set(articles)
    # Only the follow-ups no article answers have none.
    assert all((row["article_id"] is None) == (row["kind"] == "elliptical_unanswered") for row in rows)
    kinds = ("genuine", "switch", "elliptical", "elliptical_unanswered")
    assert {(row["kind"], row["split"]) for row in rows} == {
        (kind, split) for kind in kinds for split in ("choosing", "held_out")
    }
    assert len({(row["topic"], normalised(row["text"])) for row in rows}) == len(rows)


def test_the_longer_follow_up_cases_are_five_to_ten_words_in_four_kinds_and_both_splits(articles: dict) -> None:
    import json

    rows = [json.loads(line) for line in (EVAL / "kb_follow_ups_long.jsonl").read_text(encoding="utf-8").splitlines()]
    kinds = ("elliptical_long", "standalone_mid", "elliptical_long_unanswered", "off_topic_mid")
    assert Counter((row["kind"], row["split"]) for row in rows) == {
        (kind, split): 20 for kind in kinds for split in ("choosing", "held_out")
    }
    assert {row["article_id"] for row in rows} - {None} <= set(articles)
    assert all((row["article_id"] is None) == (row["kind"] in kinds[2:]) for row in rows)
    assert all(5 <= len(row["text"].split()) <= 10 for row in rows)
    assert len({normalised(row["text"]) for row in rows}) == len(rows)


@pytest.mark.parametrize(
    ("spans_file", "questions_file"),
    [
        ("kb_answer_spans_questions.jsonl", "kb_questions.jsonl"),
        ("kb_answer_spans_calibration.jsonl", "kb_calibration.jsonl"),
        ("kb_answer_spans_fresh.jsonl", "kb_fresh.jsonl"),
        ("kb_answer_spans_fresh2.jsonl", "kb_fresh2.jsonl"),
        ("kb_answer_spans_fresh3.jsonl", "kb_fresh3.jsonl"),
    ],
)
def test_every_answer_span_is_still_in_its_article(spans_file: str, questions_file: str, articles: dict) -> None:
    """The spans say where each answer is (`kb eval`'s passage check); an article rewritten since
    must have its spans written again, or the check would count right passages as wrong."""
    import json

    from bot.kb.chunking import chunk_article
    from bot.kb.evaluate import passage_holds_answer

    answerable = {q.id: q.article_id for q in load_questions(EVAL / questions_file) if q.article_id}
    rows = [json.loads(line) for line in (EVAL / spans_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [row["id"] for row in rows] == list(answerable)  # one line per answerable question, in order
    texts = {aid: " ".join(chunk.text for chunk in chunk_article(articles[aid])) for aid in set(answerable.values())}
    missing = [
        row["id"]
        for row in rows
        if row["spans"] and not passage_holds_answer(texts[answerable[row["id"]]], row["spans"])
    ]
    assert missing == []
    assert sum(1 for row in rows if row["spans"]) >= 0.95 * len(rows)


def test_every_follow_up_answer_span_is_in_its_article(articles: dict) -> None:
    """One line per answerable follow-up of kb_follow_ups.jsonl, each span still in its article."""
    import json

    from bot.kb.chunking import chunk_article
    from bot.kb.evaluate import passage_holds_answer

    def read(name: str) -> list[dict]:
        return [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]

    spans = read("kb_follow_up_spans.jsonl")
    answerable = [row for row in read("kb_follow_ups.jsonl") if row["kind"] in ("genuine", "elliptical")]
    keys = ("topic", "text", "article_id", "kind", "split")
    assert [{k: row[k] for k in keys} for row in spans] == [{k: row[k] for k in keys} for row in answerable]
    text = {aid: " ".join(chunk.text for chunk in chunk_article(articles[aid])) for aid in articles}
    missing = [
        row["text"] for row in spans if row["spans"] and not passage_holds_answer(text[row["article_id"]], row["spans"])
    ]
    assert missing == []
