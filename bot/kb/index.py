"""Build, save and load the KB index: chunk metadata, their vectors and a FAISS index.

Files in the index folder:
  meta.json      model name, chunker settings, articles (with content hashes) and chunks
  vectors.npy    one L2-normalised float32 row per chunk (reused by incremental rebuilds)
  index.faiss    the FAISS index over those rows (its type chosen by size: `index_kind`)
  questions.npy  one row per example question: each article's title, then the questions
                 of its front matter, article after article (`example_questions`)
  questions.faiss  the FAISS index over those rows
  not_answered.npy  one row per question the help centre does not answer (front matter
                 `not_answered:`), article after article (`not_answered_questions`)

A rebuild re-embeds only articles whose content hash changed, and only the not-answered
questions it has not embedded before; an unchanged KB never even loads the embedding model.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bot.kb.chunking import CHUNKER_VERSION, MAX_CHUNK_WORDS, Chunk, chunk_article
from bot.kb.documents import IngestProblem, load_articles
from bot.kb.embedding import Embedder

__all__ = [
    "ArticleMeta",
    "BuildReport",
    "IndexKind",
    "KBIndex",
    "build_index",
    "example_questions",
    "index_kind",
    "load_index",
    "make_faiss_index",
    "not_answered_questions",
    "question_slices",
]

# 2: example questions (questions.npy, questions.faiss); a format-1 index is rebuilt whole.
FORMAT_VERSION = 2
IndexKind = Literal["flat", "hnsw", "ivf"]
# Measured on 2 cores with 384-dim vectors (docs/benchmarks.md, "Speed and scale"): exact search
# costs tens of ms per query at 100k chunks, so HNSW from 50k. IVF ("ivf", never chosen by size)
# builds fastest but lost recall on topic-clustered vectors: 0.42 recall@10 at 1M.
HNSW_MIN_CHUNKS = 50_000
# At 1M chunks shaped like real MiniLM embeddings, M=32 / efConstruction 128 reached recall@10
# 0.989 at efSearch 128 (p95 under 1 ms) where M=16 / 64 stopped at 0.81, for 1.4x the build
# time (about 9 min on 2 busy cores); docs/benchmarks.md, "KB scale".
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 128
HNSW_EF_SEARCH = 128
# IVF: about 2 * sqrt(n) lists, each centroid trained on IVF_TRAIN_PER_LIST sampled vectors.
IVF_LISTS_PER_SQRT_N = 2
IVF_TRAIN_PER_LIST = 40
IVF_NPROBE = 128


@dataclass(frozen=True)
class ArticleMeta:
    id: str
    title: str
    url: str
    tags: tuple[str, ...]
    source: str
    content_hash: str
    questions: tuple[str, ...] = ()  # the front matter's example questions
    not_answered: tuple[str, ...] = ()  # the front matter's questions the help centre does not answer


def example_questions(article: ArticleMeta) -> list[str]:
    """How customers ask for the article: its title (every article has one, so an article
    without written questions still takes part) and the questions its writer added."""
    return [article.title, *article.questions]


def not_answered_questions(articles: Iterable[ArticleMeta]) -> list[str]:
    """The rows of not_answered.npy: every article's `not_answered`, article after article."""
    return [question for article in articles for question in article.not_answered]


def question_slices(articles: Iterable[ArticleMeta]) -> Iterator[tuple[ArticleMeta, slice]]:
    """Each article with its rows in the example questions' vectors (article after article)."""
    row = 0
    for meta in articles:
        count = len(example_questions(meta))
        yield meta, slice(row, row + count)
        row += count


@dataclass
class KBIndex:
    """A loaded index: articles, chunks (row i of `vectors` is chunk i) and the FAISS index;
    the example questions' vectors, article after article in `articles`' order, and theirs.

    Without question vectors (an index made in memory, as the benchmarks do) the articles
    have none, and the search scores passages only.
    """

    model_name: str
    articles: dict[str, ArticleMeta]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: Any
    settings: dict[str, Any] = field(default_factory=dict)
    question_vectors: np.ndarray | None = None
    question_faiss_index: Any = None
    # One row per question the help centre does not answer (None or no rows: the KB has none).
    not_answered_vectors: np.ndarray | None = None

    def chunk_texts(self) -> list[str]:
        return [c.embedding_text(self.articles[c.article_id].title) for c in self.chunks]

    def example_question_vectors(self) -> dict[str, list[tuple[str, np.ndarray]]]:
        """Each article's example questions with their vectors, by article id (none without)."""
        if self.question_vectors is None:
            return {}
        return {
            meta.id: list(zip(example_questions(meta), self.question_vectors[rows], strict=True))
            for meta, rows in question_slices(self.articles.values())
        }


@dataclass
class BuildReport:
    articles: int = 0
    chunks: int = 0
    questions: int = 0  # example questions written in the articles (titles not counted)
    reused_articles: int = 0
    embedded_articles: int = 0
    removed_articles: int = 0
    not_answered: int = 0  # questions the help centre does not answer, in all articles
    not_answered_changed: bool = False  # added, removed or reworded since the last build
    problems: list[IngestProblem] = field(default_factory=list)
    content_hashes: dict[str, str] = field(default_factory=dict)  # by article id, as read

    @property
    def changed(self) -> bool:
        return bool(self.embedded_articles or self.removed_articles or self.not_answered_changed)


def index_kind(size: int) -> IndexKind:
    """Exact search while it is fast enough, HNSW above (see HNSW_MIN_CHUNKS)."""
    return "flat" if size < HNSW_MIN_CHUNKS else "hnsw"


def make_faiss_index(vectors: np.ndarray, *, kind: IndexKind | None = None) -> Any:
    """Inner product on normalised vectors = cosine; the index type is chosen by size unless given."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    size, dimension = vectors.shape
    kind = kind or index_kind(size)
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind == "ivf":
        lists = max(1, min(size // IVF_TRAIN_PER_LIST, int(IVF_LISTS_PER_SQRT_N * np.sqrt(size))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        # A fixed seed: the same vectors always give the same index.
        sample = np.random.default_rng(0).choice(size, min(size, lists * IVF_TRAIN_PER_LIST), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(IVF_NPROBE, lists)
    else:
        raise ValueError(f"unknown index kind '{kind}': use flat, hnsw or ivf")
    if size:
        index.add(vectors)
    return index


def build_index(
    source_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    pipeline: str = "blank:en",
    show_progress: bool = True,
) -> BuildReport:
    """(Re)build the index in `index_dir` from the files in `source_dir`.

    One build at a time per index folder: the console's background rebuild and a `make index`
    started together take turns (a lock on the folder) instead of mixing their files, and
    the second reads the articles as the first left them.

    Raises:
        ValueError: when no article at all could be read.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(index_dir, os.O_RDONLY)  # a lock on the folder itself: no lock file in it
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # released on close, or when the process dies
        return _build(source_dir, index_dir, embedder, pipeline=pipeline, show_progress=show_progress)
    finally:
        os.close(folder)


def _build(source_dir: Path, index_dir: Path, embedder: Embedder, *, pipeline: str, show_progress: bool) -> BuildReport:
    articles, problems = load_articles(source_dir)
    report = BuildReport(
        articles=len(articles), problems=problems, content_hashes={a.id: a.content_hash for a in articles}
    )
    if not articles:
        raise ValueError(f"no article could be read from {source_dir}" + "".join(f"\n  {p}" for p in problems))
    settings = {"pipeline": pipeline, "max_chunk_words": MAX_CHUNK_WORDS, "chunker": CHUNKER_VERSION}
    previous_meta = _compatible_meta(index_dir, embedder.name, settings)
    previous = _load_previous(index_dir, previous_meta) if previous_meta else None

    metas = {
        a.id: ArticleMeta(a.id, a.title, a.url, a.tags, a.source, a.content_hash, a.questions, a.not_answered)
        for a in articles
    }
    chunk_rows: list[tuple[Chunk, np.ndarray | None]] = []
    question_rows: list[tuple[str, np.ndarray | None]] = []
    to_embed: list[int] = []
    questions_to_embed: list[int] = []
    for article in articles:
        reused = previous.get(article.id) if previous else None
        if reused and reused[0] == article.content_hash:
            report.reused_articles += 1
            chunk_rows.extend(reused[1])
            question_rows.extend(reused[2])
            continue
        report.embedded_articles += 1
        for chunk in chunk_article(article, pipeline=pipeline):
            to_embed.append(len(chunk_rows))
            chunk_rows.append((chunk, None))
        for question in example_questions(metas[article.id]):
            questions_to_embed.append(len(question_rows))
            question_rows.append((question, None))
    if previous:
        report.removed_articles = len(set(previous) - {a.id for a in articles})

    # Not-answered questions are reused by their text, whichever article holds them now.
    before = _previous_not_answered(index_dir, previous_meta) if previous and previous_meta else []
    known_not_answered = dict(before)
    not_answered_rows: list[tuple[str, np.ndarray | None]] = [
        (question, known_not_answered.get(question)) for question in not_answered_questions(metas.values())
    ]
    not_answered_to_embed = [i for i, (_, vector) in enumerate(not_answered_rows) if vector is None]
    report.not_answered = len(not_answered_rows)
    report.not_answered_changed = [q for q, _ in before] != [q for q, _ in not_answered_rows]

    titles = {a.id: a.title for a in articles}
    texts = [chunk_rows[i][0].embedding_text(titles[chunk_rows[i][0].article_id]) for i in to_embed]
    questions = [question_rows[i][0] for i in questions_to_embed]
    if texts or questions or not_answered_to_embed:  # an unchanged KB never loads the model
        print(
            f"Embedding {len(texts)} passages from {report.embedded_articles} articles and "
            f"{len(not_answered_to_embed)} new not-answered questions...",
            file=sys.stderr,
        )
        new_vectors = embedder.embed(
            texts + questions + [not_answered_rows[i][0] for i in not_answered_to_embed], show_progress=show_progress
        )
        for row, vector in zip(to_embed, new_vectors[: len(texts)], strict=True):
            chunk_rows[row] = (chunk_rows[row][0], vector)
        for row, vector in zip(questions_to_embed, new_vectors[len(texts) : len(texts) + len(questions)], strict=True):
            question_rows[row] = (question_rows[row][0], vector)
        for row, vector in zip(not_answered_to_embed, new_vectors[len(texts) + len(questions) :], strict=True):
            not_answered_rows[row] = (not_answered_rows[row][0], vector)

    chunks = [chunk for chunk, _ in chunk_rows]
    report.chunks = len(chunks)
    report.questions = sum(len(a.questions) for a in articles)
    vectors = _stack(chunk_rows)
    _save(
        Path(index_dir),
        embedder.name,
        settings,
        metas,
        chunks,
        vectors,
        _stack(question_rows),
        _stack(not_answered_rows, dimension=vectors.shape[1]),
    )
    return report


def _stack(rows: list[tuple[Any, np.ndarray | None]], *, dimension: int = 1) -> np.ndarray:
    vectors = [v for _, v in rows if v is not None]
    assert len(vectors) == len(rows)  # reused rows came with theirs, `build_index` embedded the rest
    return np.vstack(vectors).astype(np.float32) if rows else np.zeros((0, dimension), np.float32)


def load_index(index_dir: Path) -> KBIndex:
    """Load an index written by `build_index`.

    Raises:
        FileNotFoundError: with the command that builds one.
        ValueError: for an index of an older format, or whose files are of different builds.
    """
    import faiss

    index_dir = Path(index_dir)
    meta_path = index_dir / "meta.json"
    if not meta_path.exists():
        raise FileNotFoundError(
            f"no KB index in {index_dir}; build it with: python -m bot kb build --source data/kb --index {index_dir}"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"the KB index in {index_dir} was built by an older version; rebuild it with: "
            f"python -m bot kb build --index {index_dir}"
        )
    articles = {a["id"]: _article_meta(a) for a in meta["articles"]}
    chunks = [Chunk(**c) for c in meta["chunks"]]
    vectors = np.load(index_dir / "vectors.npy")
    faiss_index = faiss.read_index(str(index_dir / "index.faiss"))
    question_vectors = np.load(index_dir / "questions.npy")
    question_faiss_index = faiss.read_index(str(index_dir / "questions.faiss"))
    questions = sum(len(example_questions(a)) for a in articles.values())
    not_answered = len(not_answered_questions(articles.values()))
    # An index built before not-answered questions existed has no file for them.
    not_answered_path = index_dir / "not_answered.npy"
    not_answered_vectors = np.load(not_answered_path) if not_answered_path.exists() else None
    if not (
        len(chunks) == len(vectors) == faiss_index.ntotal
        and questions == len(question_vectors) == question_faiss_index.ntotal
        and not_answered == (0 if not_answered_vectors is None else len(not_answered_vectors))
    ):
        # Read while a build was swapping its files in: some are of the next build.
        raise ValueError(
            f"the KB index files in {index_dir} do not belong together (was a build writing them?); "
            f"build it again with: python -m bot kb build --index {index_dir}"
        )
    return KBIndex(
        meta["model"],
        articles,
        chunks,
        vectors,
        faiss_index,
        meta.get("settings", {}),
        question_vectors,
        question_faiss_index,
        not_answered_vectors,
    )


Reusable = dict[str, tuple[str, list[tuple[Chunk, np.ndarray]], list[tuple[str, np.ndarray]]]]


def _compatible_meta(index_dir: Path, model_name: str, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The old index's meta.json when its vectors can be reused (same format, model and
    chunker settings), else None."""
    try:
        meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none, or unreadable: rebuild everything
    same = meta.get("format") == FORMAT_VERSION and meta.get("model") == model_name and meta.get("settings") == settings
    return meta if same else None


def _load_previous(index_dir: Path, meta: dict[str, Any]) -> Reusable | None:
    """Previous chunks and example questions with their vectors, by article id."""
    try:
        vectors = np.load(index_dir / "vectors.npy")
        question_vectors = np.load(index_dir / "questions.npy")
    except (OSError, ValueError):
        return None  # unreadable: rebuild everything
    by_article: Reusable = {
        article.id: (
            article.content_hash,
            [],
            list(zip(example_questions(article), question_vectors[rows], strict=True)),
        )
        for article, rows in question_slices(_article_meta(a) for a in meta["articles"])
    }
    for row, chunk in enumerate(meta["chunks"]):
        by_article[chunk["article_id"]][1].append((Chunk(**chunk), vectors[row]))
    return by_article


def _previous_not_answered(index_dir: Path, meta: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """The old index's not-answered questions with their vectors, in its row order (empty when
    it has none, or they cannot be read)."""
    try:
        texts = not_answered_questions(_article_meta(a) for a in meta["articles"])
        if not texts:
            return []
        vectors = np.load(index_dir / "not_answered.npy")
    except (OSError, ValueError, KeyError):
        return []
    return list(zip(texts, vectors, strict=True)) if len(texts) == len(vectors) else []


def _article_meta(stored: dict[str, Any]) -> ArticleMeta:
    """An article's metadata as meta.json stores it (lists for its tuples)."""
    return ArticleMeta(
        **{
            **stored,
            "tags": tuple(stored["tags"]),
            "questions": tuple(stored["questions"]),
            "not_answered": tuple(stored.get("not_answered", ())),
        }
    )


def _save(
    index_dir: Path,
    model_name: str,
    settings: dict[str, Any],
    articles: dict[str, ArticleMeta],
    chunks: list[Chunk],
    vectors: np.ndarray,
    question_vectors: np.ndarray,
    not_answered_vectors: np.ndarray,
) -> None:
    """Write to a temporary folder, then swap files in: a crash never leaves half an index."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT_VERSION,
        "model": model_name,
        "settings": settings,
        "articles": [asdict(a) for a in articles.values()],
        "chunks": [asdict(c) for c in chunks],
    }
    with tempfile.TemporaryDirectory(dir=index_dir) as tmp:
        tmp_dir = Path(tmp)
        np.save(tmp_dir / "vectors.npy", vectors)
        faiss.write_index(make_faiss_index(vectors), str(tmp_dir / "index.faiss"))
        np.save(tmp_dir / "questions.npy", question_vectors)
        faiss.write_index(make_faiss_index(question_vectors), str(tmp_dir / "questions.faiss"))
        np.save(tmp_dir / "not_answered.npy", not_answered_vectors)
        (tmp_dir / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        # meta.json last: a reader never sees new metadata with old vectors.
        for name in ("vectors.npy", "index.faiss", "questions.npy", "questions.faiss", "not_answered.npy", "meta.json"):
            os.replace(tmp_dir / name, index_dir / name)
    shutil.rmtree(index_dir / "__pycache__", ignore_errors=True)
