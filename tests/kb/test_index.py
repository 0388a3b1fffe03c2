from pathlib import Path

import numpy as np
import pytest

from bot.kb.index import build_index, example_questions, index_kind, load_index, make_faiss_index
from tests.factories import write_article, write_small_kb
from tests.fakes import HashingEmbedder


def test_build_index_writes_chunks_vectors_and_faiss(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    index = load_index(tmp_path / "index")
    assert (report.articles, report.embedded_articles, report.reused_articles) == (3, 3, 0)
    assert report.chunks == len(index.chunks) == index.vectors.shape[0] == index.faiss_index.ntotal
    assert set(index.articles) == {"reset-password", "refund-times", "track-order"}
    assert {c.section for c in index.chunks if c.article_id == "reset-password"} == {
        "Forgotten password",
        "No email arrived",
    }
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-5)


def test_rebuild_embeds_only_changed_articles(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)

    unchanged = HashingEmbedder()
    report = build_index(source, tmp_path / "index", unchanged, show_progress=False)
    assert (report.embedded_articles, report.reused_articles, report.changed) == (0, 3, False)
    assert unchanged.calls == []  # nothing to embed: the model is never asked

    write_article(source, "refund-times", "How long refunds take", "Refunds now take 3 business days.")
    (source / "track-order.md").unlink()
    changed = HashingEmbedder()
    report = build_index(source, tmp_path / "index", changed, show_progress=False)
    assert (report.embedded_articles, report.reused_articles, report.removed_articles) == (1, 1, 1)
    # Its one passage, and its title as its one example question.
    assert changed.calls == [["How long refunds take. Refunds now take 3 business days.", "How long refunds take"]]
    index = load_index(tmp_path / "index")
    assert set(index.articles) == {"reset-password", "refund-times"}
    assert index.faiss_index.ntotal == len(index.chunks)


def test_rebuild_with_another_model_embeds_everything(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    other = HashingEmbedder(dimension=32)
    other.name = "another-model"
    report = build_index(source, tmp_path / "index", other, show_progress=False)
    assert report.embedded_articles == 3


def test_rebuild_after_the_chunker_changed_embeds_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged articles make other chunks under another chunker: their old ones are not reused."""
    from bot.kb import index as index_module

    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    monkeypatch.setattr(index_module, "CHUNKER_VERSION", index_module.CHUNKER_VERSION + 1)
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    assert (report.embedded_articles, report.reused_articles) == (3, 0)


def test_build_index_refuses_a_folder_without_articles(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "empty.md").write_text("")
    with pytest.raises(ValueError, match=r"no article could be read from .*kb\n.*empty.md: empty file"):
        build_index(tmp_path / "kb", tmp_path / "index", HashingEmbedder(), show_progress=False)


def test_load_index_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="python -m bot kb build"):
        load_index(tmp_path)


@pytest.mark.parametrize("size", [500, 60_000])
def test_faiss_top_k_matches_brute_force_cosine(size: int) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(size, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.choice(size, 20, replace=False)] + rng.normal(scale=0.3, size=(20, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = make_faiss_index(vectors)
    _, found = index.search(queries, 10)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    overlap = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    if size < 50_000:
        assert type(index).__name__ == "IndexFlatIP"
        assert overlap == 1.0
    else:  # approximate (HNSW) above that size: recall, not identity
        assert type(index).__name__ == "IndexHNSWFlat"
        assert overlap >= 0.9


def test_ivf_index_finds_most_exact_neighbours_and_survives_a_round_trip(tmp_path: Path) -> None:
    import faiss

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(50, 32)).astype(np.float32)
    vectors = centres[rng.integers(0, 50, 20_000)] + rng.normal(scale=0.3, size=(20_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:20] + rng.normal(scale=0.1, size=(20, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = make_faiss_index(vectors, kind="ivf")
    faiss.write_index(index, str(tmp_path / "ivf.faiss"))
    loaded = faiss.read_index(str(tmp_path / "ivf.faiss"))
    assert type(loaded).__name__ == "IndexIVFFlat" and loaded.nprobe == index.nprobe > 1
    _, found = loaded.search(queries, 10)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)]) >= 0.9


def test_index_kind_is_chosen_by_size_and_an_unknown_kind_is_named() -> None:
    assert [index_kind(n) for n in (10, 60_000, 1_000_000)] == ["flat", "hnsw", "hnsw"]
    with pytest.raises(ValueError, match="unknown index kind 'annoy': use flat, hnsw or ivf"):
        make_faiss_index(np.ones((2, 4), np.float32), kind="annoy")  # type: ignore[arg-type]


def test_example_questions_are_embedded_after_each_articles_title_and_reused(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    write_article(
        source, "track-order", "Track your order", "Open Orders.", questions=["wheres my parcel", "tracking link"]
    )
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    assert report.questions == 2  # written ones; the titles are not counted
    index = load_index(tmp_path / "index")
    assert index.articles["track-order"].questions == ("wheres my parcel", "tracking link")
    expected = [q for meta in index.articles.values() for q in example_questions(meta)]
    assert (
        "wheres my parcel" in expected and expected.index("wheres my parcel") == expected.index("Track your order") + 1
    )
    assert index.question_vectors is not None and index.question_faiss_index is not None
    assert len(expected) == index.question_vectors.shape[0] == index.question_faiss_index.ntotal == 5
    np.testing.assert_allclose(index.question_vectors, HashingEmbedder().embed(expected), atol=1e-6)

    # A new question re-embeds its article only; the others keep their vectors.
    write_article(source, "track-order", "Track your order", "Open Orders.", questions=["wheres my parcel"])
    again = HashingEmbedder()
    report = build_index(source, tmp_path / "index", again, show_progress=False)
    assert (report.embedded_articles, report.reused_articles) == (1, 2)
    assert again.calls == [["Track your order. Open Orders.", "Track your order", "wheres my parcel"]]
    index = load_index(tmp_path / "index")
    expected = [q for meta in index.articles.values() for q in example_questions(meta)]
    np.testing.assert_allclose(index.question_vectors, HashingEmbedder().embed(expected), atol=1e-6)


def test_an_index_of_the_previous_format_is_refused_by_name_and_rebuilt_whole(tmp_path: Path) -> None:
    import json

    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    meta_path = tmp_path / "index" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 1  # as the versions before example questions wrote it
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="built by an older version; rebuild it with: python -m bot kb build"):
        load_index(tmp_path / "index")
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    assert report.embedded_articles == 3
    assert load_index(tmp_path / "index").question_vectors is not None


def test_not_answered_questions_are_embedded_once_and_reused_by_their_text(tmp_path: Path) -> None:
    source = write_small_kb(tmp_path / "kb")
    write_article(source, "track-order", "Track your order", "Open Orders.", not_answered=["track a dhl parcel"])
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    assert (report.not_answered, report.changed) == (1, True)
    index = load_index(tmp_path / "index")
    assert index.articles["track-order"].not_answered == ("track a dhl parcel",)
    assert index.not_answered_vectors is not None
    np.testing.assert_allclose(index.not_answered_vectors, HashingEmbedder().embed(["track a dhl parcel"]), atol=1e-6)

    # Unchanged: nothing embedded, nothing to reload.
    same = HashingEmbedder()
    report = build_index(source, tmp_path / "index", same, show_progress=False)
    assert (same.calls, report.changed) == ([], False)

    # One more: only it is embedded; the article's passages and example questions are reused.
    write_article(
        source, "track-order", "Track your order", "Open Orders.", not_answered=["track a dhl parcel", "track by sms"]
    )
    again = HashingEmbedder()
    report = build_index(source, tmp_path / "index", again, show_progress=False)
    assert (again.calls, report.embedded_articles, report.changed) == ([["track by sms"]], 0, True)
    index = load_index(tmp_path / "index")
    assert index.not_answered_vectors is not None
    np.testing.assert_allclose(
        index.not_answered_vectors, HashingEmbedder().embed(["track a dhl parcel", "track by sms"]), atol=1e-6
    )

    # Removed: a change without anything to embed.
    write_article(source, "track-order", "Track your order", "Open Orders.")
    report = build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    assert (report.not_answered, report.changed) == (0, True)
    index = load_index(tmp_path / "index")
    assert index.not_answered_vectors is not None and index.not_answered_vectors.shape == (0, 64)


def test_an_index_built_before_not_answered_questions_still_loads(tmp_path: Path) -> None:
    build_index(write_small_kb(tmp_path / "kb"), tmp_path / "index", HashingEmbedder(), show_progress=False)
    (tmp_path / "index" / "not_answered.npy").unlink()
    assert load_index(tmp_path / "index").not_answered_vectors is None


def test_two_builds_of_one_index_take_turns(tmp_path: Path) -> None:
    """The console's background rebuild and a `make index` may start together: the second
    waits for the first, then reads the articles as they are and reuses its vectors."""
    import threading
    import time

    class SlowEmbedder(HashingEmbedder):
        def __init__(self, name: str, log: list) -> None:
            super().__init__()
            self.label, self.log = name, log

        def embed(self, texts, *, show_progress=False):
            self.log.append((self.label, "start"))
            time.sleep(0.3)
            vectors = super().embed(texts)
            self.log.append((self.label, "end"))
            return vectors

    source = write_small_kb(tmp_path / "kb")
    log: list = []
    first = threading.Thread(
        target=build_index,
        args=(source, tmp_path / "index", SlowEmbedder("first", log)),
        kwargs={"show_progress": False},
    )
    first.start()
    while not log:  # the first build holds the lock and is embedding
        time.sleep(0.01)
    write_article(source, "track-order", "Track your order", "Open Orders.", questions=["wheres my parcel"])
    report = build_index(source, tmp_path / "index", SlowEmbedder("second", log), show_progress=False)
    first.join()
    assert log[:2] == [("first", "start"), ("first", "end")]  # the second started after the first ended
    assert report.reused_articles == 2 and report.embedded_articles == 1  # it saw the first's index
    index = load_index(tmp_path / "index")
    assert index.articles["track-order"].questions == ("wheres my parcel",)
