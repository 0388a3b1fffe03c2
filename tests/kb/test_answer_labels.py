"""The reader's judgements of articles given to other people's out-of-scope questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.kb.documents import load_articles
from bot.kb.evaluate import Question, external_out_of_scope, judged_answers, load_answer_labels

LABELS = PROJECT_ROOT / "eval" / "external_oos_labels.jsonl"
DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


def oos(question_id: str) -> Question:
    return Question(question_id, "some text", None, "test", "oos_external")


def test_answers_are_counted_by_the_judgement_of_the_article_given(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    rows = [
        {"id": "q1", "article_id": "shipping", "label": "answers"},
        {"id": "q2", "article_id": "refunds", "label": "no"},
        {"id": "q3", "article_id": "refunds", "label": "partly"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    labels = load_answer_labels(path)
    questions = [oos("q1"), oos("q2"), oos("q3"), oos("q4"), oos("q5")]
    top = [("shipping", 0.9), ("refunds", 0.8), ("refunds", 0.3), ("track-order", 0.95), (None, float("-inf"))]
    # q3 is below the threshold (not answered); q4's pair was never judged.
    assert judged_answers(questions, top, 0.5, labels) == {
        "answered": 3,
        "answers": 1,
        "partly": 0,
        "no": 1,
        "unjudged": 1,
    }
    # A judgement is of one article: q1 answered with another article is not judged.
    assert judged_answers([oos("q1")], [("refunds", 0.9)], 0.5, labels)["unjudged"] == 1


def test_an_unknown_label_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"id": "q1", "article_id": "a", "label": "maybe"}) + "\n")
    with pytest.raises(ValueError, match=r"labels.jsonl:1: label must be one of"):
        load_answer_labels(path)


def test_the_shipped_judgements_name_real_articles_once_each() -> None:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = {a.id for a in load_articles(PROJECT_ROOT / "data" / "kb")[0]}
    assert len(load_answer_labels(LABELS)) == len(rows)  # no pair judged twice
    assert {r["article_id"] for r in rows} <= articles
    assert {r["set"] for r in rows} == {"clinc150_oos", "hint3_oos"}


@pytest.mark.skipif(not DATASETS.exists(), reason="the public datasets are not beside this checkout")
def test_the_shipped_judgements_name_questions_of_the_external_sets() -> None:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = {name: {q.id for q in questions} for name, questions in external_out_of_scope(DATASETS).items()}
    assert all(r["id"] in ids[r["set"]] for r in rows)
