"""`python -m bot ...`: the command line for admins, CI and the Makefile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, get_settings

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot", description="Kestrel support bot")
    commands = parser.add_subparsers(title="commands")

    kb = commands.add_parser("kb", help="build, query and evaluate the knowledge base").add_subparsers(title="kb")
    build = kb.add_parser("build", help="build or update the index from a folder of articles")
    build.add_argument("--source", type=Path, default=settings.kb_source_dir)
    build.add_argument("--index", type=Path, default=settings.kb_index_dir)
    build.set_defaults(handler=_kb_build)

    query = kb.add_parser("query", help="answer JSON lines {id, text} from stdin, one JSON line each")
    query.add_argument("--index", type=Path, default=settings.kb_index_dir)
    query.add_argument("--jsonl", action="store_true", required=True, help="read and write JSON lines")
    query.add_argument("--top-k", type=int, default=5)
    query.set_defaults(handler=_kb_query)

    search = kb.add_parser("search", help="print a ranked list of articles for one question")
    search.add_argument("question")
    search.add_argument("--index", type=Path, default=settings.kb_index_dir)
    search.add_argument("--top-k", type=int, default=5)
    search.set_defaults(handler=_kb_search)

    evaluate = kb.add_parser("eval", help="retrieval on StackFAQ and the decision on the demo question set")
    evaluate.add_argument("--stackfaq", type=Path, default=DATASETS / "stackfaq")
    evaluate.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "kb_questions.jsonl")
    evaluate.add_argument("--index", type=Path, default=settings.kb_index_dir)
    evaluate.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    evaluate.set_defaults(handler=_kb_eval)

    calibrate = kb.add_parser("calibrate", help="pick the answer threshold on the dev split")
    calibrate.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "kb_questions.jsonl")
    calibrate.add_argument("--index", type=Path, default=settings.kb_index_dir)
    calibrate.set_defaults(handler=_kb_calibrate)

    run = commands.add_parser("run", help="start Rasa, the action server and the helpdesk; Ctrl-C stops all")
    run.set_defaults(handler=_run)

    bench = commands.add_parser("bench", help="measure latency through the REST channel, start-up and memory")
    bench.add_argument("--requests", type=int, default=200, help="messages per kind and mode")
    bench.add_argument("--concurrency", type=int, default=10, help="concurrent conversations")
    bench.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(handler=_bench)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal (starts it if needed)")
    chat.set_defaults(handler=_chat)
    return parser


def _load_kb(index: Path):  # noqa: ANN202 - imports kept lazy so `--help` stays fast
    from bot.kb.search import KnowledgeBase

    return KnowledgeBase.load(index, threshold=get_settings().kb_answer_threshold, embedder=_embedder())


def _embedder():  # noqa: ANN202
    from bot.kb.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(get_settings().embedding_model_path)


def _kb_build(args: argparse.Namespace) -> int:
    from bot.kb.index import build_index

    report = build_index(args.source, args.index, _embedder(), pipeline=get_settings().spacy_pipeline)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(
        f"{report.articles} articles, {report.chunks} passages in {args.index} "
        f"({report.embedded_articles} embedded, {report.reused_articles} unchanged, "
        f"{report.removed_articles} removed, {len(report.problems)} problems)"
    )
    return 0


def _kb_query(args: argparse.Namespace) -> int:
    kb = _load_kb(args.index)
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            print(json.dumps({"id": None, "error": f"line {number}: {exc}"}), flush=True)
            continue
        answer = kb.answer(str(item.get("text") or ""), top_k=max(args.top_k, 5))
        out = {"id": item.get("id"), "decision": answer.decision, "hits": [h.as_dict() for h in answer.hits]}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def _kb_search(args: argparse.Namespace) -> int:
    kb = _load_kb(args.index)
    answer = kb.answer(args.question, top_k=args.top_k)
    if not answer.hits:
        print("Ask a question to search the knowledge base.")
        return 0
    verdict = "answer" if answer.decision == "answer" else "escalate (no article is a confident match)"
    print(f"decision: {verdict}   threshold {kb.threshold:.3f}\n")
    for rank, hit in enumerate(answer.hits, start=1):
        passage = hit.passage if len(hit.passage) <= 200 else hit.passage[:197] + "..."
        print(f"{rank}. {hit.title}  [{hit.article_id}]  score {hit.score:.3f}\n   {hit.url}\n   {passage}\n")
    return 0


def _kb_eval(args: argparse.Namespace) -> int:
    from bot.kb.evaluate import decision_curve, evaluate_stackfaq, load_questions

    figures: dict = {}
    print(f"StackFAQ retrieval ({args.stackfaq}):")
    print(f"  {'ranking':<8} {'R@1':>6} {'R@5':>6} {'MRR@10':>7}")
    figures["stackfaq"] = []
    for row in evaluate_stackfaq(args.stackfaq, _embedder()):
        print(f"  {row.mode:<8} {row.recall_at_1:6.3f} {row.recall_at_5:6.3f} {row.mrr_at_10:7.3f}   ({row.queries} queries)")
        figures["stackfaq"].append(row.__dict__)

    kb = _load_kb(args.index)
    questions = load_questions(args.questions)
    print(f"\nAnswer/escalate decision on {args.questions.name} at the shipped threshold {kb.threshold:.3f}:")
    print(f"  {'split':<5} {'answerable':>10} {'correct':>8} {'wrong':>6} {'oos':>4} {'oos answered':>12}")
    figures["decision"] = {}
    for split in ("dev", "test"):
        subset = [q for q in questions if q.split == split]
        (row,) = decision_curve(kb, subset, [kb.threshold])
        print(
            f"  {split:<5} {row.answerable:>10} {row.correct_answer_rate:8.3f} {row.wrong_answer_rate:6.3f} "
            f"{row.out_of_scope:>4} {row.false_answer_rate:12.3f}"
        )
        figures["decision"][split] = row.__dict__
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def _kb_calibrate(args: argparse.Namespace) -> int:
    from bot.kb.evaluate import calibrate_threshold, load_questions

    kb = _load_kb(args.index)
    dev = [q for q in load_questions(args.questions) if q.split == "dev"]
    best = calibrate_threshold(kb, dev)
    print(
        f"threshold {best.threshold:.3f}: dev correct-answer rate {best.correct_answer_rate:.3f}, "
        f"out-of-scope answered {best.false_answer_rate:.3f}\n"
        f"ship it with SUPPORT_KB_ANSWER_THRESHOLD={best.threshold:.3f} or as the default in bot/config.py"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.launcher import run_stack

    return run_stack(get_settings())


def _bench(args: argparse.Namespace) -> int:
    from bot.bench import bench_settings, print_report, run_bench

    figures = run_bench(
        bench_settings(get_settings()), requests=args.requests, concurrency=args.concurrency, out=args.out
    )
    print_report(figures)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot.terminal_chat import chat

    return chat(get_settings())
