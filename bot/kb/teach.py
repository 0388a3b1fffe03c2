"""Teach the help centre a customer's question by adding it to an article's front matter.

The console's Help centre page lists the questions the bot could not answer. An admin who
knows the article that answers one adds it to that article's `questions:` (the search then
finds the article for questions phrased like it); a question the help centre does not answer
goes to the closest article's `not_answered:` (the search is less confident near those).

The articles are hand-written Markdown files, so the edit is made in the text, not by loading
and dumping the YAML (which would reorder keys, drop comments and rewrap lines): one line is
added and every other byte is kept. The result is parsed again and checked before the file is
replaced, atomically; anything unexpected leaves the file as it was and asks for a hand edit.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from bot.kb.documents import FRONT_MATTER, load_articles

__all__ = ["KEYS", "FrontMatterKey", "Taught", "TeachError", "add_front_matter_question"]

FrontMatterKey = Literal["questions", "not_answered"]
KEYS: tuple[FrontMatterKey, ...] = ("questions", "not_answered")
MARKDOWN_SUFFIXES = (".md", ".markdown")

# One edit at a time: two admins adding to the same article at once would otherwise both read
# the old text and one question would be lost. The thread lock covers this process, the lock
# on the source folder itself other processes (several helpdesks on one shared folder).
_editing = threading.Lock()


class TeachError(ValueError):
    """Why a question could not be added, in a sentence for the admin."""


@dataclass(frozen=True)
class Taught:
    path: Path
    added: bool  # False: the question was already in the list; the file is unchanged


def add_front_matter_question(source_dir: Path, article_id: str, question: str, key: FrontMatterKey) -> Taught:
    """Add `question` to the front matter list `key` of the Markdown article `article_id`.

    Whitespace in the question is collapsed; a question already in the list (ignoring case and
    whitespace) is not added again (`Taught.added` is False).

    Raises:
        TeachError: the question is empty, no Markdown article has that id, or its front matter
            cannot be edited safely; the message says what to do. The file is then unchanged.
    """
    if key not in KEYS:
        raise ValueError(f"unknown front matter key '{key}': use one of {', '.join(KEYS)}")
    question = " ".join(question.split())
    if not question:
        raise TeachError("The question is empty: there is nothing to add.")
    with _editing, _folder_lock(Path(source_dir)):
        path, text = _find_markdown(Path(source_dir), article_id)
        meta = _front_matter(path, text)
        old = meta.get(key)
        if old is not None and not isinstance(old, list):
            raise TeachError(f"'{key}:' in {path.name} is not a list of questions; edit it by hand.")
        old = old or []
        if _same(question) in {_same(str(q)) for q in old}:
            return Taught(path, added=False)
        new_text = _with_item(path, text, key, question)
        _check(path, new_text, meta, key, [*old, question])
        _replace(path, new_text)
        return Taught(path, added=True)


@contextmanager
def _folder_lock(source_dir: Path) -> Iterator[None]:
    if not source_dir.is_dir():
        raise TeachError(f"The help centre's source folder {source_dir} is not here.")
    folder = os.open(source_dir, os.O_RDONLY)  # a lock on the folder: no file is added to it
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock


def _same(question: str) -> str:
    return " ".join(question.split()).casefold()


def _find_markdown(source_dir: Path, article_id: str) -> tuple[Path, str]:
    """The Markdown file whose article id is `article_id`, read as `load_articles` reads it
    (recursively, in name order: the first file with an id wins, as in the index)."""
    if not source_dir.is_dir():
        raise TeachError(f"The help centre's source folder {source_dir} is not here.")
    for path in sorted(p for p in source_dir.rglob("*") if p.is_file() and p.suffix.lower() in MARKDOWN_SUFFIXES):
        try:
            text = path.read_bytes().decode("utf-8")  # bytes: "\r\n" line ends are kept as they are
            meta = _front_matter(path, text)
        except (OSError, UnicodeDecodeError, TeachError):
            continue  # a broken file is not in the index either
        if str(meta.get("id") or path.stem) == article_id:
            return path, text
    # Not a Markdown article: say what it is, so the admin knows why.
    articles, _ = load_articles(source_dir)
    for article in articles:
        if article.id == article_id:
            kind = "an HTML page" if Path(article.source).suffix.lower() in (".html", ".htm") else "a FAQ row"
            raise TeachError(
                f"“{article.title}” is {kind} ({Path(article.source).name}), which has no front matter to "
                "add questions to. Write a Markdown article for it, or add the question to another article."
            )
    raise TeachError(f"No article with the id '{article_id}' in {source_dir}. Was it renamed or removed?")


def _front_matter(path: Path, text: str) -> dict:
    match = FRONT_MATTER.match(text)
    if not match:
        if text.lstrip().startswith("---"):
            raise TeachError(f"The front matter of {path.name} has no closing '---' line; fix it by hand.")
        return {}  # no front matter: the id is the file name, and the key is added with a new one
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        raise TeachError(f"The front matter of {path.name} is broken; fix it by hand.") from None
    if meta is not None and not isinstance(meta, dict):
        raise TeachError(f"The front matter of {path.name} is not 'key: value' lines; fix it by hand.")
    return meta or {}


def _with_item(path: Path, text: str, key: str, question: str) -> str:
    """`text` with `  - "<question>"` after the last item of the block list `key:`, or with the
    key and its one item added just before the front matter's closing `---`."""
    newline = "\r\n" if "\r\n" in text else "\n"
    # JSON's double-quoted string is also a YAML double-quoted scalar: quotes and backslashes escaped.
    value = json.dumps(question, ensure_ascii=False)
    match = FRONT_MATTER.match(text)
    if not match:
        return f"---{newline}{key}:{newline}  - {value}{newline}---{newline}" + text
    block = match.group(1)
    lines = block.splitlines(keepends=True)
    key_line = re.compile(rf"{re.escape(key)}[ \t]*:(?P<rest>.*?)\r?\n?\Z")
    found = next(((i, m) for i, line in enumerate(lines) if (m := key_line.match(line))), None)
    if found is None:
        if key in _front_matter(path, text):
            # e.g. a quoted key ("questions": ...): YAML finds it, this line-by-line edit does not.
            raise TeachError(f"'{key}:' in {path.name} is written in a way this edit does not know; edit it by hand.")
        added = f"{key}:{newline}  - {value}"
        new_block = added if not block.strip() else block + ("" if block.endswith("\n") else newline) + added
    else:
        at, rest = found[0], found[1].group("rest").strip()
        if rest and not rest.startswith("#"):
            # Flow style ("questions: [a, b]") or one question on the key's line.
            raise TeachError(f"'{key}:' in {path.name} is not a list with one question per line; edit it by hand.")
        last, indent = at, "  "
        for i in range(at + 1, len(lines)):
            line = lines[i]
            content = line.strip()
            if line[:1] not in (" ", "\t", "-") and content and not content.startswith("#"):
                break  # the next key: the list ended
            if content and not content.startswith("#"):
                if content.startswith("-") and last == at:
                    indent = line[: len(line) - len(line.lstrip())]  # the first item's indent
                last = i
        after = lines[last]
        if after.endswith("\n"):
            lines.insert(last + 1, f"{indent}- {value}{newline}")
        else:  # the front matter's last line (its line end belongs to the closing "---")
            lines[last] = f"{after}{newline}{indent}- {value}"
        new_block = "".join(lines)
    return text[: match.start(1)] + new_block + text[match.end(1) :]


def _check(path: Path, new_text: str, old_meta: dict, key: str, expected: list) -> None:
    """The edited front matter says exactly what it said, plus the question at the end of the list."""
    try:
        new_meta = _front_matter(path, new_text)
    except TeachError:
        new_meta = None
    ok = (
        new_meta is not None
        and new_meta.get(key) == expected
        and {k: v for k, v in new_meta.items() if k != key} == {k: v for k, v in old_meta.items() if k != key}
    )
    if not ok:
        raise TeachError(f"Could not add the question to {path.name} safely; edit its '{key}:' list by hand.")


def _replace(path: Path, text: str) -> None:
    """Write to a temporary file beside it, then swap it in: a reader (a build) never sees half a file."""
    mode = stat.S_IMODE(path.stat().st_mode)
    # A name no build reads (not .md) while it exists.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; keep the article's own permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
