"""Routing accuracy on a labelled set: the demo questions, labelled by their article's category."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.kb.search import KnowledgeBase
from bot.tickets.routing import Router


@dataclass
class RoutingReport:
    total: int = 0
    correct: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    per_category: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (correct, total)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected, got)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "by_method": dict(self.by_method),
            "per_category": {k: {"correct": c, "total": t} for k, (c, t) in self.per_category.items()},
            "top_confusions": [[e, g, n] for (e, g), n in self.confusions.most_common(5)],
        }


def labelled_questions(questions: Path, labels: Path) -> list[tuple[str, str]]:
    """(question, expected category) for every in-scope question whose article has a label."""
    by_article = {a: category for category, ids in yaml.safe_load(labels.read_text()).items() for a in ids}
    rows = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("article_id") in by_article:
                rows.append((row["text"], by_article[row["article_id"]]))
    return rows


def evaluate_routing(router: Router, rows: list[tuple[str, str]], kb: KnowledgeBase | None = None) -> RoutingReport:
    """Each text routed as the ticket form routes a summary: with `kb`, by the article the KB
    finds for it first; without, by its words alone."""
    report = RoutingReport()
    tallies: dict[str, list[int]] = {}
    for text, expected in rows:
        hits = kb.search(text, top_k=1) if kb is not None else []
        got, method = router.categorize(text, hits[0] if hits else None)
        report.total += 1
        report.by_method[method] += 1
        tally = tallies.setdefault(expected, [0, 0])
        tally[1] += 1
        if got == expected:
            report.correct += 1
            tally[0] += 1
        else:
            report.confusions[(expected, got)] += 1
    report.per_category = {k: (v[0], v[1]) for k, v in sorted(tallies.items())}
    return report
