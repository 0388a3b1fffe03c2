"""PNG figures from the JSON the benchmarks wrote (each figure from one JSON file, if present)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["make_plots"]

KIND_COLOURS = {"plain": "tab:gray", "noop": "tab:blue", "kb": "tab:orange"}


def make_plots(figures_dir: Path) -> list[Path]:
    """Write every figure whose JSON exists; returns the PNGs written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    written = []
    for name, draw in (
        ("conversations", _conversations),
        ("throughput", _throughput),
        ("kb_scale", _kb_scale),
        ("embedding", _embedding),
        ("tickets", _tickets),
        ("kb_real_debian_1m", _kb_real),
    ):
        source = figures_dir / f"{'conversations' if name == 'throughput' else name}.json"
        if source.exists():
            path = figures_dir / f"{name}.png"
            draw(json.loads(source.read_text()), path)
            written.append(path)
    return written


def _save(fig: Any, path: Path, machine: dict[str, Any]) -> None:
    fig.text(0.99, 0.01, f"{machine['cpus']} cores, no GPU, {machine['measured_at']}", ha="right", fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)


def _conversations(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    open_runs = [r for r in data["runs"] if r["loop"] == "open"]
    channels = sorted({r["channel"] for r in open_runs}, key=["rest", "socketio"].index)
    fig, axes = plt.subplots(1, len(channels), figsize=(5 * len(channels), 3.8), squeeze=False, sharey=True)
    for ax, channel in zip(axes[0], channels, strict=True):
        runs = sorted((r for r in open_runs if r["channel"] == channel), key=lambda r: r["customers"])
        for kind, colour in KIND_COLOURS.items():
            xs = [r["customers"] for r in runs if r["kinds"].get(kind, {}).get("p95_ms")]
            ax.plot(
                xs,
                [r["kinds"][kind]["p95_ms"] for r in runs if r["customers"] in xs],
                "o-",
                color=colour,
                label=f"{kind} p95",
            )
            ax.plot(
                xs,
                [r["kinds"][kind]["p50_ms"] for r in runs if r["customers"] in xs],
                "o:",
                color=colour,
                alpha=0.6,
                label=f"{kind} p50",
            )
        ax.axhline(1000, color="red", linewidth=0.8, linestyle="--", label="1 s target (p95)")
        ax.set(xscale="log", yscale="log", xlabel="concurrent customers (about 2 s between messages)", title=channel)
        ax.set_xticks([r["customers"] for r in runs], [str(r["customers"]) for r in runs])
    axes[0][0].set_ylabel("latency per message (ms)")
    axes[0][-1].legend(fontsize=7)
    _save(fig, path, data["machine"])  # fmt: skip


def _throughput(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    closed = [r for r in data["runs"] if r["loop"] == "closed"]
    channels = sorted({r["channel"] for r in closed}, key=["rest", "socketio"].index)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    width = 0.8 / max(1, len(channels))
    for i, channel in enumerate(channels):
        runs = [r for r in closed if r["channel"] == channel]
        kinds = [next(iter(r["kinds"])) for r in runs]
        xs = [list(KIND_COLOURS).index(k) + i * width for k in kinds]
        bars = ax.bar(xs, [r["messages_per_s"] for r in runs], width, label=channel)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.axhline(data["targets"]["stock_rasa_reference_messages_per_s"], color="red", linestyle="--", linewidth=0.8,
               label="stock Rasa 3.6 (issue's reference)")  # fmt: skip
    if data.get("stock_rasa"):  # measured in the same run (bench conversations --stock-rasa)
        ax.axhline(data["stock_rasa"]["messages_per_s"], color="black", linewidth=1.2,
                   label="stock Rasa 3.6, rasa init's bot, REST: this run")  # fmt: skip
    ax.set_xticks([i + width * (len(channels) - 1) / 2 for i in range(len(KIND_COLOURS))], list(KIND_COLOURS))
    customers = closed[0]["customers"] if closed else "?"
    ax.set(ylabel="messages per second", title=f"closed loop, {customers} conversations, no pause")
    ax.legend(fontsize=7)
    _save(fig, path, data["machine"])


def _kb_scale(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = data["sizes"]
    sizes = [r["chunks"] for r in rows]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    left.plot(sizes, [_floor(r["search"]["p95_ms"]) for r in rows], "o-", label="product index p95")
    left.plot(sizes, [_floor(r["search"]["p50_ms"]) for r in rows], "o:", label="product index p50")
    left.plot(sizes, [_floor(r["exact_search"]["p95_ms"]) for r in rows], "s--", color="gray", label="exact (flat) p95")
    left.axhline(10, color="red", linestyle="--", linewidth=0.8, label="10 ms target at 1M")
    for r in rows:
        left.annotate(
            r["index"],
            (r["chunks"], _floor(r["search"]["p95_ms"])),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    left.set(xscale="log", yscale="log", xlabel="chunks (384-dim)", ylabel="single-query search (ms)")
    left.legend(fontsize=7)
    recalls = [r["recall_at_10"] for r in rows]
    middle.plot(sizes, recalls, "o-", label="recall@10 vs exact")
    middle.axhline(0.95, color="red", linestyle="--", linewidth=0.8, label="0.95 target at 1M")
    generator = data.get("generator", "islands")  # runs before the layered generator were islands
    middle.set(
        xscale="log", ylim=(min(0.8, min(recalls) - 0.05), 1.01), xlabel=f"chunks ({generator} generator)",
        ylabel="recall@10",
    )  # fmt: skip
    middle.legend(fontsize=7, loc="lower left")
    right.bar([f"{s:,}" for s in sizes], [r["build_s"] for r in rows], color="tab:green")
    right.bar_label(right.containers[0], [f"{r['build_s']:.1f} s\n{r['index']}" for r in rows], fontsize=7)
    right.set(xlabel="chunks", ylabel="index build time (s)")
    right.margins(y=0.2)
    _save(fig, path, data["machine"])  # fmt: skip


def _kb_real(data: dict[str, Any], path: Path) -> None:
    """Recall@10 against search time over the efSearch sweep: real vectors beside each generator's."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for row in data["rows"]:
        sweep = row["sweep"]
        ax.plot([_floor(s["p95_ms"]) for s in sweep], [s["recall_at_10"] for s in sweep], "o-", label=row["vectors"])
        for s in sweep:
            ax.annotate(str(s["efSearch"]), (_floor(s["p95_ms"]), s["recall_at_10"]), fontsize=6, xytext=(3, -8),
                        textcoords="offset points")  # fmt: skip
    ax.axhline(0.95, color="red", linestyle="--", linewidth=0.8, label="0.95 target")
    chunks = data["rows"][0]["chunks"]
    ax.set(
        xscale="log", xlabel="single-query search p95 (ms), labelled by efSearch", ylabel="recall@10 vs exact",
        title=f"HNSW (M 32) on {chunks:,} {data.get('corpus', 'datasets')} passages: real vs synthetic vectors",
    )  # fmt: skip
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower right")
    _save(fig, path, data["machine"])


def _floor(value: float) -> float:
    """Timer resolution: a 0.0 ms reading is drawn at 0.01 ms so log axes still work."""
    return max(value, 0.01)


def _embedding(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    names = list(data["backends"])
    rows = [data["backends"][n] for n in names]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    bars = ax.bar(
        names, [r["sentences_per_s"] for r in rows], color=["tab:blue", "tab:orange", "tab:green"][: len(rows)]
    )
    labels = [
        f"{r['sentences_per_s']:.0f}/s"
        + (f"\nR@1 {r['stackfaq_r_at_1']['dense']:.3f}" if "stackfaq_r_at_1" in r else "")
        for r in rows
    ]
    ax.bar_label(bars, labels, fontsize=8)
    ax.set(ylabel="sentences per second (batch 64)", title="all-MiniLM-L6-v2 embedding throughput (StackFAQ dense R@1)")
    ax.margins(y=0.25)
    _save(fig, path, data["machine"])


def _tickets(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    databases = list(data["databases"])
    measures = [
        ("store, 1 writer", lambda d: d["store"]["sequential"]["tickets_per_s"]),
        ("store, 4 threads", lambda d: next(v for k, v in d["store"].items() if k != "sequential")["tickets_per_s"]),
        ("API replies", lambda d: d["api_replies"]["replies_per_s"]),
        ("chat (whole form)", lambda d: d["chat"]["tickets_per_s"]),
    ]
    if not all("chat" in row for row in data["databases"].values()):
        measures.pop()  # run without a stack (--chat-customers 0)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / len(databases)
    for i, database in enumerate(databases):
        values = [get(data["databases"][database]) for _, get in measures]
        bars = ax.bar([m + i * width for m in range(len(measures))], values, width, label=database)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks([m + width * (len(databases) - 1) / 2 for m in range(len(measures))], [m for m, _ in measures])
    ax.set(yscale="log", ylabel="per second (log)", title="tickets created / replies posted per second")
    ax.legend(fontsize=7)
    _save(fig, path, data["machine"])
