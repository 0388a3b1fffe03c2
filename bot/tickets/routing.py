"""Route a ticket: category and team from the customer's words, priority from urgency cues.

The help-centre article the KB finds for the ticket's words decides first, when it is close
enough and a team lists it (`articles:` in `routing.yml`): the KB's search reads a question
better than keywords do, and each article's topic belongs to one team. Otherwise keyword rules
win when exactly one category matches; otherwise the nearest example phrases (the KB's
embedding model, k-nearest-neighbour vote) decide, and below `min_similarity` the ticket goes
to "other". A category's example phrases are its own
and the example questions of the help-centre articles it handles (`articles:`): the writers of
the articles already said how customers ask about each topic, and that is what a ticket is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.kb.embedding import Embedder
from bot.kb.index import KBIndex
from bot.kb.search import Hit

FALLBACK_CATEGORY = "other"
# The closest article decides the team only from this score up: CLINC150's out-of-scope
# questions (about anything but this help centre) reach it 5 times in 100, so a ticket about
# something no article covers is routed by its words instead (docs/benchmarks.md, "Ticket routing").
# 1.2 before the search's not-answered term (2026-11-26) lowered every score.
MIN_ARTICLE_SCORE = 0.69


# The place among the offered buttons a typed word names; the first button is the suggestion.
_PLACE_WORDS = {
    "first": 0, "suggested": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "seventh": 6,
    "last": -1,
}  # fmt: skip


def _label_words(text: str) -> set[str]:
    """A label's words as a customer would type them: no short words, no plural s."""
    return {word.rstrip("s") for word in re.findall(r"[a-z]+", text.lower()) if len(word) >= 3 and word != "and"}


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    team: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    articles: tuple[str, ...] = ()  # ids of the KB articles whose topic this team handles


@dataclass(frozen=True)
class Route:
    category: str
    team: str
    priority: str
    # "article", "keywords", "examples" or "fallback": how it was decided, to trust or fix routing.
    method: str


class Router:
    def __init__(
        self,
        categories: list[Category],
        priority_cues: dict[str, list[str]],
        embedder: Embedder | None = None,
        *,
        k: int = 5,
        min_similarity: float = 0.3,
        known_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """`known_vectors`: example phrases already embedded by this embedder's model (the KB
        index's example questions), so only the others are embedded at the first ticket."""
        if FALLBACK_CATEGORY not in {c.name for c in categories}:
            raise ValueError(f"the routing rules need a '{FALLBACK_CATEGORY}' category")
        self.categories = {c.name: c for c in categories}
        self.priority_cues = {level: [cue.lower() for cue in cues] for level, cues in priority_cues.items()}
        self.embedder = embedder
        self.k = k
        self.min_similarity = min_similarity
        self._example_labels = [c.name for c in categories for _ in c.examples]
        self._example_texts = [e for c in categories for e in c.examples]
        self._example_vectors: np.ndarray | None = None
        self._known_vectors = dict(known_vectors or {})
        # An article listed by two teams goes to the first.
        self._category_of_article: dict[str, str] = {}
        for category in categories:
            for article in category.articles:
                self._category_of_article.setdefault(article, category.name)

    @classmethod
    def from_file(cls, path: Path, embedder: Embedder | None = None, index: KBIndex | None = None) -> Router:
        """The rules in `path`; with the KB `index`, each category's examples gain the example
        questions of its articles, with the vectors the index holds for them. Ids the KB does not
        hold are skipped, so removing an article never stops the bot."""
        article_questions = index.example_question_vectors() if index is not None else {}
        same_model = index is not None and embedder is not None and index.model_name == embedder.name
        known = {q: v for pairs in article_questions.values() for q, v in pairs} if same_model else {}
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the routing rules: {exc}") from None
        categories = []
        for name, spec in (raw.get("categories") or {}).items():
            articles = tuple(str(a) for a in spec.get("articles") or ())
            own = tuple(str(e) for e in spec.get("examples") or ())
            from_articles = tuple(q for a in articles for q, _ in article_questions.get(a, ()))
            categories.append(
                Category(
                    name=name,
                    label=str(spec.get("label") or name),
                    team=str(spec["team"]),
                    keywords=tuple(str(k).lower() for k in spec.get("keywords") or ()),
                    examples=own + from_articles,
                    articles=articles,
                )
            )
        return cls(categories, raw.get("priority_cues") or {}, embedder, known_vectors=known)

    @property
    def category_names(self) -> list[str]:
        return list(self.categories)

    def label(self, category: str) -> str:
        return self.categories[category].label

    def category_typed(self, text: str, offered: list[str]) -> str | None:
        """The category a customer typed instead of tapping its button (Telegram and Slack
        customers often do): its name or label, its place among the `offered` buttons ("2", "the
        first one", "the suggested one": the first is the suggestion), or a word of its label no
        other offered label has ("billing", "devices", "my order").
        None when nothing or more than one category fits."""
        said = " ".join(text.lower().split()).strip(" .!")
        for name in offered:
            if said in (name, self.label(name).lower()):
                return name
        if said.isdigit() and 1 <= int(said) <= len(offered):
            return offered[int(said) - 1]
        places = {_PLACE_WORDS[word] for word in re.findall(r"[a-z]+", said) if word in _PLACE_WORDS}
        if len(places) == 1:  # "the first one", "the last", "the suggested one"
            (place,) = places
            return offered[place] if place < len(offered) else None
        words = _label_words(said)
        fits = [name for name in offered if words & (_label_words(self.label(name)) | _label_words(name))]
        return fits[0] if len(fits) == 1 else None

    def route(self, text: str, closest_article: Hit | None = None) -> Route:
        category, method = self.categorize(text, closest_article)
        return Route(category, self.categories[category].team, self.priority(text), method)

    def categorize(self, text: str, closest_article: Hit | None = None) -> tuple[str, str]:
        """The category and how it was decided. `closest_article`: the KB's best hit for the
        same text (`KnowledgeBase.search(text, top_k=1)`), when the caller has a KB."""
        if closest_article is not None and closest_article.score >= MIN_ARTICLE_SCORE:
            by_article = self._category_of_article.get(closest_article.article_id)
            if by_article is not None:
                return by_article, "article"
        lowered = _normalise(text)
        by_keyword = [c.name for c in self.categories.values() if any(_contains(lowered, k) for k in c.keywords)]
        if len(by_keyword) == 1:
            return by_keyword[0], "keywords"
        if self.embedder is not None and self._example_texts and lowered.strip():
            nearest = self._nearest(text, restrict_to=by_keyword or None)
            if nearest is not None:
                return nearest, "examples"
        if by_keyword:
            return by_keyword[0], "keywords"
        return FALLBACK_CATEGORY, "fallback"

    def priority(self, text: str) -> str:
        lowered = _normalise(text)
        for level in ("urgent", "high", "low"):
            if any(_contains(lowered, cue) for cue in self.priority_cues.get(level, ())):
                return level
        return "normal"

    def _nearest(self, text: str, restrict_to: list[str] | None) -> str | None:
        assert self.embedder is not None
        if self._example_vectors is None:
            self._example_vectors = self._embed_examples()
        query = self.embedder.embed([text])[0]
        scores = self._example_vectors @ query
        order = np.argsort(-scores)
        if restrict_to:
            order = np.array([i for i in order if self._example_labels[i] in restrict_to])
        top = [i for i in order[: self.k] if scores[i] >= self.min_similarity]
        if not top:
            return None
        # Similarity-weighted vote; ties go to the single closest example.
        votes: dict[str, float] = {}
        for i in top:
            label = self._example_labels[i]
            votes[label] = votes.get(label, 0.0) + float(scores[i])
        return max(votes, key=lambda label: votes[label])  # first seen (the closest) wins a tie

    def _embed_examples(self) -> np.ndarray:
        assert self.embedder is not None
        missing = sorted({t for t in self._example_texts if t not in self._known_vectors})
        if missing:
            self._known_vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.vstack([self._known_vectors[t] for t in self._example_texts]).astype(np.float32)


def _normalise(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9@'\- ]+", " ", text.lower().replace("’", "'")) + " "


def _contains(lowered: str, phrase: str) -> bool:
    return f" {phrase} " in lowered or (len(phrase) > 4 and phrase in lowered)
