"""An admin adds an article and rebuilds the index while the bot runs: no restart needed."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from bot.config import Settings
from bot.kb.embedding import SentenceTransformerEmbedder
from bot.kb.index import build_index
from tests.factories import write_article
from tests.test_end_to_end import say, texts

pytestmark = pytest.mark.e2e

ARTICLE_URL = "https://help.example/birdwatch-photo-contest"
QUESTION = "how do i enter the birdwatching photo contest?"


def test_an_article_added_while_the_bot_runs_is_answered(running_stack: Settings, stack_kb_index: Path) -> None:
    assert ARTICLE_URL not in texts(say(running_stack, f"e2e-{uuid.uuid4().hex}", QUESTION))

    source = stack_kb_index.parent / "source"  # the folder the test stack's index was built from
    write_article(
        source,
        "birdwatch-photo-contest",
        "The Kestrel birdwatching photo contest",
        "Every spring we run a birdwatching photo contest for Kestrel owners. Send us your best "
        "picture of a wild bird taken with a Kestrel camera or doorbell: upload it in the app under "
        "Community, choose Photo contest and add a short caption. Entries close on 31 May. A jury of "
        "three bird photographers picks the winners in June; the first prize is a Kestrel Cam Outdoor.",
        questions=["how do i enter the photo contest", "when does the bird photo competition close"],
    )
    report = build_index(
        source, stack_kb_index, SentenceTransformerEmbedder(Settings().embedding_model_path), show_progress=False
    )
    assert report.embedded_articles == 1  # only the new article; the rest of the index is reused

    deadline = time.monotonic() + 60
    while True:
        reply = texts(say(running_stack, f"e2e-{uuid.uuid4().hex}", QUESTION))
        if ARTICLE_URL in reply or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert ARTICLE_URL in reply and "Community" in reply
