"""Read knowledge-base sources into articles.

A source folder may hold Markdown articles with YAML front matter, FAQ files (`.csv` or
`.jsonl`, one question and answer per row) and `.html` pages. A broken file never stops
the build: it becomes an `IngestProblem` naming the file, and the rest is still read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

__all__ = ["FRONT_MATTER", "SUPPORTED_SUFFIXES", "Article", "IngestProblem", "load_articles"]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".csv", ".jsonl", ".html", ".htm")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Article:
    """One answerable unit of the KB: an article, or one question of a FAQ file."""

    id: str
    title: str
    body: str  # Markdown; `## ` headings start sections
    url: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""
    # How customers ask for this article (front matter `questions:`), written by whoever
    # writes the article; `kb adapt` learns from them. Never shown to a customer.
    questions: tuple[str, ...] = ()
    # Questions customers ask near this article that the help centre does not answer (front
    # matter `not_answered:`): the search is less sure of a question close to one of them.
    # Not in the content hash: adding one re-embeds only it, not the article.
    not_answered: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that goes into the index or the adaptation changes."""
        fields: list[object] = [self.id, self.title, self.url, self.body]
        if self.questions:  # so that articles without questions keep the hashes they had
            fields.append(list(self.questions))
        payload = json.dumps(fields, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class IngestProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class _Collected:
    articles: list[Article] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)


def load_articles(source_dir: Path) -> tuple[list[Article], list[IngestProblem]]:
    """Read every supported file under `source_dir` (recursively, in name order).

    Returns the articles and the problems found; a duplicate id keeps the first article
    and reports the later file.
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise FileNotFoundError(f"KB source folder not found: {source_dir}")
    collected = _Collected()
    seen: dict[str, str] = {}
    for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        shown = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            collected.problems.append(IngestProblem(shown, f"not UTF-8 text (byte {exc.start}); save it as UTF-8"))
            continue
        if not text.strip():
            collected.problems.append(IngestProblem(shown, "empty file"))
            continue
        try:
            articles = _parse(path, text)
        except ValueError as exc:
            collected.problems.append(IngestProblem(shown, str(exc)))
            continue
        for article in articles:
            if article.id in seen:
                collected.problems.append(
                    IngestProblem(shown, f"duplicate id '{article.id}' (first in {seen[article.id]}); skipped")
                )
                continue
            seen[article.id] = shown
            collected.articles.append(article)
    return collected.articles, collected.problems


def _parse(path: Path, text: str) -> list[Article]:
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return [_parse_markdown(path, text)]
    if suffix == ".csv":
        return _parse_faq_rows(path, _csv_rows(text))
    if suffix == ".jsonl":
        return _parse_faq_rows(path, _jsonl_rows(text))
    return [_parse_html(path, text)]


def _parse_markdown(path: Path, text: str) -> Article:
    match = FRONT_MATTER.match(text)
    meta: dict = {}
    body = text
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise ValueError(f"broken front matter: {_first_line(exc)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError("broken front matter: expected 'key: value' lines")
        meta = loaded or {}
        body = text[match.end() :]
    elif text.lstrip().startswith("---"):
        raise ValueError("broken front matter: no closing '---' line")
    body = body.strip()
    title = str(meta.get("title") or _first_heading(body) or "").strip()
    if not title:
        raise ValueError("no title: add 'title:' to the front matter or a '# ' heading")
    body = _drop_title_heading(body, title)
    if not body:
        raise ValueError("the article has a title but no text")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return Article(
        id=str(meta.get("id") or path.stem),
        title=title,
        body=body,
        url=str(meta.get("url") or ""),
        tags=tuple(str(t) for t in tags),
        source=str(path),
        questions=_questions(meta.get("questions"), "questions"),
        not_answered=_questions(meta.get("not_answered"), "not_answered"),
    )


def _questions(value: object, key: str) -> tuple[str, ...]:
    """Front matter `questions:` or `not_answered:`, a list of strings (one string is one question)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(q, (str, int, float)) for q in value):
        raise ValueError(f"broken front matter: '{key}' must be a list of questions, one per line")
    return tuple(str(q).strip() for q in value if str(q).strip())


def _csv_rows(text: str) -> list[dict]:
    try:
        return list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValueError(f"broken CSV: {exc}") from None


def _jsonl_rows(text: str) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {number} is not a JSON object")
        rows.append(row)
    return rows


def _parse_faq_rows(path: Path, rows: list[dict]) -> list[Article]:
    """One article per row; the row's own `id` (or `faq_id`) wins over `<file>-<row>`."""
    if not rows:
        raise ValueError("no rows")
    if "question" not in rows[0] or not ({"answer", "answers"} & rows[0].keys()):
        raise ValueError(f"needs 'question' and 'answer' columns, found {sorted(rows[0].keys())}")
    articles = []
    for number, row in enumerate(rows, start=1):
        question = str(row.get("question") or "").strip()
        answer = row.get("answer") if "answer" in row else row.get("answers")
        if isinstance(answer, list):
            answer = "\n\n".join(str(a).strip() for a in answer if str(a).strip())
        answer = str(answer or "").strip()
        if not question or not answer:
            raise ValueError(f"row {number} has an empty question or answer")
        row_id = row.get("id", row.get("faq_id"))
        articles.append(
            Article(
                id=str(row_id) if row_id not in (None, "") else f"{path.stem}-{number}",
                title=question,
                body=answer,
                url=str(row.get("url") or ""),
                tags=tuple(t for t in str(row.get("tags") or "").split(",") if t),
                source=str(path),
            )
        )
    return articles


def _parse_html(path: Path, text: str) -> Article:
    soup = BeautifulSoup(text, "html.parser")
    for hidden in soup(["script", "style", "nav", "footer"]):
        hidden.decompose()

    def meta(name: str) -> str:
        tag = soup.find("meta", attrs={"name": name})
        return str(tag.get("content", "")).strip() if tag else ""

    h1 = soup.find("h1")
    title = (soup.title.get_text(strip=True) if soup.title else "") or (h1.get_text(strip=True) if h1 else "")
    if not title:
        raise ValueError("no title: add a <title> or an <h1>")
    lines = []
    for element in soup.find_all(["h2", "h3", "p", "li"]):
        words = element.get_text(" ", strip=True)
        if not words:
            continue
        lines.append(f"## {words}" if element.name in ("h2", "h3") else words)
    body = "\n\n".join(lines)
    if not body:
        raise ValueError("no text in <p>, <li> or <h2> elements")
    return Article(id=meta("kb-id") or path.stem, title=title, body=body, url=meta("kb-url"), source=str(path))


def _first_heading(body: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    return match.group(1) if match else None


def _drop_title_heading(body: str, title: str) -> str:
    lines = body.splitlines()
    if lines and lines[0].startswith("# ") and lines[0][2:].strip() == title:
        return "\n".join(lines[1:]).strip()
    return body


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
