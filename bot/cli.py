"""`python -m bot ...`: the command line for admins, CI and the Makefile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings, get_settings

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
# The question splits the answer threshold is chosen on; "test" is kept for reporting.
CALIBRATION_SPLITS = ("dev", "calibration")
# The demo questions in eval/: the ones the search and threshold were tuned on, then the held-out
# sets written later by writers who saw only the articles (never used to choose anything).
EVAL = PROJECT_ROOT / "eval"
HELD_OUT_SETS = ("kb_fresh.jsonl", "kb_fresh2.jsonl", "kb_fresh3.jsonl")
DEMO_QUESTION_SETS = ("kb_questions.jsonl", "kb_calibration.jsonl", *HELD_OUT_SETS)


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
    evaluate.add_argument(
        "--calibration",
        type=Path,
        default=PROJECT_ROOT / "eval" / "kb_calibration.jsonl",
        help="the independent questions the threshold is also chosen on, reported beside the splits",
    )
    evaluate.add_argument(
        "--held-out",
        type=Path,
        nargs="*",
        default=[EVAL / name for name in HELD_OUT_SETS],
        help="more questions never used to choose anything, each split reported alone and all pooled with test",
    )
    evaluate.add_argument(
        "--follow-ups",
        type=Path,
        nargs="*",
        default=[PROJECT_ROOT / "eval" / name for name in ("kb_follow_ups.jsonl", "kb_follow_ups_long.jsonl")],
        help="questions after a topic: each row's kind and split is a group of `kb eval`'s follow-up figures",
    )
    evaluate.add_argument("--follow-up-spans", type=Path, default=PROJECT_ROOT / "eval" / "kb_follow_up_spans.jsonl")
    evaluate.add_argument(
        "--answer-labels",
        type=Path,
        default=PROJECT_ROOT / "eval" / "external_oos_labels.jsonl",
        help="a reader's judgement of the articles given to other people's out-of-scope questions",
    )
    evaluate.add_argument(
        "--other-languages",
        type=Path,
        default=PROJECT_ROOT / "eval" / "kb_other_languages.jsonl",
        help="support questions written in other languages, which the bot should say it cannot read",
    )
    evaluate.add_argument(
        "--answer-spans",
        type=Path,
        nargs="*",
        default=[
            PROJECT_ROOT / "eval" / f"kb_answer_spans_{name}.jsonl"
            for name in ("questions", "calibration", "fresh", "fresh2", "fresh3")
        ],
        help="where in its article each question's answer is, to check the passage shown",
    )
    evaluate.add_argument("--index", type=Path, default=settings.kb_index_dir)
    evaluate.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    evaluate.add_argument("--plot", type=Path, help="also draw the threshold trade-off into this PNG")
    evaluate.set_defaults(handler=_kb_eval)

    whole_bot = kb.add_parser("eval-bot", help="the demo questions through the whole running bot (NLU, dialogue, KB)")
    whole_bot.add_argument(
        "--questions",
        type=Path,
        nargs="*",
        default=[EVAL / name for name in DEMO_QUESTION_SETS],
    )
    whole_bot.add_argument("--json", type=Path, help="also write the figures and every reply to this JSON file")
    whole_bot.set_defaults(handler=_kb_eval_bot)

    gaps = kb.add_parser("gaps", help="questions the bot could not answer, and answers customers said did not help")
    gaps.add_argument("--days", type=int, default=30, help="the last this many days (default 30)")
    gaps.add_argument("--limit", type=int, default=50, help="at most this many unanswered questions")
    gaps.add_argument("--article", help="only the unanswered questions whose closest article is this id")
    gaps.add_argument("--json", action="store_true", help="one JSON object instead of text")
    gaps.set_defaults(handler=_kb_gaps)

    calibrate = kb.add_parser("calibrate", help="pick the answer threshold on the dev and calibration questions")
    calibrate.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[PROJECT_ROOT / "eval" / "kb_questions.jsonl", PROJECT_ROOT / "eval" / "kb_calibration.jsonl"],
        help="JSONL files; their dev and calibration splits are used (a file without either, whole)",
    )
    calibrate.add_argument("--index", type=Path, default=settings.kb_index_dir)
    calibrate.set_defaults(handler=_kb_calibrate)

    adapt = kb.add_parser("adapt", help="adapt the embedding model to the articles' own text (bot/kb/adapt.py)")
    adapt.add_argument("--source", type=Path, default=settings.kb_source_dir)
    adapt.add_argument("--out", type=Path, default=Path(settings.embedding_model_path or "models/kb-embedder"))
    adapt.add_argument("--epochs", type=int, default=1)
    adapt.set_defaults(handler=_kb_adapt)

    export = kb.add_parser("export-onnx", help="export the embedding model to ONNX (for the action and Rasa servers)")
    export.add_argument("--dir", type=Path, default=settings.onnx_dir)
    export.add_argument("--stock", action="store_true", help="the stock all-MiniLM-L6-v2 (the NLU benchmarks use it)")
    export.set_defaults(handler=_kb_export_onnx)

    run = commands.add_parser("run", help="start Rasa, the action server and the helpdesk; Ctrl-C stops all")
    run.add_argument(
        "--only",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=None,
        metavar="NAMES",
        help="start only these, comma-separated: rasa, actions, helpdesk (one host per kind; docs/deploy.md)",
    )
    run.set_defaults(handler=_run)

    deploy = commands.add_parser("deploy", help="files for several servers (docs/deploy.md)").add_subparsers(
        title="deploy"
    )
    nginx = deploy.add_parser("nginx", help="print an nginx site for several Rasa servers and helpdesks")
    nginx.add_argument("--rasa", action="append", required=True, metavar="HOST:PORT", help="a Rasa server (repeat)")
    nginx.add_argument("--helpdesk", action="append", default=[], metavar="HOST:PORT", help="a helpdesk (repeat)")
    nginx.add_argument("--chat-listen", default="80", help="where nginx serves the chat (Rasa): port or address:port")
    nginx.add_argument("--helpdesk-listen", default="8080", help="where nginx serves the helpdesk")
    nginx.set_defaults(handler=_deploy_nginx)

    bench = commands.add_parser("bench", help="speed and scale figures (make bench)").add_subparsers(title="bench")
    figures = PROJECT_ROOT / "docs" / "figures"
    conversations = bench.add_parser("conversations", help="simulated customers over REST and socket.io")
    conversations.add_argument("--duration", type=float, default=60, help="seconds per open-loop run")
    conversations.add_argument("--closed-duration", type=float, default=30, help="seconds per closed-loop run")
    conversations.add_argument("--levels", type=_ints, default=(1, 10, 50), help="customers, e.g. 1,10,50")
    conversations.add_argument("--closed-customers", type=int, default=10)
    conversations.add_argument(
        "--sequential-duration", type=float, default=20, help="seconds of one customer without pauses (0: skip)"
    )
    conversations.add_argument("--think", type=float, default=2.0, help="seconds between a customer's messages")
    conversations.add_argument(
        "--min-noop-answers",
        type=int,
        default=100,
        help="open-loop runs last long enough for about this many do-nothing answers (0: just --duration)",
    )
    conversations.add_argument("--channels", type=lambda v: tuple(v.split(",")), default=("rest", "socketio"))
    conversations.add_argument(
        "--behind-nginx",
        type=int,
        default=0,
        metavar="N",
        help="N Rasa servers on PostgreSQL and Redis behind nginx, as docs/deploy.md (0: one server, SQLite)",
    )
    conversations.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis for --behind-nginx")
    conversations.add_argument(
        "--stock-rasa",
        type=Path,
        metavar="DIR",
        help="also measure stock Rasa (the bot `rasa init` makes in DIR, kept between runs) in a closed loop",
    )
    conversations.add_argument("--out", type=Path, default=figures / "conversations.json")
    conversations.set_defaults(handler=_bench_conversations)

    kb_scale = bench.add_parser("kb-scale", help="synthetic 10k-1M chunk indexes: build, latency, recall")
    kb_scale.add_argument("--sizes", type=_ints, default=(10_000, 100_000, 1_000_000))
    kb_scale.add_argument("--queries", type=int, default=500)
    kb_scale.add_argument(
        "--compare-at", type=int, default=1_000_000, help="also build the other approximate kind here"
    )
    kb_scale.add_argument(
        "--generator",
        choices=("layered", "islands"),
        default="layered",
        help="synthetic vectors: layered (fitted to real embeddings) or islands (isolated topics, the worst case)",
    )
    kb_scale.add_argument("--out", type=Path, default=figures / "kb_scale.json")
    kb_scale.set_defaults(handler=_bench_kb_scale)

    kb_search_scale = bench.add_parser(
        "kb-search-scale", help="the whole KB search on synthetic 10k-1M chunk KBs: load time, memory, latency, parts"
    )
    kb_search_scale.add_argument("--sizes", type=_ints, default=(10_000, 100_000, 1_000_000))
    kb_search_scale.add_argument("--queries", type=int, default=500, help="single questions per size")
    kb_search_scale.add_argument("--threads", type=int, default=1, help="FAISS/torch threads (the action server's: 1)")
    kb_search_scale.add_argument("--data", type=Path, default=DATASETS, help="sentences for the chunks' text")
    kb_search_scale.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "kb_questions.jsonl")
    kb_search_scale.add_argument("--faiss-cache", type=Path, help="keep each size's FAISS index here between runs")
    kb_search_scale.add_argument(
        "--questions-per-article", type=int, default=4, help="example questions per article besides its title"
    )
    kb_search_scale.add_argument("--out", type=Path, default=figures / "kb_search_scale.json")
    kb_search_scale.set_defaults(handler=_bench_kb_search_scale)

    kb_real = bench.add_parser("kb-real", help="HNSW on real sentence embeddings beside synthetic ones of one size")
    kb_real.add_argument("--data", type=Path, default=DATASETS, help="dataset location (default: ../shared/datasets)")
    kb_real.add_argument(
        "--corpus",
        choices=("datasets", "debian-docs"),
        default="datasets",
        help="datasets: the public datasets' ~36k texts; debian-docs: --size passages of Debian's documentation",
    )
    kb_real.add_argument("--size", type=int, default=1_000_000, help="passages of the debian-docs corpus")
    kb_real.add_argument("--vectors", type=Path, help="keep the embedded vectors here; reused while the texts match")
    kb_real.add_argument(
        "--generators", default="layered,islands", help="kb-scale generators to compare at the same size (or none)"
    )
    kb_real.add_argument("--queries", type=int, default=500)
    kb_real.add_argument("--limit", type=int, help="use only the first N sentences (for a quick run)")
    kb_real.add_argument("--out", type=Path, default=figures / "kb_real.json")
    kb_real.set_defaults(handler=_bench_kb_real)

    embedding = bench.add_parser("embedding", help="embedding sentences/s, float32 vs int8, StackFAQ quality")
    embedding.add_argument("--sentences", type=int, default=2000)
    embedding.add_argument("--stackfaq", type=Path, default=DATASETS / "stackfaq")
    embedding.add_argument("--no-quality", dest="quality", action="store_false", help="skip the StackFAQ check")
    embedding.add_argument("--out", type=Path, default=figures / "embedding.json")
    embedding.set_defaults(handler=_bench_embedding)

    tickets_bench = bench.add_parser("tickets", help="tickets/s: store, API, chat; SQLite and PostgreSQL")
    tickets_bench.add_argument("--creates", type=int, default=500)
    tickets_bench.add_argument("--replies", type=int, default=500)
    tickets_bench.add_argument("--chat-customers", type=int, default=10, help="0 skips the chat (no stack)")
    tickets_bench.add_argument("--chat-duration", type=float, default=30)
    tickets_bench.add_argument("--databases", type=lambda v: tuple(v.split(",")), default=("sqlite", "postgresql"))
    tickets_bench.add_argument("--out", type=Path, default=figures / "tickets.json")
    tickets_bench.set_defaults(handler=_bench_tickets)

    plots = bench.add_parser("plots", help="PNG figures from the JSON files in --dir")
    plots.add_argument("--dir", type=Path, default=figures)
    plots.set_defaults(handler=_bench_plots)

    nlu_bench = commands.add_parser("nlu-bench", help="train and test the NLU on CLINC150 or HINT3 (make eval-nlu)")
    nlu_bench.add_argument("dataset", choices=["clinc150", "hint3"])
    nlu_bench.add_argument("--out", type=Path, required=True, help="JSON figures; a PNG plot beside it")
    nlu_bench.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml", help="Rasa pipeline")
    nlu_bench.add_argument("--classifier", choices=["rasa", "minilm-lr"], default="rasa")
    nlu_bench.add_argument("--oos-class", action="store_true", help="CLINC150: train oos_train as an intent")
    nlu_bench.add_argument("--epochs", type=int, help="override DIETClassifier's epochs (a time-limited run)")
    nlu_bench.add_argument("--label", help="the variant's name in the figures")
    nlu_bench.add_argument("--work", type=Path, help="keep the converted data and models here")
    nlu_bench.add_argument("--data", type=Path, help="dataset location (default: ../shared/datasets)")
    nlu_bench.set_defaults(handler=_nlu_bench)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal (starts it if needed)")
    chat.set_defaults(handler=_chat)

    routing = commands.add_parser("routing", help="ticket routing").add_subparsers(title="routing")
    routing_eval = routing.add_parser("eval", help="routing accuracy on the labelled demo questions")
    routing_eval.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "kb_questions.jsonl")
    routing_eval.add_argument("--labels", type=Path, default=PROJECT_ROOT / "eval" / "routing_labels.yml")
    routing_eval.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    routing_eval.set_defaults(handler=_routing_eval)

    tickets = commands.add_parser("tickets", help="list, show, export and comment on tickets").add_subparsers(
        title="tickets"
    )
    listing = tickets.add_parser("list", help="newest first")
    listing.add_argument("--status", help="new, open, pending_customer, resolved or closed")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    listing.set_defaults(handler=_tickets_list)
    show = tickets.add_parser("show", help="one ticket with its audit trail and transcript")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_tickets_show)
    export = tickets.add_parser("export", help="render a ticket and its transcript for an agent")
    export.add_argument("reference")
    export.add_argument("--format", choices=["md", "json", "html"], default="md")
    export.set_defaults(handler=_tickets_export)
    comment = tickets.add_parser("comment", help="add an internal note (the customer does not see it)")
    comment.add_argument("reference")
    comment.add_argument("text")
    comment.add_argument("--author", default="admin", help="who wrote it, for the audit trail")
    comment.set_defaults(handler=_tickets_comment)
    reply = tickets.add_parser("reply", help="a public reply: pushed into the customer's chat, or emailed")
    reply.add_argument("reference")
    reply.add_argument("text")
    reply.add_argument("--as", dest="agent", required=True, help="the agent's email (see `users create`)")
    reply.set_defaults(handler=_tickets_reply)
    set_status = tickets.add_parser("set-status", help="new, open, pending_customer, resolved or closed")
    set_status.add_argument("reference")
    set_status.add_argument("status")
    set_status.add_argument("--as", dest="agent", required=True, help="the agent's email")
    set_status.add_argument("--reason", default="")
    set_status.set_defaults(handler=_tickets_set_status)

    users = commands.add_parser("users", help="agents and admins of the helpdesk").add_subparsers(title="users")
    create = users.add_parser("create", help="add an agent or admin (asks for the password unless --password)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=["agent", "admin"], default="agent")
    create.add_argument("--name", default="")
    create.add_argument("--team", help="limit an agent to one team's tickets")
    create.add_argument("--password", help="for scripts; prefer the prompt")
    create.set_defaults(handler=_users_create)
    token = users.add_parser("token", help="issue an API token for a user (shown once)")
    token.add_argument("--email", required=True)
    token.add_argument("--name", default="cli")
    token.set_defaults(handler=_users_token)
    return parser


def _load_kb(index: Path):
    from bot.kb.search import KnowledgeBase

    return KnowledgeBase.load(index, threshold=get_settings().kb_answer_threshold, embedder=_embedder())


def _embedder():
    from bot.kb.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(get_settings().embedding_model_path)


def _build_embedder():
    """The same model on onnxruntime (its export, made when missing): the same vectors as
    sentence-transformers (cosine above 0.99999), faster for passages and with no model to load,
    which the console's rebuild after each taught question waits for: 3.6 s instead of 6.1 s
    after one article changed (docs/benchmarks.md, "ONNX batches of similar length")."""
    from bot.kb.onnx_embedding import OnnxEmbedder

    settings = get_settings()
    return OnnxEmbedder(settings.embedding_model_path, export_dir=settings.onnx_dir)


def _kb_build(args: argparse.Namespace) -> int:
    from bot.kb.adapt import adaptation_notice
    from bot.kb.index import build_index

    report = build_index(args.source, args.index, _build_embedder(), pipeline=get_settings().spacy_pipeline)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    notice = adaptation_notice(get_settings().embedding_model_path, report.content_hashes)
    if notice:
        print(notice, file=sys.stderr)
    print(
        f"{report.articles} articles, {report.chunks} passages, {report.questions} example questions, "
        f"{report.not_answered} not-answered questions in {args.index} "
        f"({report.embedded_articles} embedded, {report.reused_articles} unchanged, "
        f"{report.removed_articles} removed, {len(report.problems)} problems)"
    )
    if report.changed:
        print("a running bot answers from it within a few seconds, without a restart")
    return 0


def _kb_adapt(args: argparse.Namespace) -> int:
    from bot.kb.adapt import adapt_model

    report = adapt_model(args.source, args.out, epochs=args.epochs, pipeline=get_settings().spacy_pipeline)
    print(f"{report.name}: {report.pairs} pairs, {report.seconds:.0f} s, in {report.out_dir}")
    print("rebuild the index and retrain Rasa with the new model: make setup")
    return 0


def _kb_export_onnx(args: argparse.Namespace) -> int:
    from bot.kb.onnx_embedding import OnnxEmbedder

    embedder = OnnxEmbedder(None if args.stock else get_settings().embedding_model_path, export_dir=args.dir)
    embedder.embed(["warm up"])  # exports on first use, atomically; a second run reuses the file
    print(embedder.export_path)
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
    from bot.kb.search import clean_query

    kb = _load_kb(args.index)
    answer = kb.answer(args.question, top_k=args.top_k)
    if not answer.hits:
        print("Ask a question to search the knowledge base.")
        return 0
    verdict = "answer" if answer.decision == "answer" else "escalate (no article is a confident match)"
    if (read_as := kb.read_as(args.question)) != clean_query(args.question):
        print(f"read as: {read_as}")
    print(f"decision: {verdict}   threshold {kb.threshold:.3f}\n")
    for rank, hit in enumerate(answer.hits, start=1):
        passage = hit.passage if len(hit.passage) <= 200 else hit.passage[:197] + "..."
        passage = passage.replace("\n", "\n   ")  # a list's items under the hit, indented as it is
        print(f"{rank}. {hit.title}  [{hit.article_id}]  score {hit.score:.3f}\n   {hit.url}\n   {passage}\n")
    return 0


def _kb_eval_bot(args: argparse.Namespace) -> int:
    from bot.bench.common import bench_settings
    from bot.kb.evaluate import load_questions
    from bot.whole_bot_eval import run_whole_bot_eval

    questions = [q for path in args.questions for q in load_questions(path)]
    print(f"Asking the whole bot {len(questions)} questions, each in a new conversation...")
    figures = run_whole_bot_eval(bench_settings(get_settings()), questions, out=args.json)
    print(f"  {'split':<11} {'answerable':>10} {'right':>6} {'rate':>6} {'wrong':>6} {'oos':>4} {'oos answered':>13}")
    for split, row in figures["splits"].items():
        rate = "" if row["right_article_rate"] is None else f"{row['right_article_rate']:.3f}"
        oos_rate = "" if row["out_of_scope_answered_rate"] is None else f"({row['out_of_scope_answered_rate']:.3f})"
        print(
            f"  {split:<11} {row['answerable']:>10} {row['right_article']:>6} {rate:>6} {row['wrong_article']:>6}"
            f" {row['out_of_scope']:>4} {row['out_of_scope_answered']:>5} {oos_rate:>7}"
        )
    errors = sum(row["errors"] for row in figures["splits"].values())
    if errors:
        print(f"{errors} questions got no reply (see the JSON's replies)", file=sys.stderr)
    return 1 if errors else 0


def _kb_eval(args: argparse.Namespace) -> int:
    from bot.kb.embedding import SentenceTransformerEmbedder
    from bot.kb.evaluate import decision_curve, evaluate_follow_up_reading, evaluate_stackfaq, load_questions

    figures: dict = {}
    print(f"StackFAQ retrieval ({args.stackfaq}):")
    print(f"  {'ranking':<8} {'R@1':>6} {'R@5':>6} {'MRR@10':>7}")
    figures["stackfaq"] = []
    # Another site's FAQ: the stock model, not the one adapted to our help centre.
    for row in evaluate_stackfaq(args.stackfaq, SentenceTransformerEmbedder(None)):
        print(
            f"  {row.mode:<8} {row.recall_at_1:6.3f} {row.recall_at_5:6.3f} {row.mrr_at_10:7.3f}"
            f"   ({row.queries} queries)"
        )
        figures["stackfaq"].append(row.__dict__)

    kb = _load_kb(args.index)
    questions = load_questions(args.questions)
    splits = {split: [q for q in questions if q.split == split] for split in ("dev", "test")}
    if args.calibration.exists():
        splits["calibration"] = load_questions(args.calibration)
    # Written after the threshold and the search were settled, by writers who saw only the
    # articles: with the test split, what a customer can expect (docs/benchmarks.md).
    fresh = [q for path in args.held_out if path.exists() for q in load_questions(path)]
    fresh_splits = list(dict.fromkeys(q.split for q in fresh))
    for split in fresh_splits:
        splits[split] = [q for q in fresh if q.split == split]
    if fresh:
        splits["held_out"] = splits["test"] + fresh
    print(f"\nAnswer/escalate decision at the shipped threshold {kb.threshold:.3f}:")
    print(f"  {'split':<11} {'answerable':>10} {'correct':>8} {'wrong':>6} {'oos':>4} {'oos answered':>12}")
    figures["decision"] = {}
    for split, subset in splits.items():
        (decision,) = decision_curve(kb, subset, [kb.threshold])
        print(
            f"  {split:<11} {decision.answerable:>10} {decision.correct_answer_rate:8.3f} "
            f"{decision.wrong_answer_rate:6.3f} {decision.out_of_scope:>4} {decision.false_answer_rate:12.3f}"
        )
        figures["decision"][split] = decision.__dict__

    # The passage shown, not only the article: labelled answer spans (where in the article the answer is).
    from bot.kb.evaluate import load_answer_spans, score_passages, score_second_tries

    spans = {
        key: value for path in args.answer_spans if path.exists() for key, value in load_answer_spans(path).items()
    }
    measures = [
        (
            "passage",
            "Passage shown holds the answer (of the labelled questions answered with the right article):",
            score_passages,
            ("right_passage", "right_article_answers"),
        ),
        (
            "second_try",
            'After "No" to an answer that missed (wrong article or passage), the second try holds the answer:',
            score_second_tries,
            ("answered_on_second_try", "first_answers_missed"),
        ),
    ]
    for key, heading, score, (got_name, of_name) in measures if spans else []:
        print(f"\n{heading}")
        figures[key] = {}
        for split, subset in splits.items():
            if not any(q.id in spans for q in subset):
                continue  # no answer spans written for this split
            if split == "held_out" and not any(q.id in spans for f in fresh_splits for q in splits[f]):
                continue  # without the fresh splits' spans it would be the test split again
            got, of = score(kb, subset, spans)
            figures[key][split] = {got_name: got, of_name: of}
            print(f"  {split:<11} {got:>3} of {of:<3} {got / max(of, 1):.3f}")

    if args.follow_up_spans.exists():
        from bot.kb.evaluate import score_follow_up_passages

        rows = [
            json.loads(line) for line in args.follow_up_spans.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        figures["follow_up_passage"] = score_follow_up_passages(kb, rows)
        print("\nFollow-ups answered with their article, passage holds the answer (as shipped / always another than")
        print("what was read / the best even if read):")
        for split, got in figures["follow_up_passage"].items():
            print(
                f"  {split:<11} {got['as_shipped']:>3} / {got['always_another']:>3} / {got['best_even_if_read']:>3}"
                f" of {got['answered']}"
            )

    follow_ups = [
        json.loads(line)
        for path in args.follow_ups
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    reading = evaluate_follow_up_reading(kb, questions, follow_ups)
    figures["follow_up_reading"] = reading
    print("\nQuestions after another one (right article: as shipped / always joined to the last topic / always alone):")
    for name, counts in reading.items():
        as_shipped, always, alone = (
            counts["right_as_shipped"],
            counts["right_always_with_topic"],
            counts["right_always_alone"],
        )
        print(f"  {name:<17} {as_shipped:>3} / {always:>3} / {alone:>3} of {counts['cases']}")

    # The whole trade-off: every threshold, the demo questions' test split and other people's
    # out-of-scope questions (CLINC150, HINT3), so the shipped threshold can be seen in context.
    from bot.kb.evaluate import external_out_of_scope, judged_answers, load_answer_labels, threshold_curve, top_hits

    test = splits["test"]
    out_of_scope = {"demo_oos": [q for q in test if not q.article_id]}
    if "calibration" in splits:
        out_of_scope["calibration_oos"] = [q for q in splits["calibration"] if not q.article_id]
    for split in fresh_splits:
        out_of_scope[f"{split}_oos"] = [q for q in splits[split] if not q.article_id]
    external = external_out_of_scope(args.stackfaq.parent)
    out_of_scope.update(external)
    top_oos = {name: top_hits(kb, questions) for name, questions in out_of_scope.items()}
    # From 0.30 to past the shipped threshold (the article score grows with each term of the search).
    thresholds = [round(0.30 + 0.01 * i, 2) for i in range(max(61, int((kb.threshold - 0.30) / 0.01) + 41))]
    # Right answers over every question held out from the threshold's choice (test, and fresh if given).
    held_out = splits.get("held_out", test)
    curve = threshold_curve(kb, [q for q in held_out if q.article_id], out_of_scope, thresholds, top_oos=top_oos)
    figures["threshold_curve"] = curve
    shipped = min(curve, key=lambda row: abs(row["threshold"] - kb.threshold))
    sizes = ", ".join(f"{name} {len(qs)}" for name, qs in out_of_scope.items())
    print(f"\nAt the shipped threshold, out-of-scope questions answered ({sizes}):")
    print("  " + "   ".join(f"{name} {shipped[name + '_answered']:.3f}" for name in out_of_scope))
    if args.answer_labels.exists():
        # Some of other people's out-of-scope questions are answered by a Kestrel article
        # ("is shipping free?"): a reader judged each article the bot answered with.
        labels = load_answer_labels(args.answer_labels)
        figures["external_judged"] = {}
        print(f"\nOf those answered, judged by a reader ({args.answer_labels}):")
        for name, external_questions in external.items():
            counts = judged_answers(external_questions, top_oos[name], kb.threshold, labels)
            figures["external_judged"][name] = counts
            wrong, partly = counts["no"], counts["partly"]
            print(
                f"  {name}: {counts['answered']} answered: {counts['answers']} rightly, {partly} partly, "
                f"{wrong} with an article that does not answer it, {counts['unjudged']} not judged; "
                f"answered wrongly {wrong / len(external_questions):.3f} "
                f"({(wrong + partly) / len(external_questions):.3f} "
                "counting partly)"
            )
    # Keyboard mashing is asked to be said again, with no ticket offer, when no article is
    # confident (bot/kb/words.py): how often real messages would be taken for it.
    no_words = {"demo": questions, "calibration": splits.get("calibration", []), **external}
    print("\nRead as no words at all (asked to say it again when no article is confident):")
    figures["read_as_no_words"] = {}
    for name, qs in no_words.items():
        flagged = [q for q in qs if not kb.reads_as_words(q.text)]
        figures["read_as_no_words"][name] = [q.id for q in flagged]  # ids: no dataset text in the repo
        examples = f": {[q.text for q in flagged[:8]]}" if flagged else ""
        print(f"  {name} {len(flagged)} of {len(qs)}{examples}")
    _report_other_languages(no_words, args.other_languages, figures)
    if args.plot:
        _plot_threshold_curve(curve, list(out_of_scope), kb.threshold, args.plot)
        print(f"plot: {args.plot}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def _report_other_languages(english_sets: dict[str, list], other_languages: Path, figures: dict) -> None:
    """How often an unanswered message is told "I can only help in English" (bot/kb/language.py):
    English messages taken for another language, and other-language questions caught."""
    from bot.kb.language import written_in_another_language

    print("\nRead as another language (told the bot helps in English only, when no article is confident):")
    figures["read_as_another_language"] = {}
    for name, qs in english_sets.items():
        flagged = [q for q in qs if written_in_another_language(q.text)]
        figures["read_as_another_language"][name] = [q.id for q in flagged]
        examples = f": {[q.text for q in flagged[:8]]}" if flagged else ""
        print(f"  {name} {len(flagged)} of {len(qs)}{examples}")
    if not other_languages.exists():
        return
    rows = [json.loads(line) for line in other_languages.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures["other_languages_caught"] = {}
    for split in sorted({row["split"] for row in rows}):
        written = [row for row in rows if row["split"] == split]
        missed = [row["text"] for row in written if not written_in_another_language(row["text"])]
        figures["other_languages_caught"][split] = {"caught": len(written) - len(missed), "of": len(written)}
        print(
            f"  written in other languages ({split}): {len(written) - len(missed)} of {len(written)} caught"
            + (f", missed: {missed}" if missed else "")
        )


def _plot_threshold_curve(curve: list[dict], oos_names: list[str], shipped: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen here
    import matplotlib.pyplot as plt

    thresholds = [row["threshold"] for row in curve]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    axes.plot(
        thresholds, [row["correct_answer_rate"] for row in curve], label="held-out answerable: right article", lw=2
    )
    axes.plot(
        thresholds, [row["precision"] for row in curve], label="held-out answerable: precision of answers", ls="--"
    )
    for name in oos_names:
        axes.plot(thresholds, [row[f"{name}_answered"] for row in curve], label=f"{name}: answered")
    axes.axvline(shipped, color="grey", ls=":", label=f"shipped threshold {shipped:.3f}")
    axes.set_xlabel("answer threshold (fused score of the best article)")
    axes.set_ylabel("share of questions")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="center left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _kb_calibrate(args: argparse.Namespace) -> int:
    from bot.kb.evaluate import calibrate_threshold, load_questions

    dev = []
    for path in args.questions:
        questions = load_questions(path)
        # A file with a dev split keeps its test split for reporting; one without is used whole.
        dev += [q for q in questions if q.split in CALIBRATION_SPLITS] or questions
    if not any(q.article_id for q in dev) or all(q.article_id for q in dev):
        raise ValueError(
            f"{', '.join(map(str, args.questions))}: calibrating needs questions the KB answers (with their "
            "article_id) and questions it must not answer (without one), one JSON object a line"
        )
    kb = _load_kb(args.index)
    best = calibrate_threshold(kb, dev)
    print(
        f"threshold {best.threshold:.3f} on {len(dev)} questions: correct-answer rate {best.correct_answer_rate:.3f}, "
        f"out-of-scope answered {best.false_answer_rate:.3f}\n"
        f"ship it with SUPPORT_KB_ANSWER_THRESHOLD={best.threshold:.3f} or as the default in bot/config.py"
    )
    return 0


def _deploy_nginx(args: argparse.Namespace) -> int:
    from bot.deploy import nginx_site

    try:
        site = nginx_site(
            rasa_servers=args.rasa,
            helpdesk_servers=args.helpdesk,
            chat_listen=args.chat_listen,
            helpdesk_listen=args.helpdesk_listen,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(site, end="")
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.launcher import SERVICE_NAMES, run_stack

    return run_stack(get_settings(), args.only or SERVICE_NAMES)


def _ints(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(","))


def _bench_conversations(args: argparse.Namespace) -> int:
    from bot.bench.common import bench_settings
    from bot.bench.conversations import run_conversations
    from bot.bench.tickets import postgres_database

    def run(settings: Settings) -> None:
        run_conversations(
            settings,
            duration_s=args.duration,
            closed_duration_s=args.closed_duration,
            levels=args.levels,
            closed_customers=args.closed_customers,
            sequential_duration_s=args.sequential_duration,
            think_s=args.think,
            channels=args.channels,
            behind_nginx=args.behind_nginx,
            min_noop_answers=args.min_noop_answers,
            stock_rasa=args.stock_rasa,
            out=args.out,
        )

    try:
        if not args.behind_nginx:
            run(bench_settings(get_settings()))
            return 0
        with postgres_database(name="kestrel_bench_tracker") as tracker_store_url:
            run(bench_settings(get_settings(), tracker_store_url=tracker_store_url, redis_url=args.redis_url))
    except RuntimeError as error:  # a server that would not start, a stock bot that would not train
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _bench_kb_scale(args: argparse.Namespace) -> int:
    from bot.bench.kb_scale import run_kb_scale

    run_kb_scale(
        args.sizes,
        queries=args.queries,
        compare_at=args.compare_at or None,
        generator=args.generator,
        out=args.out,
    )
    return 0


def _bench_kb_search_scale(args: argparse.Namespace) -> int:
    from bot.bench.kb_search_scale import run_kb_search_scale

    run_kb_search_scale(
        args.data,
        args.questions,
        args.sizes,
        queries=args.queries,
        threads=args.threads,
        faiss_cache=args.faiss_cache,
        questions_per_article=args.questions_per_article,
        out=args.out,
    )
    return 0


def _bench_kb_real(args: argparse.Namespace) -> int:
    from bot.bench.kb_real import run_kb_real
    from bot.bench.kb_scale import GENERATORS

    generators = tuple(name for name in args.generators.split(",") if name and name != "none")
    unknown = sorted(set(generators) - set(GENERATORS))
    if unknown:
        raise SystemExit(f"unknown generator(s) {', '.join(unknown)}; known: {', '.join(GENERATORS)}")
    run_kb_real(
        args.data,
        corpus=args.corpus,
        size=args.size,
        queries=args.queries,
        limit=args.limit,
        vectors_cache=args.vectors,
        generators=generators,
        out=args.out,
    )
    return 0


def _bench_embedding(args: argparse.Namespace) -> int:
    from bot.bench.embedding_speed import run_embedding_speed

    run_embedding_speed(sentences=args.sentences, quality=args.quality, dataset_dir=args.stackfaq, out=args.out)
    return 0


def _bench_tickets(args: argparse.Namespace) -> int:
    from bot.bench.tickets import run_tickets

    run_tickets(
        get_settings(),
        creates=args.creates,
        replies=args.replies,
        chat_customers=args.chat_customers,
        chat_duration_s=args.chat_duration,
        databases=args.databases,
        out=args.out,
    )
    return 0


def _bench_plots(args: argparse.Namespace) -> int:
    from bot.bench.plots import make_plots

    for path in make_plots(args.dir):
        print(path)
    return 0


def _nlu_bench(args: argparse.Namespace) -> int:
    from bot import nlu_benchmark

    common = {"out": args.out, "config": args.config, "classifier": args.classifier, "work": args.work}
    common |= {"label": args.label, "epochs": args.epochs}
    if args.dataset == "clinc150":
        data = args.data or DATASETS / "clinc150" / "data_full.json"
        result = nlu_benchmark.run_clinc150(data, oos_class=args.oos_class, **common)
        print(nlu_benchmark.clinc150_summary(result))
    else:
        result = nlu_benchmark.run_hint3(args.data or DATASETS / "hint3", **common)
        print(nlu_benchmark.hint3_summary(result))
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot.terminal_chat import chat

    return chat(get_settings())


def _kb_gaps(args: argparse.Namespace) -> int:
    from bot.tickets.kb_questions import gaps_report

    if args.days < 1 or args.limit < 1:
        raise ValueError("--days and --limit must be at least 1")
    report = gaps_report(_ticket_store().sessions, days=args.days, limit=args.limit, closest_to=args.article)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return 0
    counts = report.counts
    print(
        f"Last {args.days} days: {report.questions} questions to the knowledge base, {counts['answered']} answered, "
        f"{counts['escalated']} not answered ({report.share('escalated'):.0%}), {counts['off_topic']} off topic; "
        f'of the answers, "Yes, that solved it" {counts["solved"]} ({report.solved_share:.0%}), '
        f'"No" {counts["not_helpful"]}.'
    )
    if report.unanswered_by_article:
        print("\nUnanswered questions by closest article:")
        for article_id, count in report.unanswered_by_article.most_common(10):
            print(f"  {count:>4}  {article_id}")
    print("\nNot answered, newest first (personal data masked):")
    for item in report.unanswered:
        closest = f"  [closest: {item.closest_article} {item.score:.2f}]" if item.score is not None else ""
        print(f"  {item.asked_at:%Y-%m-%d %H:%M}  {item.question}{closest}")
    if not report.unanswered:
        print("  none")
    if report.said_no:
        print('\nAnswers customers said "No" to, newest first:')
        for item in report.said_no:
            print(f"  {item.asked_at:%Y-%m-%d %H:%M}  {item.question}  [given: {item.closest_article}]")
    if report.articles:
        print('\nArticles given as answers, those customers said "No" to most first ("No" / "Yes" / given):')
        for article in report.articles:
            print(f"  {article.not_helpful:>4} / {article.solved:>4} / {article.answered:<4} {article.article_id}")
    return 0


def _ticket_store():
    from bot.tickets.store import TicketStore

    return TicketStore.from_settings(get_settings())


def _tickets_list(args: argparse.Namespace) -> int:
    tickets = _ticket_store().list(status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([_summary_row(t) for t in tickets], indent=2, ensure_ascii=False))
        return 0
    if not tickets:
        print("no tickets" + (f" with status {args.status}" if args.status else ""))
        return 0
    print(f"{'reference':<11} {'status':<17} {'priority':<8} {'team':<20} {'created (UTC)':<17} summary")
    for t in tickets:
        created = t.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{t.reference:<11} {t.status:<17} {t.priority:<8} {t.team[:20]:<20} {created:<17} {t.summary[:60]}")
    return 0


def _summary_row(ticket) -> dict:
    row = ticket.to_dict()
    return {
        k: row[k]
        for k in (
            "reference",
            "status",
            "priority",
            "category",
            "team",
            "customer_email",
            "summary",
            "created_at",
            "updated_at",
            "first_response_due",
            "resolution_due",
        )
    }


def _tickets_show(args: argparse.Namespace) -> int:
    from bot.tickets.transcript import render

    ticket = _find_ticket(args.reference)
    if ticket is None:
        return 1
    if args.json:
        print(render(ticket.to_dict(), "json"))
        return 0
    print(render(ticket.to_dict(), "md"))
    print("## Audit trail\n")
    for event in ticket.events:
        visibility = "public" if event["public"] else "internal"
        print(f"- {event['at']} {event['kind']} by {event['actor']} ({visibility}): {event['body']}")
    return 0


def _tickets_export(args: argparse.Namespace) -> int:
    from bot.tickets.transcript import render

    ticket = _find_ticket(args.reference)
    if ticket is None:
        return 1
    sys.stdout.write(render(ticket.to_dict(), args.format))
    return 0


def _tickets_comment(args: argparse.Namespace) -> int:
    from bot.tickets.store import TicketNotFound

    try:
        ticket = _ticket_store().comment(args.reference, args.text, actor=args.author)
    except TicketNotFound:
        print(f"error: no ticket {args.reference}", file=sys.stderr)
        return 1
    print(f"added an internal note to {ticket.reference}")
    return 0


def _find_ticket(reference: str):
    ticket = _ticket_store().find(reference)
    if ticket is None:
        print(f"error: no ticket {reference}", file=sys.stderr)
    return ticket


def _routing_eval(args: argparse.Namespace) -> int:
    from bot.tickets.evaluate import evaluate_routing, labelled_questions
    from bot.tickets.routing import Router

    settings = get_settings()
    kb = _load_kb(settings.kb_index_dir)
    # With the articles' example questions and the KB's closest article, as the action server routes.
    router = Router.from_file(settings.routing_rules_path, kb.embedder, kb.index)
    rows = labelled_questions(args.questions, args.labels)
    report = evaluate_routing(router, rows, kb)
    by_words = evaluate_routing(router, rows)
    print(f"ticket routing: accuracy {report.accuracy:.3f} on {report.total} labelled questions")
    print(f"  by the words alone, without the KB's closest article: {by_words.accuracy:.3f}")
    print(f"  decided by: {dict(report.by_method)}")
    for name, (correct, total) in report.per_category.items():
        print(f"  {name:<10} {correct}/{total}")
    for (expected, got), count in report.confusions.most_common(5):
        print(f"  {expected} taken for {got}: {count}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {**report.as_dict(), "accuracy_by_words_alone": round(by_words.accuracy, 4)}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def _desk_and_agent(email: str):
    from bot.tickets.desk import Desk
    from bot.tickets.users import UserDirectory

    store = _ticket_store()
    agent = UserDirectory(store.sessions).by_email(email)
    if agent is None:
        raise ValueError(f"no agent {email}: add one with `python -m bot users create --email {email}`")
    return Desk(store), agent


def _tickets_reply(args: argparse.Namespace) -> int:
    from bot.tickets.store import TicketNotFound

    desk, agent = _desk_and_agent(args.agent)
    try:
        ticket = desk.reply(agent, args.reference, args.text)
    except TicketNotFound:
        print(f"error: no ticket {args.reference}", file=sys.stderr)
        return 1
    print(f"replied on {ticket.reference}; the customer gets it in their chat or by email")
    return 0


def _tickets_set_status(args: argparse.Namespace) -> int:
    from bot.tickets.store import TicketNotFound

    desk, agent = _desk_and_agent(args.agent)
    try:
        ticket = desk.set_status(agent, args.reference, args.status, reason=args.reason)
    except TicketNotFound:
        print(f"error: no ticket {args.reference}", file=sys.stderr)
        return 1
    print(f"{ticket.reference} is now {ticket.status}")
    return 0


def _users_create(args: argparse.Namespace) -> int:
    import getpass

    from bot.tickets.users import UserDirectory

    password = args.password or getpass.getpass("Password (at least 10 characters): ")
    agent = UserDirectory(_ticket_store().sessions).create(
        args.email, password, role=args.role, name=args.name, team=args.team
    )
    print(f"created {agent.role} {agent.email}" + (f" (team {agent.team})" if agent.team else ""))
    return 0


def _users_token(args: argparse.Namespace) -> int:
    from bot.tickets.users import UserDirectory

    directory = UserDirectory(_ticket_store().sessions)
    agent = directory.by_email(args.email)
    if agent is None:
        raise ValueError(f"no user {args.email}")
    print(directory.issue_token(agent.id, args.name))
    return 0
