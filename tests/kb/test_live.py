"""A running bot picks up a rebuilt index: real files, a real build, a real background thread."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.kb.index import build_index, load_index
from bot.kb.live import LiveKnowledgeBase
from bot.kb.search import KnowledgeBase
from tests.factories import write_article, write_small_kb
from tests.fakes import HashingEmbedder


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    source = write_small_kb(tmp_path / "kb")
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    return source, tmp_path / "index"


class CountingLoader:
    def __init__(self) -> None:
        self.loads = 0

    def __call__(self, index_dir: Path) -> KnowledgeBase:
        self.loads += 1
        return KnowledgeBase(load_index(index_dir), HashingEmbedder(), threshold=0.1)


def refund_passage(kb: KnowledgeBase) -> str:
    return kb.search("how long do refunds take", top_k=5)[0].passage


def test_a_rebuilt_index_is_answered_from_without_a_restart(built: tuple[Path, Path]) -> None:
    source, index = built
    loader = CountingLoader()
    live = LiveKnowledgeBase(index, loader, check_seconds=0)
    before = live.current()
    assert "5 to 10 business days" in refund_passage(before)

    write_article(source, "refund-times", "How long refunds take", "Refunds reach your card within 2 working days.")
    build_index(source, index, HashingEmbedder(), show_progress=False)
    assert live.current() is before  # the customer asking now is answered at once, from the old index
    live.wait_for_reload(timeout=30)
    after = live.current()
    assert after is not before and "2 working days" in refund_passage(after)
    assert loader.loads == 2


def test_an_unchanged_index_is_not_loaded_again(built: tuple[Path, Path]) -> None:
    _, index = built
    loader = CountingLoader()
    live = LiveKnowledgeBase(index, loader, check_seconds=0)
    first = live.current()
    for _ in range(5):
        assert live.current() is first
    live.wait_for_reload(timeout=30)
    assert loader.loads == 1


def test_a_broken_index_is_logged_and_the_old_one_goes_on_answering(
    built: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    source, index = built
    loader = CountingLoader()
    live = LiveKnowledgeBase(index, loader, check_seconds=0)
    before = live.current()
    (index / "meta.json").write_text("{ not json", encoding="utf-8")  # say, an admin's editor
    with caplog.at_level(logging.ERROR, logger="bot.kb.live"):
        live.current()
        live.wait_for_reload(timeout=30)
    assert "could not be loaded; still answering from the previous one" in caplog.text
    assert live.current() is before and "5 to 10 business days" in refund_passage(live.current())
    live.wait_for_reload(timeout=30)
    assert loader.loads == 2  # the broken one is not tried again and again

    build_index(source, index, HashingEmbedder(), show_progress=False)  # the next build is picked up
    live.current()
    live.wait_for_reload(timeout=30)
    assert live.current() is not before and loader.loads == 3


def test_index_files_of_two_builds_are_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    """What a reader could meet while a build swaps its files in, meta.json last."""
    source, index = built
    write_article(source, "one-more", "One more article", "Another passage about something else entirely.")
    build_index(source, tmp_path / "bigger", HashingEmbedder(), show_progress=False)
    shutil.copy(tmp_path / "bigger" / "vectors.npy", index / "vectors.npy")
    with pytest.raises(ValueError, match="do not belong together"):
        load_index(index)
