"""nlu_components/wordpiece.py gives exactly the ids of the model's own (Hugging Face) tokenizer."""

from __future__ import annotations

import json

import pytest

from bot.config import PROJECT_ROOT
from bot.kb.embedding import SentenceTransformerEmbedder
from nlu_components.wordpiece import WordPieceTokenizer

TRICKY = [
    "Héllo, I can't log-in!!",
    "",
    "   ",
    "x",
    "Ça coûte combien? €€ 東京 ß İstanbul ﬁ",
    "a" * 150,
    "naïve café\u200bzero\u00a0nbsp",
    "emoji 😀 ok",
    "tab\there\nnew line",
    "l33t h4x0r $5.99 ^_^ `code` <html> {json} a|b ~x",
    "ÅÄÖ åäö ŁÓDŹ",
    "order #KST-10293 for jane.doe@example.com",
    "unbelievablyunpronounceablewordthatsurelyisnotinthevocab",
]


@pytest.fixture(scope="module")
def tokenizers():
    from transformers import AutoTokenizer

    model_path = SentenceTransformerEmbedder().model_path
    vocab = (PROJECT_ROOT / model_path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return AutoTokenizer.from_pretrained(model_path), WordPieceTokenizer(vocab)


def test_same_ids_as_the_models_tokenizer(tokenizers) -> None:
    reference, ours = tokenizers
    lines = (PROJECT_ROOT / "eval" / "kb_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in lines if line.strip()]
    texts = TRICKY + questions
    assert len(texts) > 250
    for text in texts:
        assert ours.tokenize(text) == reference(text, add_special_tokens=False)["input_ids"], text


def test_unknown_words_and_overlong_words_are_one_unknown_piece(tokenizers) -> None:
    _, ours = tokenizers
    assert ours.tokenize("a" * 101) == [ours.unknown]
    assert ours.tokenize("\u0378") == [ours.unknown]  # an unassigned code point: no piece fits
