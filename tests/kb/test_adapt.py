"""Adapting the embedding model to a help centre (bot/kb/adapt.py), on a few real articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.kb.adapt import BATCH_SIZE, _batches, adapt_model, training_pairs
from bot.kb.embedding import SentenceTransformerEmbedder
from bot.kb.index import build_index

PROJECT_KB = Path(__file__).resolve().parents[2] / "data" / "kb"
ARTICLES = ["reset-password.md", "refund-policy.md", "doorbell-battery.md", "change-or-cancel-order.md"]


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("kb")
    for name in ARTICLES:
        shutil.copy(PROJECT_KB / name, source / name)
    return source


@pytest.fixture(scope="module")
def adapted(small_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "kb-embedder"
    adapt_model(small_kb, out, epochs=3)
    return out


@pytest.fixture(scope="module")
def stock() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_pairs_come_from_the_articles_own_text(small_kb: Path) -> None:
    from bot.kb.documents import load_articles

    titles = {a.id: a.title for a in load_articles(small_kb)[0]}
    pairs = training_pairs(small_kb)
    assert {p.article_id for p in pairs} == set(titles)
    # Every query is its article's title or words of the very passage it is paired with
    # (a section heading or one of its sentences).
    assert all(p.query == titles[p.article_id] or p.query in p.passage for p in pairs)
    assert any(p.query == "Reset your password" for p in pairs)
    assert any(len(p.query.split()) >= 6 and p.query != titles[p.article_id] for p in pairs)
    assert training_pairs(small_kb) == pairs  # the same seed draws the same sentences


def test_each_example_question_is_paired_with_the_passage_of_its_article_that_answers_it(
    small_kb: Path, stock: SentenceTransformerEmbedder
) -> None:
    from bot.kb.documents import load_articles

    articles = {a.id: a for a in load_articles(small_kb)[0]}
    with_questions = training_pairs(small_kb, embedder=stock)
    without = training_pairs(small_kb)
    question_pairs = [p for p in with_questions if p.query in articles[p.article_id].questions]
    assert len(question_pairs) == sum(len(a.questions) for a in articles.values()) > 0
    assert [p for p in with_questions if p not in question_pairs] == without
    # The passage comes from the question's own article, and is the one of its passages the
    # stock model finds closest: questions about different sections find different passages.
    passages = {p.passage: p.article_id for p in without}
    assert all(passages[p.passage] == p.article_id for p in question_pairs)
    for pair in question_pairs:
        own = sorted({p.passage for p in without if p.article_id == pair.article_id})
        closeness = stock.embed(own) @ stock.embed([pair.query])[0]
        assert pair.passage == own[int(closeness.argmax())]
    assert len({p.passage for p in question_pairs if p.article_id == "reset-password"}) >= 2


def test_a_batch_never_holds_two_pairs_of_one_article(small_kb: Path) -> None:
    import random

    pairs = training_pairs(small_kb)
    batches = _batches(pairs, random.Random(0))
    assert sorted(map(id, [p for b in batches for p in b])) == sorted(map(id, pairs))
    for batch in batches:
        assert len(batch) <= BATCH_SIZE
        assert len({p.article_id for p in batch}) == len(batch)


def test_the_adapted_model_is_named_by_its_training_and_finds_passages_better(
    small_kb: Path, adapted: Path, stock: SentenceTransformerEmbedder
) -> None:
    record = json.loads((adapted / "adaptation.json").read_text())
    assert record["base_model"] == "all-MiniLM-L6-v2"
    assert record["pairs"] == len(training_pairs(small_kb, embedder=stock))
    assert record["name"].startswith("all-MiniLM-L6-v2-kb-") and len(record["name"]) == len("all-MiniLM-L6-v2-kb-") + 10
    assert (adapted / "vocab.txt").exists()  # the NLU featurizer's tokenizer reads it

    tuned = SentenceTransformerEmbedder(str(adapted))
    assert tuned.name == record["name"] and stock.name == "all-MiniLM-L6-v2"
    pairs = training_pairs(small_kb)
    queries, passages = [p.query for p in pairs], [p.passage for p in pairs]

    def own_passage_margin(embedder: SentenceTransformerEmbedder) -> float:
        """Mean of (cosine to its own passage - best cosine to another article's passage)."""
        q, p = embedder.embed(queries), embedder.embed(passages)
        sims = q @ p.T
        other = np.array([[a.article_id != b.article_id for b in pairs] for a in pairs])
        return float(np.mean(np.diag(sims) - np.where(other, sims, -1).max(axis=1)))

    tuned_margin, stock_margin = own_passage_margin(tuned), own_passage_margin(stock)
    assert tuned_margin > stock_margin + 0.1, (tuned_margin, stock_margin)


def test_an_index_of_the_stock_model_is_embedded_again_with_the_adapted_one(
    small_kb: Path, adapted: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(small_kb, index, SentenceTransformerEmbedder(), show_progress=False)
    report = build_index(small_kb, index, SentenceTransformerEmbedder(str(adapted)), show_progress=False)
    assert report.embedded_articles == len(ARTICLES) and report.reused_articles == 0
    meta = json.loads((index / "meta.json").read_text())
    assert meta["model"] == json.loads((adapted / "adaptation.json").read_text())["name"]


def test_a_missing_model_folder_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="kb adapt"):
        SentenceTransformerEmbedder(str(tmp_path / "nowhere"))


def test_a_build_says_when_the_model_was_adapted_to_other_articles(
    small_kb: Path, adapted: Path, tmp_path: Path
) -> None:
    from bot.kb.adapt import adaptation_notice
    from bot.kb.documents import load_articles

    def hashes(folder: Path) -> dict[str, str]:
        return {a.id: a.content_hash for a in load_articles(folder)[0]}

    assert adaptation_notice(str(adapted), hashes(small_kb)) is None  # the articles it was adapted to
    other = tmp_path / "other"
    other.mkdir()
    for name in ["account-locked.md", "app-crashes.md", "lost-package.md", ARTICLES[0]]:
        shutil.copy(PROJECT_KB / name, other / name)
    notice = adaptation_notice(str(adapted), hashes(other))
    assert notice is not None and "1 of today's 4" in notice and "make adapt" in notice
    assert adaptation_notice(None, hashes(other)) is None  # the stock model was adapted to nothing
