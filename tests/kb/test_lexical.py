"""The search's faster candidate pick and per-article ranking give exactly what they replaced."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.kb import lexical as lexical_module
from bot.kb import search as search_module
from bot.kb.chunking import Chunk
from bot.kb.index import ArticleMeta, KBIndex, make_faiss_index
from bot.kb.lexical import _largest
from bot.kb.search import (
    BM25_SATURATION,
    CANDIDATES,
    CENTROID_WEIGHT,
    LEXICAL_WEIGHT,
    UNKNOWN_WORDS_WEIGHT,
    Hit,
    KnowledgeBase,
    Mode,
)

WORDS = [f"term{i}" for i in range(1500)]


WEIGHTS = 1 / np.arange(1, len(WORDS) + 1) / np.sum(1 / np.arange(1, len(WORDS) + 1))


def zipf_texts(n: int, seed: int) -> list[str]:
    """Texts of 20-80 words, word frequencies falling off as in real text: a few terms in most
    chunks, most terms in a handful."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, int(rng.integers(20, 81)), p=WEIGHTS)) for _ in range(n)]


def zipf_queries(n: int, seed: int) -> list[str]:
    """Questions of 1-8 terms drawn as the texts are (so most hold a term in most chunks, as
    real questions do), some repeated, some rare, and every fifth with a word in no chunk."""
    rng = np.random.default_rng(seed)
    queries = [" ".join(rng.choice(WORDS, int(rng.integers(1, 9)), p=WEIGHTS)) for _ in range(n)]
    return [f"{q} unknownword the" if i % 5 == 0 else q for i, q in enumerate(queries)]


def previous_search(
    kb: KnowledgeBase, question: str, top_k: int, mode: Mode, query_vector: np.ndarray, *, first_of_ties: bool = False
) -> list[Hit]:
    """KnowledgeBase.search as it was before the candidate pick and the per-article ranking were
    made faster (commit 1148e75), for a question that needs no cleaning. `first_of_ties`: of
    chunks tied at the CANDIDATES-th BM25 score, the first rows instead of argpartition's pick."""
    total = len(kb.index.chunks)
    take = min(CANDIDATES, total)
    rows = np.zeros(0, dtype=np.int64)
    if mode != "bm25":
        _, found = kb.index.faiss_index.search(query_vector[None, :], take)
        rows = found[0][found[0] >= 0]
    if mode in ("bm25", "fused"):
        lexical = kb.lexical.scores(question)
        if first_of_ties:
            lexical_rows = np.argsort(-lexical, kind="stable")[:take]
        else:
            lexical_rows = np.argpartition(-lexical, take - 1)[:take] if take < total else np.arange(total)
        lexical_rows = lexical_rows[lexical[lexical_rows] > 0]
        rows = np.union1d(rows, lexical_rows)
    if mode == "bm25":
        scores = lexical[rows]
    else:
        dense = kb.index.vectors[rows] @ query_vector
        bm25 = lexical[rows] if mode == "fused" else None
        scores = dense if bm25 is None else dense + LEXICAL_WEIGHT * bm25 / (bm25 + BM25_SATURATION)
    hits: list[Hit] = []
    best_rows: dict[str, int] = {}
    for position in np.argsort(-scores, kind="stable"):
        row = int(rows[position])
        chunk = kb.index.chunks[row]
        if chunk.article_id in best_rows:
            continue
        best_rows[chunk.article_id] = row
        meta = kb.index.articles[chunk.article_id]
        hits.append(Hit(meta.id, meta.title, meta.url, float(scores[position]), chunk.text, chunk.section))
    if mode == "fused":
        article_row = {article_id: row for row, article_id in enumerate(kb.article_ids)}
        closeness = kb.centroids[[article_row[hit.article_id] for hit in hits]] @ query_vector
        # Added since: the same amount off every article for the question's words no chunk uses.
        unknown = UNKNOWN_WORDS_WEIGHT * kb.lexical.unknown_share(question)
        scored = [
            replace(h, score=h.score + CENTROID_WEIGHT * float(c) - unknown)
            for h, c in zip(hits, closeness, strict=True)
        ]
        hits = sorted(scored, key=lambda hit: hit.score, reverse=True)
    return [replace(hit, passage=kb._passage(best_rows[hit.article_id])) for hit in hits[:top_k]]


class GivenVectors:
    name = "given-vectors"
    dimension = 16

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        raise AssertionError("the test gives every query vector")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """3,000 chunks in 600 articles: more lexical matches than CANDIDATES for most questions."""
    rng = np.random.default_rng(2)
    texts = zipf_texts(3000, seed=3)
    chunks = [Chunk(f"a{row // 5}", "" if row % 5 == 0 else f"part {row % 5}", text) for row, text in enumerate(texts)]
    articles = {
        f"a{i}": ArticleMeta(f"a{i}", f"title {i}", f"https://help.example/{i}", (), "", "") for i in range(600)
    }
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = KBIndex(GivenVectors.name, articles, chunks, vectors, make_faiss_index(vectors))
    return KnowledgeBase(index, GivenVectors(), threshold=0.5)


def tied_at_the_last_candidate(kb: KnowledgeBase, question: str) -> bool:
    """Whether chunks share the CANDIDATES-th best BM25 score with chunks just below it."""
    scores = np.sort(kb.lexical.scores(question))[::-1]
    return bool(scores[CANDIDATES - 1] > 0 and scores[CANDIDATES - 1] == scores[CANDIDATES])


@pytest.mark.parametrize("mode", ["fused", "dense", "bm25"])
def test_search_returns_exactly_the_hits_of_the_previous_search(
    kb: KnowledgeBase, mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The previous search showed each article's best passage alone (its runner-up came later).
    monkeypatch.setattr(search_module, "SECOND_PASSAGE_MARGIN", -1.0)
    rng = np.random.default_rng(4)
    near = kb.index.vectors[rng.integers(0, 3000, 200)] + 0.5 * rng.standard_normal((200, 16)).astype(np.float32)
    untied = 0
    for question, vector in zip(zipf_queries(200, seed=5), near, strict=True):
        tied = tied_at_the_last_candidate(kb, question)
        untied += not tied
        for top_k in (1, 5, 1000):
            hits = kb.search(question, top_k=top_k, mode=mode, query_vector=vector)
            # Hit is a frozen dataclass: ids, titles, passages, sections and float scores all equal.
            assert hits == previous_search(kb, question, top_k, mode, vector, first_of_ties=True)
            if not tied:  # else the previous search took whichever of the tied chunks argpartition left
                assert hits == previous_search(kb, question, top_k, mode, vector)
    assert untied > 120


def test_the_sampled_floor_is_taken_for_most_questions(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above goes through the fast pick, not only through its fallback (which
    partitions all 3,000 scores)."""
    sizes: list[int] = []
    partition = np.partition
    monkeypatch.setattr(lexical_module.np, "partition", lambda a, k: sizes.append(len(a)) or partition(a, k))
    for question in zipf_queries(100, seed=5):
        kb.lexical.candidates(question, CANDIDATES, also=np.zeros(0, dtype=np.int64))
    assert sum(n < 3000 and n != 3000 // 16 + 1 for n in sizes) > 50 and sizes.count(3000) < 50


@pytest.mark.parametrize("k", [1, 5, 100, 999, 1000, 5000])
def test_largest_finds_the_k_largest_scores_with_ties_and_zeros(k: int) -> None:
    rng = np.random.default_rng(k)
    for _ in range(50):
        scores = np.round(rng.exponential(3, 1000), 1).astype(np.float32)  # many ties
        scores[rng.random(1000) < rng.random()] = 0  # from a few zeros to nearly all
        rows = _largest(scores, k)
        assert np.array_equal(np.sort(rows), np.sort(np.argsort(-scores, kind="stable")[:k]))  # ties: first rows


def test_candidates_of_a_query_without_known_terms_are_the_given_rows_at_zero(kb: KnowledgeBase) -> None:
    rows, scores = kb.lexical.candidates("unknownword the", 100, also=np.array([7, 3, 7]))
    assert rows.tolist() == [3, 7] and scores.tolist() == [0.0, 0.0]


def test_one_typo_away_makes_every_single_edit() -> None:
    from bot.kb.lexical import one_typo_away

    edits = set(one_typo_away("lock"))
    assert {"lck", "llock", "lokc", "lack", "locks", "olck"} <= edits  # missing, extra, swapped, wrong
    assert "lock" in edits  # a letter replaced by itself
    assert "lakc" not in edits and "lo" not in edits  # two edits


def test_the_share_of_unknown_words_forgives_one_typo_and_ignores_stop_words() -> None:
    from bot.kb.lexical import LexicalIndex

    lexical = LexicalIndex(["Reset your password with the link we email you.", "The doorbell battery lasts months."])
    assert lexical.unknown_share("reset password link") == 0.0
    assert lexical.unknown_share("reset pasword link") == 0.0  # one letter missing
    assert lexical.unknown_share("reset passowrd link") == 0.0  # two letters swapped
    assert lexical.unknown_share("doorbell fingerprint") == 0.5
    assert lexical.unknown_share("fluffy pancakes") == 1.0
    assert lexical.unknown_share("fingerprint", also_known=lexical.words_of(["a fingerprint reader"])) == 0.0
    assert lexical.unknown_share("the") == lexical.unknown_share("") == 0.0  # no word that says anything
    assert lexical.unknown_share("xyz") == 1.0  # too short to forgive a typo in


def test_bm25_scores_are_those_of_bm25s_own_stemmed_tokenizing() -> None:
    # The index splits the text once and stems the words itself, to keep the words as written.
    import bm25s
    import Stemmer

    from bot.kb.lexical import LexicalIndex

    texts = [
        "Reset your password with the link we email you.",
        "The doorbell's batteries last months; charging takes 2 hours.",
        "Cameras record clips to the cloud. Recording stops when the camera is offline.",
        "",
    ]
    stemmer = Stemmer.Stemmer("english")
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    lexical = LexicalIndex(texts)
    for query in ["resetting passwords", "camera recordings offline", "battery charged", "the doorbell"]:
        terms = [t for t in lexical.terms(query) if lexical.knows(t)]
        np.testing.assert_allclose(lexical.scores(query), reference.get_scores(terms), rtol=1e-6)
        assert lexical.scores(query).max() > 0
    assert {"cameras", "camera", "recording", "doorbell"} <= lexical.written_words
    assert "batteries" in lexical.written_words and "batteri" not in lexical.written_words  # not stemmed
