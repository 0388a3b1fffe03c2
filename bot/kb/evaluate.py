"""Measure the KB: retrieval quality (StackFAQ) and the answer/escalate decision (demo KB).

Used by `python -m bot kb eval` and `python -m bot kb calibrate`; numbers go to
docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.kb.embedding import Embedder
from bot.kb.index import build_index, load_index
from bot.kb.search import Answer, KnowledgeBase, Mode, clean_query

__all__ = [
    "DecisionScores",
    "PrecomputedEmbedder",
    "RetrievalScores",
    "calibrate_threshold",
    "decision_curve",
    "evaluate_follow_up_reading",
    "evaluate_retrieval",
    "evaluate_stackfaq",
    "load_answer_spans",
    "load_questions",
    "passage_holds_answer",
    "score_decisions",
    "score_passages",
]

MODES: tuple[Mode, ...] = ("bm25", "dense", "fused")


class PrecomputedEmbedder:
    """Embeds a known batch of queries at once, then answers single lookups from memory."""

    def __init__(self, inner: Embedder, texts: list[str]) -> None:
        self.name = inner.name
        self.inner = inner
        unique = sorted(set(texts))
        self._vectors = dict(zip(unique, inner.embed(unique), strict=True)) if unique else {}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self._vectors[t] for t in texts]) if texts else self.inner.embed([])


@dataclass(frozen=True)
class RetrievalScores:
    mode: str
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    queries: int


def evaluate_retrieval(kb: KnowledgeBase, queries: list[tuple[str, str]]) -> list[RetrievalScores]:
    """R@1, R@5 and MRR@10 for each ranking mode over `(query, gold article id)` pairs."""
    results = []
    for mode in MODES:
        hits1 = hits5 = 0
        reciprocal = 0.0
        for query, gold in queries:
            ranked = [h.article_id for h in kb.search(query, top_k=10, mode=mode)]
            if ranked[:1] == [gold]:
                hits1 += 1
            if gold in ranked[:5]:
                hits5 += 1
            if gold in ranked:
                reciprocal += 1.0 / (ranked.index(gold) + 1)
        n = len(queries)
        results.append(RetrievalScores(mode, hits1 / n, hits5 / n, reciprocal / n, n))
    return results


def evaluate_stackfaq(dataset_dir: Path, embedder: Embedder) -> list[RetrievalScores]:
    """Build a KB from StackFAQ's faqs.jsonl and rank its queries.jsonl against it."""
    dataset_dir = Path(dataset_dir)
    queries = [json.loads(line) for line in (dataset_dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    pairs = [(q["query"], str(q["faq_id"])) for q in queries]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        source.mkdir()
        (source / "faqs.jsonl").write_bytes((dataset_dir / "faqs.jsonl").read_bytes())
        build_index(source, Path(tmp) / "index", embedder, show_progress=False)
        fast = PrecomputedEmbedder(embedder, [clean_query(q) for q, _ in pairs])
        kb = KnowledgeBase(load_index(Path(tmp) / "index"), fast, threshold=0.0)
        return evaluate_retrieval(kb, pairs)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    article_id: str | None  # None: the KB does not answer it
    split: str
    kind: str


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Each non-empty line's number and JSON value (None where the line is not JSON), for the
    caller to check and name the file and line of a bad one."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError:
            yield number, None


def load_questions(path: Path) -> list[Question]:
    """One JSON object a line: `text`, and `article_id` when the KB answers it; `id`, `split`
    ("dev"/"test") and `kind` are optional.

    Raises:
        ValueError: naming the file and line of a row that is not such an object.
    """
    questions: list[Question] = []
    for number, row in _json_lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f'{path}, line {number}: expected a JSON object with a "text"')
        questions.append(
            Question(
                str(row.get("id", number)),
                row["text"],
                row.get("article_id"),
                row.get("split", "test"),
                row.get("kind", ""),
            )
        )
    return questions


@dataclass(frozen=True)
class DecisionScores:
    threshold: float
    answerable: int
    out_of_scope: int
    correct_answer_rate: float  # answerable questions answered with the right article
    wrong_answer_rate: float  # answerable questions answered with a wrong article
    false_answer_rate: float  # out-of-scope questions answered at all


def top_hits(kb: KnowledgeBase, questions: list[Question]) -> list[tuple[str | None, float]]:
    out: list[tuple[str | None, float]] = []
    for q in questions:
        hits = kb.search(q.text, top_k=1)
        out.append((hits[0].article_id, hits[0].score) if hits else (None, float("-inf")))
    return out


def score_decisions(questions: list[Question], top: list[tuple[str | None, float]], threshold: float) -> DecisionScores:
    answerable = [(q, t) for q, t in zip(questions, top, strict=True) if q.article_id]
    oos = [(q, t) for q, t in zip(questions, top, strict=True) if not q.article_id]
    correct = sum(1 for q, (aid, s) in answerable if s >= threshold and aid == q.article_id)
    wrong = sum(1 for q, (aid, s) in answerable if s >= threshold and aid != q.article_id)
    false = sum(1 for _, (_, s) in oos if s >= threshold)
    return DecisionScores(
        threshold,
        len(answerable),
        len(oos),
        correct / max(len(answerable), 1),
        wrong / max(len(answerable), 1),
        false / max(len(oos), 1),
    )


def decision_curve(kb: KnowledgeBase, questions: list[Question], thresholds: list[float]) -> list[DecisionScores]:
    top = top_hits(kb, questions)
    return [score_decisions(questions, top, t) for t in thresholds]


def calibrate_threshold(
    kb: KnowledgeBase, dev: list[Question], *, max_false_answer_rate: float = 0.10
) -> DecisionScores:
    """The threshold that answers the most `dev` questions correctly while answering at most
    `max_false_answer_rate` of the out-of-scope questions of each split among them.

    The budget is the target itself (10%), and it holds for each split on its own: pooled, an easy
    split's out-of-scope questions (the demo's dev split: 1 of 40 answered) let a harder one's go
    over (the calibration set's: 15 of 120 at the pooled threshold 0.660, 12 at 0.685;
    docs/benchmarks.md, "Knowing when not to answer").
    """
    # Article scores add up to about 1 + LEXICAL_WEIGHT + CENTROID_WEIGHT + QUESTION_WEIGHT.
    thresholds = [round(t, 3) for t in np.arange(0.2, 3.0, 0.005)]
    top = top_hits(kb, dev)
    by_split: dict[str, tuple[list[Question], list[tuple[str | None, float]]]] = {}
    for question, hit in zip(dev, top, strict=True):
        questions, hits = by_split.setdefault(question.split, ([], []))
        questions.append(question)
        hits.append(hit)

    def within_budget(threshold: float) -> bool:
        for questions, hits in by_split.values():
            scores = score_decisions(questions, hits, threshold)
            if scores.out_of_scope and scores.false_answer_rate > max_false_answer_rate:
                return False
        return True

    allowed = [score_decisions(dev, top, t) for t in thresholds if within_budget(t)]
    return max(allowed, key=lambda c: (c.correct_answer_rate, -c.threshold))


def external_out_of_scope(datasets_dir: Path) -> dict[str, list[Question]]:
    """Out-of-scope questions written by other people for other bots.

    CLINC150 `oos_test` (1,000 questions no assistant of that benchmark covers) and HINT3's
    `NO_NODES_DETECTED` test queries (real users of a mattress shop, a pharmacy and a fantasy-
    sports app that those bots could not place). Some HINT3 queries are general shop questions
    ("cancel my order") that a Kestrel article may rightly answer, so its rate is an upper bound.
    """
    clinc = json.loads((datasets_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    found = {
        "clinc150_oos": [
            Question(f"clinc-oos-{i}", text, None, "test", "oos_external")
            for i, (text, _) in enumerate(clinc["oos_test"])
        ]
    }
    hint3: list[Question] = []
    for path in sorted((datasets_dir / "hint3" / "dataset" / "v1" / "test").glob("*_test.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                if row.get("label") == "NO_NODES_DETECTED" and (row.get("sentence") or "").strip():
                    hint3.append(Question(f"{path.stem}-{i}", row["sentence"], None, "test", "oos_external"))
    found["hint3_oos"] = hint3
    return found


ANSWER_LABELS = ("answers", "partly", "no")


def load_answer_labels(path: Path) -> dict[tuple[str, str], str]:
    """A reader's judgement of each (out-of-scope question, article the bot answered with) pair.

    Other people's out-of-scope questions are out of scope for *their* bots; some of them ("is
    shipping free?", "how do i delete my account") a Kestrel article does answer. Each line of
    eval/external_oos_labels.jsonl names the question by its id in `external_out_of_scope`, the
    article, and "answers", "partly" or "no" ("no" being a wrong article presented as the answer).
    """
    labels: dict[tuple[str, str], str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in ANSWER_LABELS:
            raise ValueError(f"{path}:{number}: label must be one of {ANSWER_LABELS}, not {row.get('label')!r}")
        labels[(row["id"], row["article_id"])] = row["label"]
    return labels


def judged_answers(
    questions: list[Question],
    top: list[tuple[str | None, float]],
    threshold: float,
    labels: dict[tuple[str, str], str],
) -> dict[str, int]:
    """How many questions are answered at `threshold`, by the judgement of the article given;
    "unjudged" counts pairs nobody has labelled yet (after the help centre or search changed)."""
    counts = {"answered": 0, **{label: 0 for label in ANSWER_LABELS}, "unjudged": 0}
    for question, (article_id, score) in zip(questions, top, strict=True):
        if article_id is None or score < threshold:
            continue
        counts["answered"] += 1
        counts[labels.get((question.id, article_id), "unjudged")] += 1
    return counts


def answer_rates(top: list[tuple[str | None, float]], threshold: float) -> float:
    """The share of questions the KB would answer (any article) at this threshold."""
    return sum(1 for _, score in top if score >= threshold) / max(len(top), 1)


def threshold_curve(
    kb: KnowledgeBase,
    answerable: list[Question],
    out_of_scope: dict[str, list[Question]],
    thresholds: list[float],
    *,
    top_oos: dict[str, list[tuple[str | None, float]]] | None = None,
) -> list[dict[str, float]]:
    """Per threshold: right-article rate and precision on answerable questions, and the share
    of each out-of-scope set that would be answered (`top_oos`: their best hits, if already known)."""
    top_answerable = top_hits(kb, answerable)
    top_oos = top_oos or {name: top_hits(kb, questions) for name, questions in out_of_scope.items()}
    rows = []
    for threshold in thresholds:
        answered = [(q, aid) for q, (aid, s) in zip(answerable, top_answerable, strict=True) if s >= threshold]
        correct = sum(1 for q, aid in answered if aid == q.article_id)
        row = {
            "threshold": threshold,
            "coverage": len(answered) / max(len(answerable), 1),
            "correct_answer_rate": correct / max(len(answerable), 1),
            "precision": correct / len(answered) if answered else 1.0,
        }
        row.update({f"{name}_answered": answer_rates(top, threshold) for name, top in top_oos.items()})
        rows.append(row)
    return rows


def evaluate_follow_up_reading(
    kb: KnowledgeBase, questions: list[Question], follow_ups: list[dict], *, topics_per_question: int = 3
) -> dict[str, dict[str, int]]:
    """Right answers when a question comes after another one, as the chat reads it
    (`answer_in_context`), against always joining a follow-up-like question to the last topic and
    against always reading it alone.

    `standalone`: the answerable questions that look like follow-ups (short, "it", "that"...),
    each after `topics_per_question` unrelated questions of the same file (fixed seed);
    `out_of_scope_after_topic`: the file's out-of-scope questions, each after as many answerable
    ones, right when not answered (the last topic must not lend them its article).
    Then each kind and split of `eval/kb_follow_ups.jsonl` ("genuine_choosing", "switch_held_out",
    ...): `genuine` follow-ups need their topic; a `switch` is a new subject that still says "it"
    or opens with "and", answered on its own; an `elliptical` one says neither "it" nor "and"
    ("how much?"), and `elliptical_unanswered` ones ("to guernsey?") no article answers.
    """
    import random

    from bot.kb.followup import answer_in_context, is_elliptical, joined_to_topic, looks_like_follow_up

    answerable = [q for q in questions if q.article_id]
    rng = random.Random(0)
    groups: dict[str, list[tuple[str, str, str | None]]] = {
        "standalone": [
            (rng.choice([t for t in answerable if t.article_id != q.article_id]).text, q.text, q.article_id)
            for q in answerable
            if looks_like_follow_up(q.text) or is_elliptical(q.text)
            for _ in range(topics_per_question)
        ],
        "out_of_scope_after_topic": [
            (rng.choice(answerable).text, q.text, None)
            for q in questions
            if not q.article_id
            for _ in range(topics_per_question)
        ],
    }
    for row in follow_ups:
        name = f"{row.get('kind', 'genuine')}_{row.get('split', 'choosing')}"
        groups.setdefault(name, []).append((row["topic"], row["text"], row["article_id"]))

    def right(answer: Answer, gold: str | None) -> bool:
        if gold is None:
            return answer.decision != "answer"
        return answer.decision == "answer" and answer.best is not None and answer.best.article_id == gold

    out = {}
    for name, rows in groups.items():
        shipped = sum(right(answer_in_context(kb, text, topic)[0], gold) for topic, text, gold in rows)
        always = sum(right(kb.answer(joined_to_topic(topic, text)), gold) for topic, text, gold in rows)
        alone = sum(right(kb.answer(text), gold) for _, text, gold in rows)
        out[name] = {
            "cases": len(rows),
            "right_as_shipped": shipped,
            "right_always_with_topic": always,
            "right_always_alone": alone,
        }
    return out


def load_answer_spans(path: Path) -> dict[str, list[str]]:
    """Where each answerable question's answer is in its article: `{"id", "spans": [...]}` a line,
    each span a piece of the article's text (any one of them is the answer); questions that only
    the article as a whole answers (`"spans": []`) are left out."""
    spans: dict[str, list[str]] = {}
    for number, row in _json_lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("spans"), list):
            raise ValueError(f'{path}, line {number}: expected a JSON object with "id" and a list "spans"')
        if row["spans"]:
            spans[str(row["id"])] = [str(span) for span in row["spans"]]
    return spans


def _plain(text: str) -> str:
    """Text as a passage shows it and a writer copied it: no Markdown marks, links as their words."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(re.sub(r"[*_`]", "", text).lower().split())


def score_follow_up_passages(kb: KnowledgeBase, rows: list[dict]) -> dict[str, dict[str, int]]:
    """Of the follow-ups of `eval/kb_follow_up_spans.jsonl` answered with their article, how many
    are shown a passage that holds the answer, each after its topic's answer was read, per split:
    as shipped (`passage_for_follow_up`), always another passage than what was read, and the best
    passage whether read or not."""
    from bot.kb.followup import answer_in_context, passage_for_follow_up

    out: dict[str, dict[str, int]] = {}
    for row in rows:
        if not row["spans"]:
            continue
        first = kb.answer(row["topic"])
        read = (
            kb.read_keys(first.best.article_id, first.best.passage) if first.decision == "answer" and first.best else []
        )
        answer, _, follow_up = answer_in_context(kb, row["text"], row["topic"])
        if answer.decision != "answer" or answer.best is None or answer.best.article_id != row["article_id"]:
            continue
        best = answer.best
        figures = out.setdefault(
            row.get("split", "choosing"), {"answered": 0, "as_shipped": 0, "always_another": 0, "best_even_if_read": 0}
        )
        figures["answered"] += 1
        shipped = passage_for_follow_up(kb, row["text"], best, read) if follow_up else best
        another = passage_for_follow_up(kb, row["text"], best, read, margin=None) if follow_up else best
        figures["as_shipped"] += passage_holds_answer(shipped.passage, row["spans"])
        figures["always_another"] += passage_holds_answer(another.passage, row["spans"])
        figures["best_even_if_read"] += passage_holds_answer(best.passage, row["spans"])
    return out


def passage_holds_answer(passage: str, spans: list[str]) -> bool:
    """Whether the passage holds one of the spans; a span copied from a table row ("Standard |
    2-4 business days | EUR 4.95") is there when each of its cells is (the chunker reads a row
    as a sentence)."""
    shown = _plain(passage)
    for span in spans:
        cells = [cell.strip() for cell in _plain(span).split("|") if cell.strip()]
        if cells and all(cell in shown for cell in cells):
            return True
    return False


def score_passages(kb: KnowledgeBase, questions: list[Question], spans: dict[str, list[str]]) -> tuple[int, int]:
    """Of the labelled questions answered with the right article at the KB's threshold, how many
    are shown a passage that holds the answer: (right passages, right-article answers)."""
    right = answered = 0
    for question in questions:
        if question.id not in spans:
            continue
        answer = kb.answer(question.text)
        if answer.decision != "answer" or answer.best is None or answer.best.article_id != question.article_id:
            continue
        answered += 1
        right += passage_holds_answer(answer.best.passage, spans[question.id])
    return right, answered


def score_second_tries(kb: KnowledgeBase, questions: list[Question], spans: dict[str, list[str]]) -> tuple[int, int]:
    """Of the labelled questions answered at the KB's threshold without the answer (a wrong
    article, or the right one with a passage that misses it), how many get it from what "No"
    brings (bot/kb/second_try.py): (answered on the second try, first answers that missed)."""
    from bot.kb.second_try import second_try

    helped = missed = 0
    for question in questions:
        if question.id not in spans:
            continue
        answer = kb.answer(question.text)
        if answer.decision != "answer" or answer.best is None:
            continue
        first = answer.best
        if first.article_id == question.article_id and passage_holds_answer(first.passage, spans[question.id]):
            continue
        missed += 1
        again = second_try(kb, question.text, answer.hits, first.article_id)
        helped += bool(
            again is not None
            and again.hit.article_id == question.article_id
            and passage_holds_answer(again.hit.passage, spans[question.id])
        )
    return helped, missed
