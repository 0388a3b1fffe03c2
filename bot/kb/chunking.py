"""Split articles into passages: sections by heading, then spaCy sentences packed into chunks.

Each chunk remembers its article's title and its section heading, because a passage like
"It takes 5 business days." means nothing to the embedder without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.kb.documents import Article

__all__ = ["Chunk", "chunk_article", "load_nlp", "markdown_to_text"]

MAX_CHUNK_WORDS = 90

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")


@dataclass(frozen=True)
class Chunk:
    article_id: str
    section: str
    text: str

    def embedding_text(self, title: str) -> str:
        """What the embedder sees: the passage in its article's and section's context."""
        context = title if not self.section or self.section == title else f"{title}. {self.section}"
        return f"{context}. {self.text}"


@lru_cache(maxsize=4)
def load_nlp(pipeline: str = "blank:en") -> Any:
    """A spaCy pipeline that sets sentence boundaries.

    "blank:en" builds the blank English pipeline with the rule-based sentencizer (no model
    download needed); any other name is loaded as an installed spaCy package.
    """
    import spacy

    if pipeline.startswith("blank:"):
        nlp = spacy.blank(pipeline.split(":", 1)[1])
        nlp.add_pipe("sentencizer")
        return nlp
    return spacy.load(pipeline, exclude=["ner", "lemmatizer", "textcat"])


def markdown_to_text(markdown: str) -> str:
    """Inline Markdown to plain text: links keep their words, emphasis marks go."""
    text = _LINK.sub(r"\1", markdown)
    previous = None
    while previous != text:  # nested emphasis such as **_word_**
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text


def split_sections(body: str) -> list[tuple[str, list[str]]]:
    """Body to `(heading, blocks)`; a block is a paragraph or one list item."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[-1][1].append(markdown_to_text(" ".join(paragraph)).strip())
            paragraph.clear()

    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush()
            sections.append((markdown_to_text(heading.group(1)).strip(), []))
        elif not line.strip():
            flush()
        elif _BULLET.match(line):
            flush()
            paragraph.append(_BULLET.sub("", line).strip())
        else:
            paragraph.append(line.strip())
    flush()
    return [(heading, blocks) for heading, blocks in sections if any(blocks)]


def chunk_article(article: Article, *, pipeline: str = "blank:en", max_words: int = MAX_CHUNK_WORDS) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `max_words` words, never across sections.

    A single sentence longer than `max_words` becomes a chunk of its own.
    """
    nlp = load_nlp(pipeline)
    chunks: list[Chunk] = []
    for heading, blocks in split_sections(article.body):
        sentences = [s.text.strip() for doc in nlp.pipe(blocks) for s in doc.sents if s.text.strip()]
        current: list[str] = []
        words = 0
        for sentence in sentences:
            length = len(sentence.split())
            if current and words + length > max_words:
                chunks.append(Chunk(article.id, heading, " ".join(current)))
                current, words = [], 0
            current.append(sentence)
            words += length
        if current:
            chunks.append(Chunk(article.id, heading, " ".join(current)))
    return chunks
