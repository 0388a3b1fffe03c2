"""Adapt the embedding model to one help centre, from the help centre's own text.

all-MiniLM-L6-v2 learned what sentences mean from general web pairs. A help centre has its
own words (product names, "Protect plan", "doorbell chime") and its questions sound alike,
so the stock model scores a real question about an article only a little above an
unanswerable question about the same product, and the answer threshold has to sit high.

Fine-tuning it on pairs drawn from the knowledge base itself teaches it this help centre:
each passage paired with its article's title, its section's heading, and one of its own
sentences (the "inverse cloze task"), with the other passages in the batch as negatives
(in-batch softmax, as sentence-transformers' MultipleNegativesRankingLoss). Where the writer
of an article listed how customers ask for it (front matter `questions:`), each such question
is paired with the passage of the article that the stock model finds closest: the model then
learns customers' words too. Without them it needs nothing but the articles. Measured on the
demo help centre's test questions (docs/benchmarks.md): right article at the threshold 0.511
-> 0.617 from the articles' own text, -> 0.723 with 24 example questions per article (before
the search itself uses them). On StackFAQ's threads adapting ranked worse (R@1 0.956 ->
0.924), so check it on your own questions (`kb calibrate`, `kb eval`).

The result is a sentence-transformers folder plus `adaptation.json`, whose `name` (the base
model's name and a fingerprint of what it was trained on) is the model's name everywhere
else: the index, the ONNX export and the NLU featurizer's shared vector all check it, so a
re-adapted model can never be mixed with vectors of the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.kb.chunking import chunk_article, load_nlp
from bot.kb.documents import Article, load_articles
from bot.kb.embedding import ADAPTATION_FILE, Embedder, SentenceTransformerEmbedder, model_name

__all__ = ["AdaptReport", "adapt_model", "adaptation_notice", "training_pairs"]

BATCH_SIZE = 32
LEARNING_RATE = 2e-5
EPOCHS = 1
# MultipleNegativesRankingLoss's default: cosines times 20 before the softmax.
SIMILARITY_SCALE = 20.0
MIN_SENTENCE_WORDS = 4
# Below this share of today's articles among those the model was adapted to, `kb build` says so.
MIN_ADAPTED_SHARE = 0.5
TOKENIZER_FILES = ("vocab.txt", "special_tokens_map.json")


@dataclass(frozen=True)
class Pair:
    """A short text and the passage it should find; `article_id` keeps one article per batch."""

    query: str
    passage: str
    article_id: str


@dataclass(frozen=True)
class AdaptReport:
    name: str
    pairs: int
    seconds: float
    out_dir: Path


def training_pairs(
    source_dir: Path, *, pipeline: str = "blank:en", seed: int = 0, embedder: Embedder | None = None
) -> list[Pair]:
    """Title -> passage, section heading -> passage and one sentence -> its passage, for every
    passage of every article the index would hold (the same chunks and embedding texts); and
    each of an article's example questions -> the passage of it that `embedder` (the base
    model) finds closest. Without an embedder the questions are left out."""
    return _pairs_of(_read_articles(source_dir), pipeline=pipeline, seed=seed, embedder=embedder)


def _read_articles(source_dir: Path) -> list[Article]:
    articles, _problems = load_articles(source_dir)  # `kb build` reports the problems
    if not articles:
        raise ValueError(f"no article could be read from {source_dir}")
    return articles


def _pairs_of(articles: list[Article], *, pipeline: str, seed: int, embedder: Embedder | None) -> list[Pair]:
    nlp = load_nlp(pipeline)
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for article in articles:
        chunks = chunk_article(article, pipeline=pipeline)
        passages = [chunk.embedding_text(article.title) for chunk in chunks]
        if embedder is not None and article.questions and passages:
            pairs.extend(_question_pairs(article, passages, embedder))
        for chunk, passage in zip(chunks, passages, strict=True):
            pairs.append(Pair(article.title, passage, article.id))
            if chunk.section and chunk.section != article.title:
                pairs.append(Pair(chunk.section, passage, article.id))
            sentences = [s.text.strip() for s in nlp(chunk.text).sents if len(s.text.split()) >= MIN_SENTENCE_WORDS]
            if len(sentences) >= 2:  # a one-sentence passage would be its own query
                pairs.append(Pair(rng.choice(sentences), passage, article.id))
    return pairs


def _question_pairs(article: Article, passages: list[str], embedder: Embedder) -> list[Pair]:
    """Each example question with the passage that answers it: the one the base model finds
    closest, since the writer of a question names the article, not the passage."""
    questions = list(article.questions)
    similarity = embedder.embed(questions) @ embedder.embed(passages).T
    return [Pair(q, passages[int(similarity[i].argmax())], article.id) for i, q in enumerate(questions)]


def _batches(pairs: list[Pair], rng: random.Random) -> list[list[Pair]]:
    """Shuffled batches with at most one pair per article: the other pairs in a batch are its
    negatives, and a second passage of the same article is no negative for its title."""
    pending = pairs[:]
    rng.shuffle(pending)
    batches: list[list[Pair]] = []
    while pending:
        batch: list[Pair] = []
        seen: set[str] = set()
        rest: list[Pair] = []
        for pair in pending:
            if len(batch) < BATCH_SIZE and pair.article_id not in seen:
                batch.append(pair)
                seen.add(pair.article_id)
            else:
                rest.append(pair)
        batches.append(batch)
        pending = rest
    return batches


def _fingerprint(base_name: str, pairs: list[Pair], epochs: int, seed: int) -> str:
    digest = hashlib.sha256(json.dumps([base_name, epochs, seed, BATCH_SIZE, LEARNING_RATE]).encode())
    for pair in pairs:
        digest.update(f"{pair.query}\x00{pair.passage}\x00".encode())
    return digest.hexdigest()[:10]


def adapt_model(
    source_dir: Path,
    out_dir: Path,
    *,
    base_model_path: str | None = None,
    epochs: int = EPOCHS,
    seed: int = 0,
    pipeline: str = "blank:en",
) -> AdaptReport:
    """Fine-tune the base model on `source_dir`'s own pairs and save it to `out_dir`.

    Written beside and renamed into place, so a crash never leaves half a model where the
    servers look for one.
    """
    import torch

    started = time.perf_counter()
    base = SentenceTransformerEmbedder(base_model_path)
    articles = _read_articles(source_dir)
    pairs = _pairs_of(articles, pipeline=pipeline, seed=seed, embedder=base)
    name = f"{model_name(base.model_path)}-kb-{_fingerprint(model_name(base.model_path), pairs, epochs, seed)}"
    rng = random.Random(seed)
    torch.manual_seed(seed)
    model = base.model
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)

    def encode(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)  # sentence-transformers 6's name for tokenize
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    print(f"Adapting {base.name} to {len(pairs)} pairs from {source_dir} ({epochs} epoch(s))...", file=sys.stderr)
    for _ in range(epochs):
        for batch in _batches(pairs, rng):
            queries = encode([p.query for p in batch])
            passages = encode([p.passage for p in batch])
            logits = queries @ passages.T * SIMILARITY_SCALE
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()

    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save(str(partial))
    # Fine-tuning leaves the tokenizer as it was; newer sentence-transformers save only its
    # tokenizer.json, but the NLU featurizer's own word-piece tokenizer reads vocab.txt.
    for filename in TOKENIZER_FILES:
        if (Path(base.model_path) / filename).exists() and not (partial / filename).exists():
            shutil.copy2(Path(base.model_path) / filename, partial / filename)
    seconds = time.perf_counter() - started
    record = {
        "name": name,
        "base_model": base.name,
        "source": str(source_dir),
        "pairs": len(pairs),
        # Which articles, in which version: `adaptation_notice` compares them with today's.
        "articles": {a.id: a.content_hash for a in articles},
        "epochs": epochs,
        "seed": seed,
        "seconds": round(seconds, 1),
    }
    (partial / ADAPTATION_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    previous = out_dir.with_name(out_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, previous)
    os.replace(partial, out_dir)
    shutil.rmtree(previous, ignore_errors=True)
    return AdaptReport(name, len(pairs), seconds, out_dir)


def adaptation_notice(model_path: str | None, content_hashes: dict[str, str]) -> str | None:
    """A line for the admin when most of today's articles (`content_hashes`, by id, as `kb build`
    just read them) are not those the model was adapted to (a help centre swapped for another,
    or rewritten), else None.

    The model adapts once, when missing (`make setup`); re-adapting re-embeds every article and
    retrains Rasa, so it is not done on every change, but it should follow a new help centre.
    """
    record_path = Path(model_path or "") / ADAPTATION_FILE
    if not model_path or not record_path.exists():
        return None
    adapted = json.loads(record_path.read_text(encoding="utf-8")).get("articles")
    if adapted is None or not content_hashes:
        return None
    same = sum(1 for article_id, content_hash in content_hashes.items() if adapted.get(article_id) == content_hash)
    if same / len(content_hashes) >= MIN_ADAPTED_SHARE:
        return None
    return (
        f"note: the embedding model was adapted to other articles ({same} of today's {len(content_hashes)} "
        "are unchanged since); `make adapt` then `make setup` adapts it to these"
    )
