from pathlib import Path

import numpy as np
import pytest

from bot.kb import search as search_module
from bot.kb.index import build_index, load_index
from bot.kb.search import MAX_QUERY_CHARS, KnowledgeBase, clean_query
from tests.factories import write_small_kb
from tests.fakes import HashingEmbedder


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    return KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.45)


def test_search_ranks_the_matching_article_first_with_its_passage(kb: KnowledgeBase) -> None:
    hits = kb.search("forgot password reset link")
    assert hits[0].article_id == "reset-password"
    assert hits[0].title == "Reset your password"
    assert hits[0].url == "https://help.example/reset-password"
    assert "reset link" in hits[0].passage
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.article_id for h in hits}) == len(hits)  # one hit per article


def test_fused_score_is_dense_plus_saturated_bm25(kb: KnowledgeBase) -> None:
    query = "refunds card business days"
    fused = {h.article_id: h.score for h in kb.search(query, mode="fused")}
    dense = {h.article_id: h.score for h in kb.search(query, mode="dense")}
    bm25 = {h.article_id: h.score for h in kb.search(query, mode="bm25")}
    bonus = search_module.LEXICAL_WEIGHT * bm25["refund-times"] / (bm25["refund-times"] + search_module.BM25_SATURATION)
    assert fused["refund-times"] == pytest.approx(dense["refund-times"] + bonus, rel=1e-5)
    assert 0 < bonus < search_module.LEXICAL_WEIGHT


def test_bm25_mode_finds_keyword_matches_only(kb: KnowledgeBase) -> None:
    hits = kb.search("parcel", mode="bm25")
    assert [h.article_id for h in hits] == ["track-order"]


def test_answer_decides_by_threshold(kb: KnowledgeBase) -> None:
    confident = kb.answer("forgot password reset link")
    assert (confident.decision, confident.reason, confident.best.article_id) == (
        "answer",
        "confident",
        "reset-password",
    )
    unknown = kb.answer("zebra quantum violin")
    assert (unknown.decision, unknown.reason) == ("escalate", "low_confidence")


@pytest.mark.parametrize("question", ["", "   \n\t ", None])
def test_answer_to_an_empty_question_escalates_without_hits(kb: KnowledgeBase, question: str | None) -> None:
    answer = kb.answer(question)  # type: ignore[arg-type]
    assert (answer.decision, answer.hits, answer.reason) == ("escalate", [], "empty_question")


def test_a_10000_character_question_is_cut_and_still_answered(kb: KnowledgeBase) -> None:
    question = "reset password " + "x" * 10_000
    assert len(clean_query(question)) == MAX_QUERY_CHARS
    assert kb.search(question)  # no crash, still ranked


def test_knowledge_base_refuses_an_index_from_another_model(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    other = HashingEmbedder()
    other.name = "other-model"
    with pytest.raises(ValueError, match="built with 'hashing-test-embedder' but the embedder is 'other-model'"):
        KnowledgeBase(load_index(tmp_path / "index"), other, threshold=0.5)


def test_hits_serialise_as_the_query_contract(kb: KnowledgeBase) -> None:
    (hit,) = kb.search("track parcel", top_k=1)
    assert set(hit.as_dict()) == {"article_id", "title", "url", "score", "passage"}
    assert isinstance(hit.as_dict()["score"], float)
    assert np.isfinite(hit.score)
