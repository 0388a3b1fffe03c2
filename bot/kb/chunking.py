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

__all__ = [
    "CHUNKER_VERSION",
    "Block",
    "Chunk",
    "chunk_article",
    "load_nlp",
    "markdown_to_text",
    "starts_list_item",
    "table_sentences",
]

MAX_CHUNK_WORDS = 90
# Changes when the same article makes other chunks: an index of another version is re-embedded
# whole (bot/kb/index.py). 2: Markdown tables are read row by row as sentences. 3: a chunk keeps
# the text it is shown as (`display`), with list items and table rows on lines of their own.
CHUNKER_VERSION = 3

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:([-*+])|(\d+[.)]))\s+")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^:?-{3,}:?$")


@dataclass(frozen=True)
class Chunk:
    article_id: str
    section: str
    text: str  # what is embedded and searched: the chunk's sentences on one line
    # What the customer is shown: the same words, with each list item ("- ", "1. ") and table row
    # on a line of its own. Only whitespace and list marks differ from `text`, so the embeddings,
    # BM25 and the adapted model's training pairs stay as they were. "" means the same as `text`.
    display: str = ""

    @property
    def shown(self) -> str:
        return self.display or self.text

    def embedding_text(self, title: str) -> str:
        """What the embedder sees: the passage in its article's and section's context."""
        context = title if not self.section or self.section == title else f"{title}. {self.section}"
        return f"{context}. {self.text}"


def starts_list_item(line: str) -> bool:
    """Whether a line of a chunk's shown text starts a list item (its "- " or "1. " mark)."""
    return _BULLET.match(line) is not None


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


def table_sentences(rows: list[str]) -> list[str]:
    """A Markdown table as one sentence per row, each value named by its column's header.

    "| Price per month | EUR 3.99 | EUR 9.99 |" under "| | Protect Basic | Protect Plus |" reads
    "Price per month: Protect Basic EUR 3.99; Protect Plus EUR 9.99." As pipes and dashes, the
    customer saw the table's markup as the answer and the embedder read it as one long line.
    """
    cells = [[markdown_to_text(cell.strip()) for cell in row.strip().strip("|").split("|")] for row in rows]
    cells = [row for row in cells if not all(_TABLE_RULE.match(cell.replace(" ", "")) for cell in row)]
    if len(cells) < 2:
        return [" ".join(" ".join(row) for row in cells).strip()] if cells else []
    header, body = cells[0], cells[1:]
    sentences = []
    for row in body:
        values = [
            f"{header[i]} {value}" if i < len(header) and header[i] else value
            for i, value in enumerate(row[1:], start=1)
            if value
        ]
        label = row[0].rstrip(".:")
        if values:
            sentences.append(f"{label}: {'; '.join(values)}." if label else f"{'; '.join(values)}.")
        elif label:
            sentences.append(f"{label}.")
    return sentences


@dataclass(frozen=True)
class Block:
    """A paragraph, one list item or one table row, and how its line starts when shown."""

    text: str
    mark: str = ""  # "- " or "1. " for a list item, "" otherwise
    own_line: bool = False  # a list item or table row: shown on a line of its own


def split_sections(body: str) -> list[tuple[str, list[Block]]]:
    """Body to `(heading, blocks)`; a block is a paragraph, one list item or one table row."""
    sections: list[tuple[str, list[Block]]] = [("", [])]
    paragraph: list[str] = []
    table: list[str] = []
    mark = ""

    def flush() -> None:
        nonlocal mark
        if paragraph:
            text = markdown_to_text(" ".join(paragraph)).strip()
            sections[-1][1].append(Block(text, mark, own_line=bool(mark)))
            paragraph.clear()
            mark = ""
        if table:
            sections[-1][1].extend(Block(row, own_line=True) for row in table_sentences(table))
            table.clear()

    for line in body.splitlines():
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if _TABLE_ROW.match(line):
            if paragraph:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        if heading:
            flush()
            sections.append((markdown_to_text(heading.group(1)).strip(), []))
        elif not line.strip():
            flush()
        elif bullet:
            flush()
            mark = "- " if bullet.group(1) else f"{bullet.group(2)} "
            paragraph.append(line[bullet.end() :].strip())
        else:
            paragraph.append(line.strip())
    flush()
    return [(heading, blocks) for heading, blocks in sections if any(block.text for block in blocks)]


def chunk_article(article: Article, *, pipeline: str = "blank:en", max_words: int = MAX_CHUNK_WORDS) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `max_words` words, never across sections.

    A single sentence longer than `max_words` becomes a chunk of its own.
    """
    nlp = load_nlp(pipeline)
    chunks: list[Chunk] = []
    for heading, blocks in split_sections(article.body):
        # Each sentence with its block and whether it starts it, so the shown text can break
        # lines where a list item starts.
        sentences = [
            (block, sentence, position == 0)
            for block, doc in zip(blocks, nlp.pipe(block.text for block in blocks), strict=True)
            for position, sentence in enumerate(s.text.strip() for s in doc.sents if s.text.strip())
        ]
        current: list[tuple[Block, str, bool]] = []
        words = 0
        for block, sentence, starts_block in sentences:
            length = len(sentence.split())
            if current and words + length > max_words:
                chunks.append(_chunk(article.id, heading, current))
                current, words = [], 0
            current.append((block, sentence, starts_block))
            words += length
        if current:
            chunks.append(_chunk(article.id, heading, current))
    return chunks


def _chunk(article_id: str, heading: str, sentences: list[tuple[Block, str, bool]]) -> Chunk:
    """A chunk of `sentences`; its shown text starts a new line (with the item's mark) where a
    list item or table row starts, and where a paragraph follows one. A list item the previous
    chunk began goes on without its mark."""
    text = " ".join(sentence for _, sentence, _ in sentences)
    shown = ""
    previous: Block | None = None
    for block, sentence, starts_block in sentences:
        mark = block.mark if starts_block else ""
        if previous is None:
            shown = f"{mark}{sentence}"
        elif block is previous:
            shown += f" {sentence}"
        elif block.own_line or previous.own_line:
            shown += f"\n{mark}{sentence}"
        else:
            shown += f" {sentence}"
        previous = block
    return Chunk(article_id, heading, text, display=shown if shown != text else "")
