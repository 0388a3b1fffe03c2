"""Telling keyboard mashing from words, with the embedding model's real vocabulary."""

from __future__ import annotations

import pytest

from bot.kb.embedding import default_model_path
from bot.kb.words import is_only_filler, model_words, reads_as_words, thumbs_verdict

ENGLISH = model_words(default_model_path())


def test_the_stock_models_vocabulary_gives_whole_english_words_without_word_pieces() -> None:
    assert len(ENGLISH) > 20_000
    assert {"password", "delivery", "weather", "the"} <= ENGLISH
    assert not any(word.startswith("##") for word in ENGLISH)
    assert model_words(None) == frozenset() and model_words("/no/such/model") == frozenset()


@pytest.mark.parametrize("text", ["asdfgh", "jjj kkk", "qwerty", "fgfgfg hjhj", "XYZZY!!"])
def test_keyboard_mashing_does_not_read_as_words(text: str) -> None:
    assert not reads_as_words(text, ENGLISH)


@pytest.mark.parametrize(
    "text",
    [
        "whats the weather in paris",  # English, if not the help centre's
        "my pasword",  # typos
        "k",
        "order 4417",  # a digit: an order number, a code
        "👍",
        "привет",  # not Latin letters: not judged here
        "",
    ],
)
def test_words_typos_numbers_and_other_scripts_read_as_words(text: str) -> None:
    assert reads_as_words(text, ENGLISH)


def test_the_help_centres_own_words_count_with_one_typo() -> None:
    def help_centre_knows(words) -> bool:
        return "kestrel" in words

    assert not reads_as_words("kestral", ENGLISH)
    assert reads_as_words("kestral", ENGLISH, help_centre_knows)


def test_without_a_dictionary_nothing_is_called_gibberish() -> None:
    assert reads_as_words("asdfgh", frozenset())


def test_the_demo_knowledge_base_knows_its_words_and_not_mashing(demo_kb) -> None:
    assert demo_kb.reads_as_words("refnd")  # "refund" is the help centre's word, not the model's
    assert demo_kb.reads_as_words("hubb pairng")
    assert not demo_kb.reads_as_words("asdfgh")


@pytest.mark.parametrize(
    "text", ["hmm", "Hmmm...", "umm", "uhh", "erm", "oh", "oh well", "huh?", "lol", "hahaha", "mhm"]
)
def test_thinking_sounds_are_only_filler(text: str) -> None:
    assert is_only_filler(text)


@pytest.mark.parametrize("text", ["hmm my camera is offline", "so where is my order", "ohm", "", "?", "hub", "um 42"])
def test_a_message_with_anything_more_is_not_filler(text: str) -> None:
    assert not is_only_filler(text)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("👍", True),
        ("👍🏽", True),
        (" 👍👍! ", True),
        ("✔️", True),
        ("👎", False),
        ("❌", False),
        ("👍👎", None),
        ("👍 but it still blinks", None),
        ("🙂", None),
        ("", None),
    ],
)
def test_a_thumbs_up_is_a_yes_and_a_thumbs_down_a_no(text: str, verdict: bool | None) -> None:
    assert thumbs_verdict(text) is verdict
