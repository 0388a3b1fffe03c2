"""The answer threshold's calibration rule (bot/kb/evaluate.py, `calibrate_threshold`)."""

from typing import cast

from bot.kb.evaluate import Question, calibrate_threshold
from bot.kb.search import Hit, KnowledgeBase


class ScoredQuestions:
    """Stands in for the KB's search: each question's best article and score are given, so the
    rule is tested on exactly the scores it chooses from."""

    def __init__(self, scores: dict[str, tuple[str, float]]) -> None:
        self.scores = scores

    def search(self, question: str, *, top_k: int) -> list[Hit]:
        article_id, score = self.scores[question]
        return [Hit(article_id, article_id, "", score, "")]


def test_the_out_of_scope_budget_holds_for_each_split_not_only_for_them_pooled() -> None:
    questions, scores = [], {}

    def add(text: str, split: str, gold: str | None, found: str, score: float) -> None:
        questions.append(Question(text, text, gold, split, ""))
        scores[text] = (found, score)

    # The dev split's out-of-scope questions are easy: none scores near an answer.
    add("dev answerable", "dev", "a", "a", 0.9)
    for i in range(10):
        add(f"dev out of scope {i}", "dev", None, "a", 0.1)
    # The calibration set's are not: two score above its answerable question.
    add("calibration answerable", "calibration", "b", "b", 0.45)
    add("near miss one", "calibration", None, "b", 0.5)
    add("near miss two", "calibration", None, "b", 0.48)
    for i in range(8):
        add(f"calibration out of scope {i}", "calibration", None, "b", 0.1)

    best = calibrate_threshold(cast(KnowledgeBase, ScoredQuestions(scores)), questions)

    # Pooled, 0.45 would answer both near misses: 2 of 20 out-of-scope questions, within 10%,
    # but 2 of the calibration set's 10. Each split within 10% needs a threshold above 0.48.
    assert best.threshold == 0.485
    assert best.correct_answer_rate == 0.5
    assert best.false_answer_rate == 1 / 20
