"""Telling another language from English, with wordfreq's real word lists."""

from __future__ import annotations

import json

import pytest

from bot.config import PROJECT_ROOT
from bot.kb.language import another_latin_language, mostly_another_script, written_in_another_language


@pytest.mark.parametrize(
    ("text", "other_script"),
    [
        ("привет, у меня не работает камера", True),
        ("我的摄像头坏了", True),
        ("my camera says ошибка 42", False),  # mostly English
        ("mi cámara no funciona", False),  # Latin letters: the other test's business
        ("👍 ?", False),
        ("", False),
    ],
)
def test_a_message_mostly_in_another_script_is_told_apart(text: str, other_script: bool) -> None:
    assert mostly_another_script(text) is other_script


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mi cámara no funciona", "es"),
        ("mi camara no funciona", "es"),  # typed without accents, as on many phones
        ("je ne peux pas me connecter à mon compte", "fr"),
        ("wo ist meine Bestellung", "de"),
        ("não recebi o email de confirmação", "pt"),
        ("vorrei un rimborso", "it"),
        ("ik kan niet inloggen", "nl"),
    ],
)
def test_support_questions_in_other_latin_languages_are_recognised(text: str, language: str) -> None:
    assert another_latin_language(text) == language
    assert written_in_another_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "my camera is offline",
        "cant login pls help",  # slang and no apostrophe
        "kestrel doorbel wont pair w/ hub",  # typos and product names the lists lack
        "I ordered the café table lamp, where is it?",  # one borrowed word
        "José here, can't log in",  # a name
        "the app says erreur when I open it",
        "hmm",
        "gracias",  # one word is too little to tell
        "",
    ],
)
def test_english_however_written_is_not_taken_for_another_language(text: str) -> None:
    assert not written_in_another_language(text)


def test_the_written_other_language_questions_are_all_caught() -> None:
    rows = [json.loads(line) for line in (PROJECT_ROOT / "eval" / "kb_other_languages.jsonl").read_text().splitlines()]
    assert len(rows) == 90 and {row["language"] for row in rows} == {"es", "fr", "de", "pt", "it", "nl"}
    missed = [row["text"] for row in rows if not written_in_another_language(row["text"])]
    assert missed == []


def test_the_demo_questions_are_not_taken_for_another_language() -> None:
    for name in ("kb_questions.jsonl", "kb_calibration.jsonl"):
        lines = (PROJECT_ROOT / "eval" / name).read_text().splitlines()
        flagged = [row["text"] for row in map(json.loads, lines) if written_in_another_language(row["text"])]
        assert flagged == [], name
