from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from bot.kb import search as search_module
from bot.kb.index import build_index, load_index
from bot.kb.search import MAX_QUERY_CHARS, KnowledgeBase, clean_query
from tests.factories import write_article, write_small_kb
from tests.fakes import HashingEmbedder


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    return KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.7)


def test_search_ranks_the_matching_article_first_with_its_passage(kb: KnowledgeBase) -> None:
    hits = kb.search("forgot password reset link")
    assert hits[0].article_id == "reset-password"
    assert hits[0].title == "Reset your password"
    assert hits[0].url == "https://help.example/reset-password"
    assert "reset link" in hits[0].passage
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.article_id for h in hits}) == len(hits)  # one hit per article


def test_fused_score_adds_bm25_the_centroid_and_the_closest_example_question_and_takes_off_unknown_words(
    kb: KnowledgeBase,
) -> None:
    query = "how long do refunds to my card take"
    fused = {h.article_id: h.score for h in kb.search(query, mode="fused")}
    dense = {h.article_id: h.score for h in kb.search(query, mode="dense")}
    bm25 = {h.article_id: h.score for h in kb.search(query, mode="bm25")}
    bonus = search_module.LEXICAL_WEIGHT * bm25["refund-times"] / (bm25["refund-times"] + search_module.BM25_SATURATION)
    # refund-times has one chunk, so its centroid is that chunk's vector: cosine = dense score.
    centroid = search_module.CENTROID_WEIGHT * dense["refund-times"]
    # Its only example question is its title.
    query_vector, title_vector = HashingEmbedder().embed([query, "How long refunds take"])
    question = search_module.QUESTION_WEIGHT * float(query_vector @ title_vector)
    assert question > 0
    # "how", "do", "my", "card", "take" and "long" are in no article of the small KB; "refunds" is.
    unknown = search_module.UNKNOWN_WORDS_WEIGHT * kb.lexical.unknown_share(query)
    assert 0 < unknown < search_module.UNKNOWN_WORDS_WEIGHT
    expected = dense["refund-times"] + bonus + centroid + question - unknown
    assert fused["refund-times"] == pytest.approx(expected, rel=1e-5)
    assert 0 < bonus < search_module.LEXICAL_WEIGHT


def test_words_the_help_centre_never_uses_lower_every_article_alike_and_change_no_ranking(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "reset password link fingerprint"
    with_term = kb.search(question)
    monkeypatch.setattr(search_module, "UNKNOWN_WORDS_WEIGHT", 0.0)
    without = kb.search(question)
    assert [h.article_id for h in with_term] == [h.article_id for h in without]
    lowered = {round(b.score - a.score, 6) for a, b in zip(with_term, without, strict=True)}
    assert lowered == {round(0.8 * 0.25, 6)}  # one word of four is the help centre's own: none


def test_a_word_only_an_example_question_uses_is_the_help_centres_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    write_article(source, "lock", "Smart lock", "The lock opens with the app.", questions=["lock wont budge"])
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    def lowered_by_unknown_words(question: str) -> float:
        (scored,) = kb.search(question)
        with monkeypatch.context() as patch:
            patch.setattr(search_module, "UNKNOWN_WORDS_WEIGHT", 0.0)
            (unscored,) = kb.search(question)
        return unscored.score - scored.score

    assert lowered_by_unknown_words("lock budge") == pytest.approx(0.0)  # "budge": an example question's word
    assert lowered_by_unknown_words("lock fingerprint") == pytest.approx(search_module.UNKNOWN_WORDS_WEIGHT / 2)


def test_centroids_are_the_unit_mean_of_each_articles_chunk_vectors(kb: KnowledgeBase) -> None:
    rows = [i for i, chunk in enumerate(kb.index.chunks) if chunk.article_id == "reset-password"]
    assert len(rows) == 2  # two sections
    mean = kb.index.vectors[rows].sum(axis=0)
    expected = mean / np.linalg.norm(mean)
    assert np.allclose(kb.centroids[kb.article_ids.index("reset-password")], expected, atol=1e-6)


class KeyedEmbedder:
    """Fixed vectors by keyword, so a test can place passages and the question exactly."""

    name = "keyed-test-embedder"
    dimension = 3
    vectors: ClassVar[dict[str, tuple[float, float, float]]] = {
        "alpha": (1.0, 1.0, 1.4),  # cosine 0.711 to the question
        "beta": (1.0, 0.0, 0.0),  # 0.707
        "gamma": (0.0, 1.0, 0.0),  # 0.707; beta and gamma together point right at it
        "question": (1.0, 1.0, 0.0),
        "asked": (1.0, 1.0, 0.0),  # an example question phrased as the question
        "Title": (0.0, 0.0, 1.0),  # titles: nothing to do with the question (cosine 0)
    }

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        rows = [next(v for key, v in self.vectors.items() if key in text) for text in texts]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_centroid_lifts_the_article_whose_passages_together_answer_the_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One passage of A is a hair closer than any passage of B, but B as a whole is about the question."""
    from tests.factories import write_article

    # The word "question" is in no passage: without this its unknown-word term would shift both scores.
    monkeypatch.setattr(search_module, "UNKNOWN_WORDS_WEIGHT", 0.0)

    source = tmp_path / "kb"
    source.mkdir()
    write_article(source, "a", "Title A", "alpha")
    write_article(source, "b", "Title B", "## One\nbeta\n\n## Two\ngamma")
    build_index(source, tmp_path / "index", KeyedEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), KeyedEmbedder(), threshold=0.0)
    by_passage = kb.search("question", mode="dense")
    fused = kb.search("question")
    assert [h.article_id for h in by_passage] == ["a", "b"]
    assert [h.article_id for h in fused] == ["b", "a"]
    weight = search_module.CENTROID_WEIGHT
    assert fused[0].score == pytest.approx(by_passage[1].score + weight * 1.0, abs=1e-5)
    assert fused[1].score == pytest.approx(by_passage[0].score * (1 + weight), abs=1e-5)


def test_an_example_question_lifts_its_article_even_when_no_passage_of_it_came_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A is the closer passage, but B's writer listed the customer's very question."""
    from tests.factories import write_article

    monkeypatch.setattr(search_module, "UNKNOWN_WORDS_WEIGHT", 0.0)  # "question" is in no text

    source = tmp_path / "kb"
    source.mkdir()
    write_article(source, "a", "Title A", "alpha")
    write_article(source, "b", "Title B", "beta", questions=["asked"])
    build_index(source, tmp_path / "index", KeyedEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), KeyedEmbedder(), threshold=0.0)
    # One candidate passage from each side, so only B's example question brings B in.
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    assert [h.article_id for h in kb.search("question", mode="dense")] == ["a"]
    fused = kb.search("question")
    assert [h.article_id for h in fused] == ["b", "a"]
    weight = search_module.CENTROID_WEIGHT
    assert fused[0].score == pytest.approx(0.707 * (1 + weight) + search_module.QUESTION_WEIGHT * 1.0, abs=1e-3)
    assert fused[1].score == pytest.approx(0.711 * (1 + weight), abs=1e-3)  # its title is no closer than 0
    assert fused[0].passage == "beta"


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


def test_an_articles_opening_lines_come_with_the_passage_after_them(tmp_path: Path) -> None:
    """The opening says what the article is about; the customer needs the steps after it."""
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    opening = "Forgot your password? This article shows you how to set a new one."
    steps = "Tap Forgot password, enter your email and open the reset link we send."
    write_article(
        source, "reset", "Reset your password", f"{opening}\n\n## Request a link\n{steps}\n\n## Still stuck\nCall us."
    )
    # An opening and a next passage (each under the chunker's 90 words) too long to show together.
    long_steps = " ".join(["Afterwards, double-check everything displayed by the configuration assistant."] * 10)
    write_article(source, "wifi", "Connect to Wi-Fi", f"Setting up a camera on Wi-Fi.\n\n## Steps\n{long_steps}")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    opening_row = next(i for i, c in enumerate(kb.index.chunks) if c.text == opening)
    assert kb._passage(opening_row) == f"{opening}\n\n{steps}"
    steps_row = opening_row + 1
    assert kb._passage(steps_row) == steps  # a passage under a heading is shown as it is
    wifi_opening = next(i for i, c in enumerate(kb.index.chunks) if c.text == "Setting up a camera on Wi-Fi.")
    assert kb.index.chunks[wifi_opening + 1].text == long_steps and len(long_steps) > 700
    assert kb._passage(wifi_opening) == "Setting up a camera on Wi-Fi."
    hit = next(h for h in kb.search("forgot password new one", top_k=5) if h.article_id == "reset")
    assert hit.passage in (f"{opening}\n\n{steps}", steps, "Call us.")


def test_a_few_words_left_over_from_a_section_come_after_the_passage_before_them(tmp_path: Path) -> None:
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    countries = " ".join(f"We deliver to country number {n} within five days." for n in range(10))  # 90 words
    tail = "Express delivery stays inside the EU."
    other = "Customs duties are included in the price."
    write_article(source, "ship", "Shipping", f"## Where we ship\n{countries} {tail}\n\n## Customs\n{other}")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    texts = [c.text for c in kb.index.chunks]
    assert texts == [countries, tail, other]  # the chunker's 90 words left the tail on its own
    assert kb._passage(1) == f"{countries} {tail}"
    assert kb._passage(2) == other  # short too, but the passage before it is another section's


def test_a_list_is_shown_item_by_item_and_its_marks_do_not_count_against_the_length_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    opening = "You can pay in several ways."
    items = ["Cards: Visa and Mastercard", "PayPal", "Klarna: pay in 30 days"]
    body = f"{opening}\n\n## Methods\nAt checkout choose:\n\n" + "\n".join(f"- {item}" for item in items)
    write_article(source, "pay", "Payment methods", body)
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    listed = "At checkout choose:\n" + "\n".join(f"- {item}" for item in items)
    one_line = "At checkout choose: " + " ".join(items)
    assert [(c.text, c.shown) for c in kb.index.chunks] == [(opening, opening), (one_line, listed)]  # saved and loaded
    (hit,) = kb.search("pay with klarna", top_k=1)
    assert hit.passage == f"{opening}\n\n{listed}"
    # The limit is on the words: exactly as long as the two passages' words, the list still fits.
    monkeypatch.setattr(search_module, "JOINED_PASSAGE_CHARS", len(f"{opening}\n\n{one_line}"))
    assert kb._passage(0) == f"{opening}\n\n{listed}"
    monkeypatch.setattr(search_module, "JOINED_PASSAGE_CHARS", len(f"{opening}\n\n{one_line}") - 1)
    assert kb._passage(0) == opening


def test_the_rest_of_a_list_the_chunker_split_comes_after_the_items_before_it(tmp_path: Path) -> None:
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    steps = [" ".join([f"step{n}"] * 29) + "." for n in range(1, 5)]  # 30 words each: 3 fill a chunk
    numbered = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
    write_article(source, "fix", "Fix it", f"## Steps\n{numbered}\n\n## Other\nNot the steps.\n\n- one item")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    assert [c.shown for c in kb.index.chunks] == [
        "\n".join(f"{n}. {step}" for n, step in enumerate(steps[:3], start=1)),
        f"4. {steps[3]}",
        "Not the steps.\n- one item",
    ]
    assert len(kb.index.chunks[1].text.split()) >= search_module.SHORT_PASSAGE_WORDS  # not joined for being short
    assert kb._passage(1) == numbered
    assert kb._passage(0) == kb.index.chunks[0].shown  # the list's start is shown as it is
    assert kb._passage(2) == "Not the steps.\n- one item"  # a list of its own section


def test_a_question_close_to_one_the_help_centre_does_not_answer_is_less_sure_and_keeps_its_ranking(
    tmp_path: Path,
) -> None:
    source = write_small_kb(tmp_path / "kb")
    near_miss = "can i reset the password of my wifi router"
    write_article(
        source,
        "reset-password",
        "Reset your password",
        "Open the sign-in page and choose Forgot password. We email you a reset link.",
        not_answered=[near_miss],
    )
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.7)
    with_list = kb.search(near_miss)
    kb.index.not_answered_vectors = None
    without = kb.search(near_miss)
    assert [h.article_id for h in with_list] == [h.article_id for h in without]
    # The question is its own closest not-answered question: cosine 1.
    for a, b in zip(with_list, without, strict=True):
        assert a.score == pytest.approx(b.score - search_module.NOT_ANSWERED_WEIGHT, abs=1e-5)


def test_the_search_reads_a_misspelt_question_as_corrected(kb: KnowledgeBase) -> None:
    misspelt = kb.search("forgot my pasword, need a reset lnik")
    written_right = kb.search("forgot my password, need a reset link")
    assert [(h.article_id, h.score) for h in misspelt] == [(h.article_id, h.score) for h in written_right]


def test_the_search_reads_chat_shorthand_written_out(kb: KnowledgeBase) -> None:
    shorthand = kb.search("forgot my pw, pls send a reset link")
    written_out = kb.search("forgot my password, please send a reset link")
    assert [(h.article_id, h.score) for h in shorthand] == [(h.article_id, h.score) for h in written_out]
    assert kb.read_as("forgot my pw") == "forgot my password"


def test_a_vector_of_the_misspelt_question_is_not_used(kb: KnowledgeBase) -> None:
    question = "forgot my pasword"
    given = kb.embedder.embed([question])[0]
    with_vector = kb.search(question, query_vector=given)
    assert [h.score for h in with_vector] == [h.score for h in kb.search("forgot my password")]
    assert kb.embedder.calls[-1] == ["forgot my password"]


def test_another_passage_of_the_article_is_the_best_one_not_already_shown(tmp_path: Path) -> None:
    source = tmp_path / "kb"
    source.mkdir()
    opening = "Your doorbell battery runs down. This article explains battery life and charging."
    lasts = "A full charge lasts two to six months depending on motion events at your door."
    charging = "Charging the battery pack takes about five hours with a USB-C charger."
    write_article(
        source,
        "battery",
        "Doorbell battery",
        f"{opening}\n\n## How long a charge lasts\n{lasts}\n\n## Charge the pack\n{charging}",
    )
    write_article(source, "wifi", "Connect to Wi-Fi", "Setting up a camera on Wi-Fi needs your router's password.")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)

    def read(passage: str) -> list[str]:
        return kb.read_keys("battery", passage)

    assert kb.other_passage("how long does charging the battery pack take", "battery", read(lasts)) == charging
    # What the customer read is never shown again, nor a part of it: the opening was shown
    # joined to the passage after it.
    shown = f"{opening}\n\n{lasts}"
    assert len(read(shown)) == 2
    assert kb.other_passage("how long does a charge last", "battery", read(shown)) == charging
    # The opening leads into the passage after it: with that read, nothing of it is left to show.
    assert kb.unread("battery", shown, read(lasts)) == ""
    assert kb.unread("battery", shown, []) == shown
    # A passage with a part read is passed over whole: the opening alone would say nothing.
    assert kb.other_passage("this article explains battery life", "battery", read(lasts)) == charging
    # Everything read, over two answers: nothing left.
    assert kb.other_passage("how long does a charge last", "battery", [*read(shown), *read(charging)]) is None
    only_one = "Setting up a camera on Wi-Fi needs your router's password."
    assert kb.other_passage("router password", "wifi", kb.read_keys("wifi", only_one)) is None
    assert kb.other_passage("anything", "no-such-article", []) is None
    assert kb.other_passage("   ", "battery", read(lasts)) is None


def test_a_passage_less_what_was_read_keeps_the_unread_parts(tmp_path: Path) -> None:
    source = tmp_path / "kb"
    source.mkdir()
    first = "Returns are free within 30 days of delivery for every order."
    second = "Refunds reach your account within five working days of our receiving the parcel."
    write_article(source, "returns", "Returns", f"## Send it back\n{first}\n\n## Your money\n{second}")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    kb = KnowledgeBase(load_index(tmp_path / "index"), HashingEmbedder(), threshold=0.0)
    both = f"{first}\n\n{second}"

    assert kb.unread("returns", both, []) == both
    assert kb.unread("returns", both, kb.read_keys("returns", first)) == second
    assert kb.unread("returns", both, kb.read_keys("returns", both)) == ""
    # Keys are of the article's own chunks: another article's text is never taken as read.
    assert kb.read_keys("returns", "Setting up a camera on Wi-Fi needs your router's password.") == []
    assert kb.read_keys("no-such-article", first) == []


def test_the_unknown_word_term_can_count_another_texts_words(kb: KnowledgeBase) -> None:
    # A follow-up searched joined to its topic: the topic's known words would hide "bitcoin".
    joined = "forgot password reset link bitcoin"
    own = kb.search(joined, unknown_words_of="bitcoin")
    plain = kb.search(joined)
    assert [h.article_id for h in own] == [h.article_id for h in plain]
    share_joined = kb.lexical.unknown_share(joined)
    assert 0 < share_joined < 1
    for a, b in zip(own, plain, strict=True):
        assert a.score == pytest.approx(b.score - search_module.UNKNOWN_WORDS_WEIGHT * (1 - share_joined), abs=1e-5)
