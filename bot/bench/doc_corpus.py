"""A large corpus of real English text from Debian's documentation packages, chunked as the KB is.

No million-passage help centre can be downloaded here (only PyPI, Debian and npm are reachable),
but Debian ships tens of millions of words of real prose: the GNU Collaborative International
Dictionary of English (`dict-gcide`), WordNet's glosses (`wordnet-base`), the fortune cookies,
and the manuals of Python, the Linux kernel, Perl, Git, PostgreSQL, Django, Rust and Java's API,
then the installed manual pages. The Makefile's `DEBIAN_DOC_PACKAGES` are the packages.

Each entry, synset, page or fortune becomes an `Article`, and the product's own chunker packs
its sentences into passages, which are embedded with their title and section as the KB's are;
`bench kb-real --corpus debian-docs` measures the index on their vectors at a million chunks.
Passages are shorter than the help centre's (at most `DEFAULT_MAX_WORDS` words against 90, 25
on average): a million 90-word passages would need more text than there is here.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from bot.kb.chunking import chunk_article
from bot.kb.documents import Article

__all__ = ["DEBIAN_DOCS", "DEFAULT_MAX_WORDS", "debian_doc_articles", "debian_doc_passages"]

DEFAULT_MAX_WORDS = 30

# Where each package puts its text on Debian 12; a source that is not installed is skipped.
DEBIAN_DOCS = {
    "gcide": Path("/usr/share/dictd/gcide.dict.dz"),
    "wordnet": Path("/usr/share/wordnet"),
    "python-docs": Path("/usr/share/doc/python3.11/html/_sources"),
    "kernel-docs": Path("/usr/share/doc/linux-doc-6.1/html/_sources"),
    "fortunes": Path("/usr/share/games/fortunes"),
    "perl-docs": Path("/usr/share/perl/5.36/pod"),
    "git-docs": Path("/usr/share/doc/git-doc"),
    "postgresql-docs": Path("/usr/share/doc/postgresql-doc-15/html"),
    "django-docs": Path("/usr/share/doc/python-django-doc/html"),
    "rust-books": Path("/usr/share/doc/rust-doc/html"),
    "java-api": Path("/usr/share/doc/openjdk-17-jre-headless/api"),
    "man-pages": Path("/usr/share/man"),  # every installed package's, English only
}
# The Rust documentation's books, not its generated API pages (tens of thousands of near-copies).
RUST_BOOKS = (
    "book", "reference", "nomicon", "rust-by-example", "cargo", "rustc", "edition-guide", "embedded-book", "rustdoc",
)  # fmt: skip

_GCIDE_NOTE = re.compile(r"^\s*(\[[^\]]*\]|Syn:|See also|Note:)")
_RST_UNDERLINE = re.compile(r"^([=\-~^*#+\"'`])\1{2,}\s*$")
_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
_RST_MARKUP = re.compile(r"``|\*\*|`_*|\|")
_LETTERS = re.compile(r"[A-Za-z]")


def _prose(text: str) -> bool:
    """Enough of it is letters to be a sentence rather than code, a table or a rule."""
    stripped = text.strip()
    return len(stripped) >= 20 and len(_LETTERS.findall(stripped)) >= 0.6 * len(stripped)


def gcide_articles(path: Path) -> Iterator[Article]:
    """One article per headword: its numbered senses, without notes, synonyms and sources."""
    title = ""
    paragraphs: list[str] = []
    lines: list[str] = []

    def entry() -> Iterator[Article]:
        flush_paragraph()
        if title and paragraphs and not title.startswith("00-database"):  # the file's own header
            yield Article(id=f"gcide:{title}", title=title, body="\n\n".join(paragraphs))

    def flush_paragraph() -> None:
        text = " ".join(lines)
        if _prose(text):
            paragraphs.append(text)
        lines.clear()

    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:  # dictzip is gzip
        for line in handle:
            if line[:1].strip():  # "Abandon \A*ban"don\, v. t." starts an entry
                yield from entry()
                title, paragraphs = line.split("\\", 1)[0].strip(), []
            elif not line.strip() or _GCIDE_NOTE.match(line):
                flush_paragraph()
            else:
                lines.append(re.sub(r"^\s*\d+\.\s*", "", line.strip()))
        yield from entry()


def wordnet_articles(folder: Path) -> Iterator[Article]:
    """One article per synset: its words as the title, its gloss (definition; examples) as the body."""
    for part in ("noun", "verb", "adj", "adv"):
        path = folder / f"data.{part}"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("  ") or " | " not in line:  # the licence at the top
                continue
            fields, gloss = line.split(" | ", 1)
            words = fields.split()
            count = int(words[3], 16)
            title = ", ".join(w.replace("_", " ") for w in words[4 : 4 + 2 * count : 2])
            body = ". ".join(piece.strip().strip('"') for piece in gloss.split(";") if piece.strip())
            if _prose(body):
                yield Article(id=f"wordnet:{words[0]}{part[0]}", title=title, body=body)


def rst_to_markdown(text: str) -> tuple[str, str]:
    """(title, body) of a reStructuredText page: prose paragraphs and `## ` headings only."""
    lines = text.splitlines()
    title, in_literal = "", False
    blocks: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        joined = " ".join(paragraph)
        for pattern, repl in ((_RST_ROLE, r"\1"), (_RST_LINK, r"\1"), (_RST_MARKUP, "")):
            joined = pattern.sub(repl, joined)
        if _prose(joined):
            blocks.append(joined.strip())
        paragraph.clear()

    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if in_literal:  # an indented block after "::" is code
            if line.strip() and not line[:1].isspace():
                in_literal = False
            else:
                continue
        if _RST_UNDERLINE.match(line):
            continue
        if line.strip() and _RST_UNDERLINE.match(following) and len(following.strip()) >= len(line.strip()):
            flush()
            heading = _RST_ROLE.sub(r"\1", line.strip())
            title = title or heading
            blocks.append(f"## {heading}")
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(("..", ">>>", "+-", "+=", ":")):
            flush()
            continue
        paragraph.append(stripped)
        if stripped.endswith("::"):
            paragraph[-1] = stripped[:-1]
            flush()
            in_literal = True
    flush()
    return title, "\n\n".join(blocks)


def rst_articles(folder: Path, prefix: str) -> Iterator[Article]:
    """One article per page of Sphinx reST sources (`_sources/*.txt`), or AsciiDoc close enough to it."""
    for path in sorted(folder.rglob("*.txt")):
        title, body = rst_to_markdown(path.read_text(encoding="utf-8", errors="replace"))
        if body.strip():
            yield Article(id=f"{prefix}:{path.relative_to(folder)}", title=title or path.stem, body=body)


def fortune_articles(folder: Path) -> Iterator[Article]:
    """Each fortune (between lines of "%") of the English files, without their attribution lines."""
    for path in sorted(folder.glob("*")):
        if path.suffix or not path.is_file() or path.is_symlink():
            continue  # .dat indexes and .u8 copies
        text = path.read_bytes().decode("utf-8", errors="replace")
        text = re.sub(r".\x08", "", text)  # overstruck letters
        for number, fortune in enumerate(re.split(r"^%$", text, flags=re.MULTILINE)):
            lines = [line.strip() for line in fortune.splitlines() if not line.strip().startswith("--")]
            body = " ".join(line for line in lines if line)
            if _prose(body):
                yield Article(id=f"fortunes:{path.name}:{number}", title="", body=body)


class _HtmlProse(HTMLParser):
    """Text of a page's paragraphs, list items and definitions; headings become `## ` lines."""

    BLOCKS = frozenset({"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "td"})
    SKIPPED = frozenset({"pre", "script", "style", "nav", "header", "footer"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.blocks: list[str] = []
        self._text: list[str] = []
        self._open: list[str] = []  # the block tags whose text is being collected
        self._skipping = 0
        self._in_title = False
        self._javadoc_depth = 0  # nesting inside a Javadoc description, <div class="block">
        self._summary_depth = 0  # nesting inside a Javadoc summary: first sentences of the details

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "section" and (self._summary_depth or "summary" in (dict(attrs).get("class") or "").split()):
            self._summary_depth += 1
        elif tag == "div" and self._javadoc_depth:
            self._javadoc_depth += 1
        elif tag == "div" and ("class", "block") in attrs:
            self._flush()
            self._open.append("p")
            self._javadoc_depth = 1
        elif tag in self.SKIPPED:
            self._skipping += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCKS:
            self._flush()
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._summary_depth:
            self._summary_depth -= 1
        elif tag == "div" and self._javadoc_depth:
            self._javadoc_depth -= 1
            if not self._javadoc_depth:
                self._flush()
        elif tag in self.SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._open and not self._skipping and not self._summary_depth:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join(" ".join(self._text).split())
        tag = self._open.pop() if self._open else "p"
        if tag.startswith("h") and text:
            self.blocks.append(f"## {text.strip('#¶ ')}")
        elif _prose(text):
            self.blocks.append(text)
        self._text.clear()


def html_articles(folder: Path, prefix: str, *, under: tuple[str, ...] = ()) -> Iterator[Article]:
    """One article per page (of the given subfolders, if any), minus search and index pages."""
    folders = [folder / name for name in under] if under else [folder]
    for top in folders:
        for path in sorted(top.rglob("*.html")):
            if path.name in {"search.html", "genindex.html", "py-modindex.html", "print.html", "toc.html"}:
                continue
            if {"_modules", "class-use", "index-files"} & set(path.parts):  # source code, Javadoc's lists
                continue
            if path.name.endswith(("-index.html", "-tree.html", "package-use.html", "package-summary.html")):
                continue
            parser = _HtmlProse()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            parser.close()
            body = "\n\n".join(parser.blocks)
            if any(not block.startswith("## ") for block in parser.blocks):
                title = " ".join(parser.title.split()) or path.stem
                yield Article(id=f"{prefix}:{path.relative_to(folder)}", title=title, body=body)


def pod_articles(folder: Path) -> Iterator[Article]:
    """Perl's manual pages in POD: text paragraphs, `=head` headings; commands and code dropped."""
    for path in sorted(folder.glob("*.pod")):
        blocks: list[str] = []
        title = path.stem
        for paragraph in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
            if paragraph[:1].isspace():  # verbatim: code
                continue
            if paragraph.startswith("=head"):
                blocks.append("## " + paragraph.split(None, 1)[-1].strip())
            elif not paragraph.startswith("="):
                text = re.sub(r"[A-Z]<+\s*([^<>]*?)\s*>+", r"\1", " ".join(paragraph.split()))
                if _prose(text):
                    blocks.append(text)
        if blocks:
            yield Article(id=f"perl-docs:{path.name}", title=title, body="\n\n".join(blocks))


_ROFF_ESCAPES = (
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), ""),  # strings
    (re.compile(r"\\\((em|en)"), "-"),
    (re.compile(r"\\\((lq|rq|dq)"), '"'),
    (re.compile(r"\\\((aq|oq|cq)"), "'"),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), ""),  # other special characters
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\[&|^%c]"), ""),
    (re.compile(r"\\ "), " "),
)
_ROFF_BREAKS = {".PP", ".P", ".LP", ".TP", ".IP", ".sp", ".br", ".HP", ".RS", ".RE", ".Pp"}
_ROFF_TEXT_MACROS = {".B", ".I", ".BR", ".RB", ".BI", ".IB", ".IR", ".RI", ".SM"}


def _roff_text(line: str) -> str:
    for pattern, repl in _ROFF_ESCAPES:
        line = pattern.sub(repl, line)
    return line.replace("\\", "").strip()


def man_page_blocks(source: str) -> list[str]:
    """A roff manual page's text paragraphs and `## ` headings; comments and examples dropped."""
    blocks: list[str] = []
    lines: list[str] = []
    no_fill = False

    def flush() -> None:
        text = " ".join(lines)
        if _prose(text):
            blocks.append(text)
        lines.clear()

    for raw in source.splitlines():
        macro, _, rest = raw.partition(" ")
        if macro in {".nf", ".EX"}:  # no-fill: examples and synopses
            flush()
            no_fill = True
        elif macro in {".fi", ".EE"}:
            no_fill = False
        elif no_fill or raw.startswith(('.\\"', "'\\\"")):
            continue
        elif macro in {".SH", ".SS", ".Sh", ".Ss"}:
            flush()
            blocks.append("## " + _roff_text(rest.strip('"')))
        elif macro in _ROFF_TEXT_MACROS:
            lines.append(_roff_text(rest.replace('"', "")))
        elif macro in _ROFF_BREAKS or not raw.strip() or raw.startswith((".", "'")):
            flush()
        else:
            lines.append(_roff_text(raw))
    flush()
    return blocks


def man_articles(folder: Path) -> Iterator[Article]:
    """English manual pages (man1-man8), one article each."""
    for path in sorted(folder.glob("man[1-8]/*.gz")):
        if path.name.startswith("gcloud"):
            # The Google Cloud CLI's 16,000 generated pages of one tool's flags, near-copies of
            # each other, installed on this machine kind from outside Debian.
            continue
        try:
            source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        if source.lstrip().startswith(".so "):  # a page that only points at another
            continue
        blocks = man_page_blocks(source)
        if any(not block.startswith("## ") for block in blocks):
            name = path.name.removesuffix(".gz")
            yield Article(id=f"man-pages:{name}", title=name, body="\n\n".join(blocks))


def debian_doc_articles(sources: dict[str, Path] | None = None) -> Iterator[Article]:
    """Every article of every installed source, in a fixed order."""
    sources = DEBIAN_DOCS if sources is None else sources
    readers = {
        "gcide": gcide_articles,
        "wordnet": wordnet_articles,
        "python-docs": lambda path: rst_articles(path, "python-docs"),
        "kernel-docs": lambda path: rst_articles(path, "kernel-docs"),
        "fortunes": fortune_articles,
        "perl-docs": pod_articles,
        "git-docs": lambda path: rst_articles(path, "git-docs"),  # AsciiDoc, close enough to reST here
        "postgresql-docs": lambda path: html_articles(path, "postgresql-docs"),
        "django-docs": lambda path: html_articles(path, "django-docs"),
        "rust-books": lambda path: html_articles(path, "rust-books", under=RUST_BOOKS),
        "java-api": lambda path: html_articles(path, "java-api"),
        "man-pages": man_articles,
    }
    for name, path in sources.items():
        if path.exists():
            yield from readers[name](path)


def debian_doc_passages(
    limit: int, *, sources: dict[str, Path] | None = None, max_words: int = DEFAULT_MAX_WORDS
) -> tuple[list[str], dict[str, int]]:
    """Up to `limit` distinct passages as the KB embeds them (title, section, text), and how many
    came from each source."""
    passages: dict[str, str] = {}  # passage -> its source, in the order found
    for article in debian_doc_articles(sources):
        source = article.id.split(":", 1)[0]
        for chunk in chunk_article(article, max_words=max_words):
            passages.setdefault(chunk.embedding_text(article.title).lstrip(". "), source)
        if len(passages) >= limit:
            break
    kept = list(passages.items())[:limit]
    counts: dict[str, int] = {}
    for _, source in kept:
        counts[source] = counts.get(source, 0) + 1
    return [text for text, _ in kept], counts
