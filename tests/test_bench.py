"""Every `make bench` command runs on a tiny size and writes the fields docs/benchmarks.md reads.

Benchmarks are not tests: nothing here checks that a number is met.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bot.bench.common import percentile, percentile_ratio_interval
from bot.bench.conversations import KIND_OF_TEXT, _targets, open_loop_duration
from bot.bench.kb_real import real_sentences
from bot.bench.kb_scale import recall_at_k, synthetic_vectors
from bot.bench.socket_frames import read_turns, server_side_figures
from bot.bench.stock_rasa import stock_project
from bot.bench.tickets import DESCRIPTION, _chat_answer
from bot.cli import main

LATENCY_FIELDS = {"n", "p50_ms", "p95_ms", "p99_ms"}
FIXTURES = Path(__file__).parent / "fixtures"


def run(*argv: str) -> dict:
    out = Path(argv[argv.index("--out") + 1])
    assert main(["bench", *argv]) == 0
    return json.loads(out.read_text())


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


def test_the_ratio_interval_holds_the_true_ratio_and_narrows_with_more_samples() -> None:
    import random

    rng = random.Random(1)
    same_small = percentile_ratio_interval(
        [rng.gauss(50, 10) for _ in range(60)], [rng.gauss(50, 10) for _ in range(60)]
    )
    same_large = percentile_ratio_interval(
        [rng.gauss(50, 10) for _ in range(2000)], [rng.gauss(50, 10) for _ in range(2000)]
    )
    assert same_small[0] < 1.0 < same_small[1] and same_large[0] < 1.0 < same_large[1]
    assert same_large[1] - same_large[0] < (same_small[1] - same_small[0]) / 2
    slower = percentile_ratio_interval([rng.gauss(100, 10) for _ in range(500)], [rng.gauss(50, 5) for _ in range(500)])
    assert 1.8 < slower[0] < slower[1] < 2.2  # about 116.4 / 58.2
    assert percentile_ratio_interval([1.0], [1.0, 2.0]) is None


def test_synthetic_vectors_are_unit_length_and_recall_counts_shared_neighbours() -> None:
    for generator in ("layered", "islands"):
        vectors = synthetic_vectors(50, generator=generator)
        assert vectors.shape == (50, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert recall_at_k(np.array([[1, 2, 3, 4]]), np.array([[1, 2, 9, 8]])) == 0.5


def test_the_layered_generator_has_the_cosines_it_was_fitted_to() -> None:
    # The weights were fitted to real MiniLM vectors (docs/benchmarks.md, "KB scale"); the layer
    # structure is what makes the fit: same group ~0.89, same topic ~0.71, unrelated ~0.07.
    from bot.bench.kb_scale import LayeredSyntheticKB

    model = LayeredSyntheticKB(20_000)
    vectors = model.draw(4_000, seed=1)
    rng = np.random.default_rng(0)
    group_a, group_b = model.groups[:2]
    assert abs(float(group_a @ group_b)) < 0.25  # random directions in 384 dimensions
    similarity = vectors[:400] @ vectors.T
    np.fill_diagonal(similarity[:, :400], -1)
    nearest = np.sort(similarity, axis=1)[:, -1]
    unrelated = similarity[np.arange(400), rng.integers(0, 4_000, 400)]
    assert 0.03 < float(np.median(unrelated)) < 0.12
    assert float(np.median(nearest)) > 0.6  # other chunks of the same topic or group stand out


def test_kb_scale_writes_its_figures(tmp_path: Path) -> None:
    figures = run("kb-scale", "--sizes", "1000,3000", "--queries", "10", "--compare-at", "2000",
                  "--generator", "islands", "--out", str(tmp_path / "kb_scale.json"))  # fmt: skip
    assert [row["chunks"] for row in figures["sizes"]] == [1000, 3000]
    assert figures["generator"] == "islands" and {row["generator"] for row in figures["sizes"]} == {"islands"}
    assert [row["index"] for row in figures["comparison"]] == ["hnsw"]  # the product picks flat at 2000
    for row in figures["sizes"] + figures["comparison"]:
        assert {"build_s", "index_mb", "rss_delta_mb", "recall_at_10", "params"} <= set(row)
        assert set(row["search"]) >= LATENCY_FIELDS and set(row["exact_search"]) >= LATENCY_FIELDS
    assert {"p95_at_most_10ms", "recall_at_least_0_95"} <= set(figures["targets"])


def test_kb_search_scale_times_the_whole_search_and_its_parts(tmp_path: Path) -> None:
    data = tmp_path / "datasets"
    (data / "stackfaq").mkdir(parents=True)
    for name in ("faqs.jsonl", "queries.jsonl"):
        (data / "stackfaq" / name).write_bytes((FIXTURES / "stackfaq_tiny" / name).read_bytes())
    figures = run("kb-search-scale", "--sizes", "300,1200", "--queries", "12", "--data", str(data),
                  "--faiss-cache", str(tmp_path / "faiss"), "--out", str(tmp_path / "kss.json"))  # fmt: skip
    assert figures["threads"] == 1 and figures["sentence_pool"] > 0
    assert [row["chunks"] for row in figures["sizes"]] == [300, 1200]
    for row in figures["sizes"]:
        assert 0 < row["articles"] < row["chunks"]  # several chunks per article
        assert row["load_s"] >= 0 and row["load_rss_delta_mb"] is not None
        assert set(row["load_parts_s"]) == {"chunk_texts", "bm25_index", "centroids"}
        assert row["search"]["n"] == row["answer"]["n"] == 12 and set(row["search"]) >= LATENCY_FIELDS
        parts = {"faiss", "bm25", "question_matches", "fusion", "per_article", "centroids", "questions", "passages"}
        assert set(row["parts"]) == {f"{part}_p50_ms" for part in parts | {"rest"}}
        assert all(value >= 0 for key, value in row["parts"].items() if key != "rest_p50_ms")
        # Every article's title and 4 example questions are searched as the product searches them.
        assert row["example_questions"] == 5 * row["articles"] and row["question_index"] == "flat"
        assert row["parts"]["question_matches_p50_ms"] > 0 and row["parts"]["questions_p50_ms"] > 0
    cached = sorted(p.name for p in (tmp_path / "faiss").iterdir())
    assert cached == sorted(
        f"{name}-{count}-flat.faiss"
        for row in figures["sizes"]
        for name, count in (("layered", row["chunks"]), ("questions4", row["example_questions"]))
    )


def test_the_synthetic_kb_keeps_an_articles_chunks_together_and_its_text_real() -> None:
    from bot.bench.kb_search_scale import synthetic_kb_index

    pool = [f"Sentence number {i} about card payments." for i in range(50)]
    index = synthetic_kb_index(200, pool)
    assert len(index.chunks) == len(index.vectors) == index.faiss_index.ntotal == 200
    order = [chunk.article_id for chunk in index.chunks]
    assert order == sorted(order) and set(order) == set(index.articles)
    assert all(3 <= chunk.text.count("Sentence number") <= 6 for chunk in index.chunks)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)


def test_the_synthetic_kbs_example_questions_lie_near_their_own_articles_passages() -> None:
    from bot.bench.kb_search_scale import synthetic_kb_index
    from bot.kb.index import question_slices

    pool = [f"Sentence number {i} about card payments." for i in range(50)]
    index = synthetic_kb_index(300, pool, questions_per_article=3)
    assert index.question_vectors is not None and index.question_faiss_index.ntotal == len(index.question_vectors)
    assert len(index.question_vectors) == 4 * len(index.articles)
    assert np.allclose(np.linalg.norm(index.question_vectors, axis=1), 1.0, atol=1e-5)
    article_of_chunk = np.array([chunk.article_id for chunk in index.chunks])
    for meta, rows in question_slices(index.articles.values()):
        assert len(meta.questions) == 3
        own = index.vectors[article_of_chunk == meta.id]
        # Each question's closest passage in the KB belongs to its own article.
        for vector in index.question_vectors[rows]:
            assert (own @ vector).max() == pytest.approx((index.vectors @ vector).max())


def test_kb_real_compares_real_and_synthetic_vectors_of_one_size(tmp_path: Path) -> None:
    data = tmp_path / "datasets"
    (data / "stackfaq").mkdir(parents=True)
    for name in ("faqs.jsonl", "queries.jsonl"):
        (data / "stackfaq" / name).write_bytes((FIXTURES / "stackfaq_tiny" / name).read_bytes())
    figures = run("kb-real", "--data", str(data), "--queries", "3", "--out", str(tmp_path / "kb_real.json"))
    real, layered, islands = figures["rows"]
    assert (real["vectors"], layered["vectors"], islands["vectors"]) == ("real", "layered", "islands")
    assert real["chunks"] == layered["chunks"] == islands["chunks"] == len(real_sentences(data)) - 3
    for row in (real, layered, islands):
        assert row["median_cosine"]["nearest"] >= row["median_cosine"]["tenth"]
        assert [s["efSearch"] for s in row["sweep"]] == [16, 32, 64, 128, 256, 512]
        assert all(0 <= s["recall_at_10"] <= 1 for s in row["sweep"])
    assert json.loads((tmp_path / "kb_real.json").read_text())["rows"][0]["chunks"] == real["chunks"]


def test_embedding_speed_writes_its_figures(tmp_path: Path) -> None:
    # A three-question StackFAQ-shaped file of our own: the test must not need the shared datasets.
    tiny = FIXTURES / "stackfaq_tiny"
    figures = run(
        "embedding",
        "--sentences",
        "32",
        "--no-quality",
        "--stackfaq",
        str(tiny),
        "--out",
        str(tmp_path / "embedding.json"),
    )
    assert {"torch", "torch-int8"} <= set(figures["backends"]) <= {"torch", "torch-int8", "onnx"}
    for row in figures["backends"].values():
        assert {"sentences_per_s", "single_query_ms_p50", "mean_cosine_to_torch", "load_s"} <= set(row)


def test_tickets_without_chat_on_sqlite_and_postgresql_write_their_figures(tmp_path: Path) -> None:
    figures = run("tickets", "--creates", "8", "--replies", "8", "--chat-customers", "0",
                  "--out", str(tmp_path / "tickets.json"))  # fmt: skip
    assert set(figures["databases"]) == {"sqlite", "postgresql"}
    for row in figures["databases"].values():
        assert {"sequential", "4_threads"} == set(row["store"])
        assert row["store"]["sequential"]["tickets"] == 8
        assert {"replies_per_s", "errors", *LATENCY_FIELDS} <= set(row["api_replies"])


def test_plots_are_drawn_from_whatever_json_exists(tmp_path: Path) -> None:
    run("kb-scale", "--sizes", "500", "--queries", "5", "--compare-at", "0", "--out", str(tmp_path / "kb_scale.json"))
    assert main(["bench", "plots", "--dir", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.glob("*.png")] == ["kb_scale.png"]


@pytest.mark.parametrize(
    ("bot_says", "customer_types"),
    [
        ("What's your email address? The team replies here and by email.", "me@example.com"),
        ("Please describe the problem in a sentence or two.", DESCRIPTION),
        ("Which topic is it closest to?", "technical"),
        ("Is this about an order? If so, what's the order number (like KH-1234567)? Otherwise tap Skip.", "skip"),
        ("I've opened ticket **SUP-000001** for you.", None),
    ],
)  # fmt: skip
def test_simulated_customer_answers_the_ticket_form(bot_says: str, customer_types: str | None) -> None:
    assert _chat_answer(bot_says, "me@example.com") == customer_types


def test_an_open_loop_too_short_to_send_anything_still_gets_its_targets_judged() -> None:
    # One customer waits up to --think seconds before its first message: a 1 s run may send none.
    quiet = {"channel": "socketio", "loop": "open", "customers": 1, "kinds": {}, "errors": 0, "messages_per_s": 0.0}
    targets = _targets([quiet], levels=(1,))
    assert targets["errors_total"] == 0
    assert "socketio_open_1_worst_p95_ms" not in targets


def test_open_loop_runs_last_long_enough_for_a_hundred_do_nothing_answers() -> None:
    # One customer pausing 2 s sends plain, noop, kb, kb: a do-nothing message every 8 s.
    assert open_loop_duration(180, customers=1, think_s=2.0, min_noop_answers=100) == pytest.approx(800)
    assert open_loop_duration(180, customers=10, think_s=2.0, min_noop_answers=100) == 180
    assert open_loop_duration(60, customers=1, think_s=2.0, min_noop_answers=0) == 60


def test_server_side_turns_are_read_from_the_rasa_servers_frame_log(tmp_path: Path) -> None:
    log = tmp_path / "socket_frames.log"
    log.write_text(
        'recv A 10.000 ["user_uttered",{"message":"where is my order","session_id":"s1"}]\n'
        'recv B 10.010 ["user_uttered",{"message":"ping","session_id":"s2"}]\n'
        "write A 10.040\n"
        "write B 10.030\n"
        "write A 10.045\n"  # the KB answer's "Did this solve it?"
        'recv A 12.000 ["user_uttered",{"message":"hello","session_id":"s1"}]\n'
        "write A 12.020\n"
        'recv B 99.000 ["user_uttered",{"message":"ping","session_id":"s2"}]\n'  # after the run
        "write B 99.010\n"
        'recv C 11.000 ["user_uttered",{"message":"ping","session_id":"s3"}]\n'  # never answered
    )
    turns = read_turns(log)
    assert [(t.text, len(t.sent_at)) for t in turns] == [
        ("where is my order", 2), ("ping", 1), ("hello", 1), ("ping", 1), ("ping", 0)
    ]  # fmt: skip
    figures = server_side_figures(turns, KIND_OF_TEXT, started=9.0, ended=20.0)
    assert figures["kb"]["p50_ms"] == pytest.approx(45.0)
    assert figures["kb"]["first_to_last_part"]["p50_ms"] == pytest.approx(5.0)
    assert figures["noop"]["n"] == 1 and figures["noop"]["p50_ms"] == pytest.approx(20.0)
    assert figures["plain"]["p50_ms"] == pytest.approx(20.0)
    assert read_turns(tmp_path / "missing.log") == []


@pytest.mark.e2e
def test_conversations_bench_writes_its_figures(
    project_artifacts: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = ["--duration", "2", "--closed-duration", "1", "--levels", "1,2", "--closed-customers", "2", "--think", "0.2",
            "--sequential-duration", "1", "--min-noop-answers", "0"]  # fmt: skip
    monkeypatch.chdir(tmp_path)  # the stock bot's folder given as `make bench` gives it: relative
    stock = tmp_path / "stock"
    figures = run("conversations", *tiny, "--stock-rasa", "stock", "--out", str(tmp_path / "conversations.json"))
    assert set(figures["startup"]["ready_after_s"]) == {"actions", "rasa", "helpdesk"}
    assert set(figures["rss_mb_after_load"]) == {"actions", "rasa", "helpdesk"}
    runs = figures["runs"]
    assert {(r["channel"], r["loop"], r["customers"]) for r in runs} >= {
        ("rest", "sequential", 1), ("rest", "open", 1), ("rest", "open", 2), ("socketio", "open", 2),
        ("socketio", "closed", 2),
    }  # fmt: skip
    for r in runs:
        fields = {"messages_per_s", "errors", "messages", "stray_socket_parts", "kinds", "kb_over_noop_p95_interval"}
        assert fields <= set(r)
        for kind in r["kinds"].values():
            assert set(kind) >= LATENCY_FIELDS
    # Over socket.io the Rasa server timed each turn too, within what the customer measured.
    (open_socket,) = [r for r in runs if (r["channel"], r["loop"], r["customers"]) == ("socketio", "open", 2)]
    for kind, client in open_socket["kinds"].items():
        server = open_socket["server_side"][kind]
        assert server["n"] >= client["n"] * 0.8, (kind, server, client)
        assert 0 < server["p50_ms"] <= client["p50_ms"], (kind, server, client)
    assert open_socket["server_side"]["kb"]["first_to_last_part"]["n"] > 0
    assert all("server_side" not in r for r in runs if r["channel"] == "rest")
    assert "errors_total" in figures["targets"]
    # Stock Rasa (`rasa init`'s bot, trained here) answered "hello" in its own closed loop, and the
    # KB maximum of each channel is judged against it.
    stock_run = figures["stock_rasa"]
    assert (stock_run["channel"], stock_run["loop"], stock_run["customers"]) == ("rest", "closed", 2)
    assert stock_run["messages"] > 0 and stock_run["errors"] == 0 and set(stock_run["kinds"]) == {"plain"}
    targets = figures["targets"]
    assert targets["stock_rasa_messages_per_s"] == stock_run["messages_per_s"] > 0
    for channel in ("rest", "socketio"):
        (kb,) = [r for r in runs if (r["channel"], r["loop"], list(r["kinds"])) == (channel, "closed", ["kb"])]
        expected = round(kb["messages_per_s"] / stock_run["messages_per_s"], 2)
        assert targets[f"{channel}_closed_2_kb_over_stock_rasa"] == expected
    # The trained bot is kept: a second run starts from it instead of training again.
    (model,) = (stock / "models").glob("*.tar.gz")
    assert stock_project(stock) == stock and list((stock / "models").glob("*.tar.gz")) == [model]
    # Its maximum is drawn into the throughput plot beside the fixed reference.
    assert main(["bench", "plots", "--dir", str(tmp_path)]) == 0
    assert {"conversations.png", "throughput.png"} <= {p.name for p in tmp_path.glob("*.png")}


def test_a_stock_rasa_that_cannot_be_made_is_reported_with_its_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=re.escape(f"rasa init in {tmp_path / 'stock'} made no model")):
        stock_project(tmp_path / "stock", rasa=Path("/bin/false"))


def test_a_folder_holding_something_else_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError, match="not empty and holds no trained stock bot"):
        stock_project(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.e2e
def test_conversations_bench_runs_through_nginx_in_front_of_two_rasa_servers(
    project_artifacts: None, tmp_path: Path
) -> None:
    # Open loops only: 0 skips the sequential and the closed-loop runs.
    tiny = ["--duration", "2", "--closed-duration", "0", "--levels", "2", "--think", "0.2",
            "--sequential-duration", "0", "--channels", "rest,socketio", "--behind-nginx", "2",
            "--min-noop-answers", "0"]  # fmt: skip
    figures = run("conversations", *tiny, "--out", str(tmp_path / "conversations.json"))
    assert figures["behind_nginx"]["rasa_servers"] == 2
    # Both servers took REST messages and socket.io customers (each from its own loopback address).
    by_server = figures["behind_nginx"]["requests_by_server"]
    assert len(by_server["rest"]) == 2 and len(by_server["socket.io"]) == 2, by_server
    assert set(figures["rss_mb_after_load"]) == {"actions", "rasa", "helpdesk", "rasa-2"}
    loops = {(r["channel"], r["loop"]) for r in figures["runs"]}
    assert loops == {("rest", "open"), ("socketio", "open")}
    assert all(r["messages"] > 0 for r in figures["runs"])
    assert figures["targets"]["errors_total"] == 0


@pytest.mark.e2e
def test_tickets_through_the_chat_writes_its_figures(project_artifacts: None, tmp_path: Path) -> None:
    figures = run("tickets", "--creates", "2", "--replies", "2", "--chat-customers", "2", "--chat-duration", "3",
                  "--databases", "sqlite", "--out", str(tmp_path / "tickets.json"))  # fmt: skip
    chat = figures["databases"]["sqlite"]["chat"]
    assert {"tickets", "tickets_per_s", "failed_conversations", "p50_ms", "p95_ms"} <= set(chat)
