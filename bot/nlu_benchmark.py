"""Intent classification on public benchmarks: CLINC150 (full) and HINT3, beside published rows.

`python -m bot nlu-bench clinc150|hint3` converts a dataset to Rasa NLU YAML in a work folder,
trains it with a Rasa pipeline (the shipped config.yml unless told otherwise), parses the
evaluation splits with `eval/rasa_nlu_parse.py` in the Rasa environment, and turns the
predictions into in-scope accuracy and out-of-scope (OOS) recall over a grid of confidence
thresholds. `--classifier minilm-lr` instead fits a logistic regression on all-MiniLM-L6-v2
sentence embeddings, a comparison row that needs no Rasa.

Metrics follow Larson et al. (2019) and HINT3: an in-scope query counts as correct only when the
intent is right *and* its confidence reaches the threshold; an OOS query counts as recalled when
its confidence is below the threshold (or, with an oos class, the class is predicted).
`bot/` never imports rasa; Rasa runs as a subprocess.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from bot.config import PROJECT_ROOT
from bot.kb.embedding import default_model_path

__all__ = [
    "OOS",
    "Example",
    "Prediction",
    "Split",
    "at_in_scope_accuracy",
    "at_oos_recall",
    "choose_threshold",
    "clinc150_summary",
    "curve",
    "hint3_summary",
    "load_clinc150",
    "load_hint3",
    "rates",
    "run_clinc150",
    "run_hint3",
    "with_epochs",
    "write_rasa_nlu",
]

OOS = "oos"  # the gold label of an out-of-scope query, whatever the dataset calls it
THRESHOLDS = [i / 100 for i in range(101)]  # 0.00, 0.01, ..., 1.00
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
PARSE_SCRIPT = PROJECT_ROOT / "eval" / "rasa_nlu_parse.py"
HINT3_BOTS = ("sofmattress", "curekart", "powerplay11")
# Published rows (../shared/datasets/README.md): Larson et al. 2019, Table 2, full data.
CLINC150_PUBLISHED = {
    "Rasa (2019), oos class": {"in_scope_accuracy": 0.915, "oos_recall": 0.453},
    "Rasa (2019), threshold": {"in_scope_accuracy": 0.909, "oos_recall": 0.312},
    "BERT, threshold": {"in_scope_accuracy": 0.962, "oos_recall": 0.523},
    "MLP on USE, oos class": {"in_scope_accuracy": 0.935, "oos_recall": 0.474},
}
Classifier = Literal["rasa", "minilm-lr"]


@dataclass(frozen=True)
class Example:
    text: str
    intent: str  # OOS for out-of-scope


@dataclass(frozen=True)
class Prediction:
    """The classifier's top intent and its confidence; `shipped_oos` is the pipeline's own verdict
    (Rasa's FallbackClassifier said nlu_fallback, or the oos class won)."""

    intent: str
    confidence: float
    shipped_oos: bool = False


@dataclass
class Split:
    name: str
    train: list[Example]
    test: list[Example]
    dev: list[Example] = field(default_factory=list)  # empty when the dataset has no dev split


def load_clinc150(path: Path, *, oos_class: bool = False) -> Split:
    """CLINC150 `data_full.json`: train on `train` (plus `oos_train` as an intent when `oos_class`),
    tune on `val` + `oos_val`, report on `test` + `oos_test`."""
    data = json.loads(Path(path).read_text())

    def examples(*keys: str) -> list[Example]:
        return [Example(text, OOS if intent == "oos" else intent) for key in keys for text, intent in data[key]]

    train = examples("train", "oos_train") if oos_class else examples("train")
    return Split("clinc150", train, examples("test", "oos_test"), examples("val", "oos_val"))


def load_hint3(folder: Path, bot: str, *, version: str = "v1") -> Split:
    """One HINT3 bot; `v1` is the data the paper's (and the published CSVs') numbers use."""
    if bot not in HINT3_BOTS:
        raise ValueError(f"unknown HINT3 bot {bot!r}; choose one of {', '.join(HINT3_BOTS)}")

    def examples(kind: str) -> list[Example]:
        with open(Path(folder) / "dataset" / version / kind / f"{bot}_{kind}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            Example(row["sentence"].strip(), OOS if row["label"] == "NO_NODES_DETECTED" else row["label"])
            for row in rows
            if row["sentence"].strip()
        ]

    return Split(f"hint3-{bot}", examples("train"), examples("test"))


def write_rasa_nlu(examples: Iterable[Example], path: Path) -> Path:
    """Rasa 3 NLU YAML, one block per intent. Brackets would read as entity markup, and a newline
    would end the example, so both become spaces; JSON quoting keeps YAML special characters safe."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        text = " ".join(example.text.replace("[", " ").replace("]", " ").split())
        if text:
            by_intent.setdefault(example.intent, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in dict.fromkeys(texts))  # drop exact duplicates
    path.write_text("\n".join(lines) + "\n")
    return path


def rates(golds: Sequence[str], predictions: Sequence[Prediction], threshold: float | None) -> dict:
    """In-scope accuracy, OOS recall and overall accuracy at one threshold.

    `threshold=None` uses the pipeline's own verdict (`shipped_oos`), i.e. Rasa's FallbackClassifier
    as configured."""
    in_scope = correct = oos = recalled = 0
    for gold, pred in zip(golds, predictions, strict=True):
        said_oos = pred.intent == OOS or (pred.shipped_oos if threshold is None else pred.confidence < threshold)
        if gold == OOS:
            oos += 1
            recalled += said_oos
        else:
            in_scope += 1
            correct += (not said_oos) and pred.intent == gold
    return {
        "threshold": threshold,
        "in_scope_accuracy": correct / in_scope if in_scope else None,
        "oos_recall": recalled / oos if oos else None,
        "accuracy": (correct + recalled) / (in_scope + oos) if in_scope + oos else None,
    }


def curve(golds: Sequence[str], predictions: Sequence[Prediction], thresholds=THRESHOLDS) -> list[dict]:
    return [rates(golds, predictions, t) for t in thresholds]


def choose_threshold(points: list[dict]) -> dict:
    """CLINC150 rule: the threshold with the highest in-scope accuracy + OOS recall on val (both
    rates weigh the same although val has 3,000 in-scope and 100 OOS queries); ties go to the
    lower threshold."""
    return max(points, key=lambda p: (round(p["in_scope_accuracy"] + p["oos_recall"], 9), -p["threshold"]))


def at_in_scope_accuracy(points: list[dict], target: float) -> dict:
    """The highest threshold whose in-scope accuracy stays at or above `target` (CLINC150's second
    rule: the published row's in-scope accuracy, met on val); threshold 0 when none does."""
    return max(
        (p for p in points if p["in_scope_accuracy"] >= target - 1e-9), key=lambda p: p["threshold"], default=points[0]
    )


def at_oos_recall(points: list[dict], target: float) -> dict:
    """The lowest threshold whose OOS recall reaches `target` (HINT3: equal OOS recall as the
    published row); the last point when none does."""
    return next((p for p in points if p["oos_recall"] >= target - 1e-9), points[-1])


# --- training and prediction ------------------------------------------------------------------


def _rasa_env() -> dict[str, str]:
    # Other jobs share this 2-core machine: one TensorFlow thread unless the caller set more.
    env = dict(os.environ)
    for name in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS", "OMP_NUM_THREADS"):
        env.setdefault(name, "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # Other people's data: the stock all-MiniLM-L6-v2, not the one adapted to our help centre.
    env.setdefault("SUPPORT_EMBEDDING_MODEL_PATH", default_model_path())
    # Rasa runs in a work folder; custom components (nlu_components/) import from the project.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def with_epochs(config: Path, epochs: int, work: Path) -> Path:
    """A copy of `config` whose DIETClassifier trains `epochs` epochs (a time-limited run)."""
    data = yaml.safe_load(Path(config).read_text())
    for component in data["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
    copy = work / f"{Path(config).stem}-epochs{epochs}.yml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    return copy


def train_rasa(config: Path, train: list[Example], work: Path) -> tuple[Path, float]:
    """`rasa train nlu` on `train`; returns the model file and the wall-clock seconds it took."""
    # Rasa runs in `work`, where a relative path does not resolve, and replaces a config path it
    # cannot find by its default with only a warning: resolve here and refuse a missing file.
    config = Path(config).resolve()
    if not config.is_file():
        raise FileNotFoundError(f"no Rasa config at {config}")
    nlu = write_rasa_nlu(train, work / "nlu.yml")
    model = work / "models" / "nlu.tar.gz"
    if os.environ.get("NLU_BENCH_REUSE_MODEL") and model.exists():  # re-scoring an earlier run
        return model, float("nan")
    started = time.perf_counter()
    command = [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(nlu)]
    command += ["--out", str(work / "models"), "--fixed-model-name", "nlu"]
    # cwd: Rasa writes a .rasa cache folder into its working directory.
    subprocess.run(command, cwd=work, env=_rasa_env(), check=True, stdout=subprocess.DEVNULL)
    return model, time.perf_counter() - started


def parse_rasa(model: Path, texts: list[str], work: Path) -> tuple[list[Prediction], float, float]:
    """Parse with the trained model in one Rasa process; returns the predictions, the seconds the
    process took (start-up and model loading included) and the seconds per message once loaded."""
    rows = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    started = time.perf_counter()
    done = subprocess.run(
        [str(RASA_PYTHON), str(PARSE_SCRIPT), str(model), str(work / "parsed.jsonl")],
        input=rows,
        capture_output=True,
        text=True,
        cwd=work,
        env=_rasa_env(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{PARSE_SCRIPT.name} failed:\n{done.stderr[-3000:]}")
    predictions = []
    for line in (work / "parsed.jsonl").read_text().splitlines():
        item = json.loads(line)
        intent, confidence = item["ranking"][0] if item["ranking"] else (OOS, 0.0)
        predictions.append(Prediction(intent, float(confidence), item["shipped_intent"] == "nlu_fallback"))
    # The script reports its own parse time (after loading the model) on its last stderr line.
    parsed = [line for line in done.stderr.splitlines() if line.startswith("parsed ")]
    per_message = float(parsed[-1].split(" in ")[1].split()[0]) / max(len(texts), 1) if parsed else float("nan")
    return predictions, time.perf_counter() - started, per_message


def _minilm_lr(train: list[Example], evaluate: list[list[Example]]) -> tuple[list[list[Prediction]], float]:
    """Logistic regression on normalised all-MiniLM-L6-v2 embeddings (the KB's embedder)."""
    from sklearn.linear_model import LogisticRegression

    from bot.kb.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    started = time.perf_counter()
    model = LogisticRegression(C=10.0, max_iter=2000)  # C: weak regularisation suits unit vectors
    model.fit(embedder.embed([e.text for e in train]), [e.intent for e in train])
    seconds = time.perf_counter() - started
    out = []
    for examples in evaluate:
        probabilities = model.predict_proba(embedder.embed([e.text for e in examples]))
        best = probabilities.argmax(axis=1)
        out.append([Prediction(str(model.classes_[b]), float(p[b])) for b, p in zip(best, probabilities, strict=True)])
    return out, seconds


def _predict(
    classifier: Classifier, config: Path, split: Split, work: Path, epochs: int | None = None
) -> tuple[list[list[Prediction]], dict]:
    parts = [split.dev, split.test] if split.dev else [split.test]
    if classifier == "minilm-lr":
        predictions, seconds = _minilm_lr(split.train, parts)
        return predictions, {"train_and_embed_seconds": round(seconds, 1)}
    if classifier != "rasa":
        raise ValueError(f"unknown classifier {classifier!r}; choose rasa or minilm-lr")
    if epochs:
        config = with_epochs(config, epochs, work)
    model, train_seconds = train_rasa(config, split.train, work)
    texts = [e.text for part in parts for e in part]
    flat, parse_seconds, per_message = parse_rasa(model, texts, work)
    predictions = [flat[: len(parts[0])], flat[len(parts[0]) :]] if len(parts) == 2 else [flat]
    return predictions, {
        "train_seconds": round(train_seconds, 1),
        "parse_seconds": round(parse_seconds, 1),
        "parse_ms_per_message": round(1000 * per_message, 2),
    }


@contextlib.contextmanager
def _work_dir(work: Path | None) -> Iterator[Path]:
    """`work` when given (kept for inspection), else a temporary folder that is removed afterwards:
    a CLINC150 model alone is about 150 MB."""
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
        yield work
        return
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as folder:
        yield Path(folder)


def run_clinc150(
    dataset: Path,
    *,
    out: Path,
    config: Path = PROJECT_ROOT / "config.yml",
    classifier: Classifier = "rasa",
    oos_class: bool = False,
    work: Path | None = None,
    label: str | None = None,
    epochs: int | None = None,
) -> dict:
    """Train, tune the threshold on val + oos_val, report on test + oos_test; write JSON and PNG."""
    split = load_clinc150(dataset, oos_class=oos_class)
    with _work_dir(work) as folder:
        (dev, test), timing = _predict(classifier, config, split, folder, epochs)
    dev_golds, test_golds = [e.intent for e in split.dev], [e.intent for e in split.test]
    dev_curve, test_curve = curve(dev_golds, dev), curve(test_golds, test)
    chosen = choose_threshold(dev_curve)
    # Second rule, the mirror of HINT3's: hold in-scope accuracy at the published Rasa row's
    # (on val) and see which OOS recall that buys on test.
    matched = at_in_scope_accuracy(dev_curve, CLINC150_PUBLISHED["Rasa (2019), oos class"]["in_scope_accuracy"])
    result = {
        "dataset": "clinc150 (data_full.json)",
        "variant": label or _label(classifier, config, oos_class),
        "classifier": classifier,
        "config": str(config) if classifier == "rasa" else None,
        "diet_epochs_override": epochs,
        "oos_class": oos_class,
        "train_examples": len(split.train),
        "threshold_rule": "max of in-scope accuracy + OOS recall on val/oos_val, applied to test",
        "val_at_threshold": chosen,
        "test_at_threshold": rates(test_golds, test, chosen["threshold"]),
        "test_no_threshold": rates(test_golds, test, 0.0),
        "matched_rule": "highest threshold whose val in-scope accuracy is still >= 91.5 (Rasa 2019, oos class)",
        "val_at_matched": matched,
        "test_at_matched": rates(test_golds, test, matched["threshold"]),
        **timing,
        "published": CLINC150_PUBLISHED,
        "val_curve": dev_curve,
        "test_curve": test_curve,
    }
    if classifier == "rasa":
        result["test_as_shipped_fallback"] = rates(test_golds, test, None)
    result["beats_rasa_2019"] = {
        f"{name} ({rule})": t["in_scope_accuracy"] > row["in_scope_accuracy"] and t["oos_recall"] > row["oos_recall"]
        for rule, t in (("sum rule", result["test_at_threshold"]), ("matched rule", result["test_at_matched"]))
        for name, row in CLINC150_PUBLISHED.items()
        if name.startswith("Rasa")
    }
    _write(result, out, _plot_clinc150)
    return result


def run_hint3(
    folder: Path,
    *,
    out: Path,
    config: Path = PROJECT_ROOT / "config.yml",
    classifier: Classifier = "rasa",
    bots: Sequence[str] = HINT3_BOTS,
    version: str = "v1",
    work: Path | None = None,
    label: str | None = None,
    epochs: int | None = None,
) -> dict:
    """Each bot: train, parse test, compare in-scope accuracy at the published Rasa row's OOS recall."""
    result: dict = {
        "dataset": f"hint3 {version} (full train)",
        "variant": label or _label(classifier, config, False),
        "classifier": classifier,
        "config": str(config) if classifier == "rasa" else None,
        "diet_epochs_override": epochs,
        "threshold_rule": "lowest threshold whose test OOS recall reaches the published Rasa row's "
        "(HINT3 has no dev split; the published rows also chose the threshold on test)",
        "bots": {},
    }
    for bot in bots:
        split = load_hint3(folder, bot, version=version)
        with _work_dir(work / bot if work else None) as bot_work:
            (test,), timing = _predict(classifier, config, split, bot_work, epochs)
        golds = [e.intent for e in split.test]
        points = curve(golds, test)
        published_curve = _published_hint3(folder, bot)
        published = max(published_curve, key=lambda p: p["accuracy"])  # the README's row
        ours = at_oos_recall(points, published["oos_recall"])
        result["bots"][bot] = {
            "train_examples": len(split.train),
            "test_in_scope": sum(g != OOS for g in golds),
            "test_oos": sum(g == OOS for g in golds),
            **timing,
            "published_rasa": published,
            "at_published_oos_recall": ours,
            "beats_published_in_scope_accuracy": ours["in_scope_accuracy"] > published["in_scope_accuracy"]
            and ours["oos_recall"] >= published["oos_recall"] - 1e-9,
            "best_accuracy": max(points, key=lambda p: p["accuracy"]),
            "curve": points,
            "published_rasa_curve": published_curve,
        }
        if classifier == "rasa":
            result["bots"][bot]["as_shipped_fallback"] = rates(golds, test, None)
    _write(result, out, _plot_hint3)
    return result


def _published_hint3(folder: Path, bot: str) -> list[dict]:
    with open(Path(folder) / "results" / f"rasa_{bot}.csv", newline="") as handle:
        return [
            {
                "threshold": float(row["Threshold"]),
                "in_scope_accuracy": float(row["Inscope Accuracy"]),
                "oos_recall": float(row["OOS Recall"]),
                "accuracy": float(row["Accuracy"]),
            }
            for row in csv.DictReader(handle)
        ]


def _label(classifier: str, config: Path, oos_class: bool) -> str:
    name = "MiniLM + logistic regression" if classifier == "minilm-lr" else f"Rasa, {Path(config).name}"
    return name + (", oos class" if oos_class else "")


def _write(result: dict, out: Path, plot) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    with contextlib.suppress(ImportError):  # matplotlib is a dev dependency; the JSON is the result
        plot(result, out.with_suffix(".png"))


def _plot_clinc150(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    points = result["test_curve"]
    ax.plot([p["oos_recall"] for p in points], [p["in_scope_accuracy"] for p in points], label=result["variant"])
    for rule, key in (("sum rule", "test_at_threshold"), ("matched rule", "test_at_matched")):
        chosen = result[key]
        ax.scatter([chosen["oos_recall"]], [chosen["in_scope_accuracy"]], marker="o", zorder=3)
        ax.annotate(
            f"t={chosen['threshold']} ({rule})", (chosen["oos_recall"], chosen["in_scope_accuracy"]), fontsize=7
        )
    for name, row in result["published"].items():
        ax.scatter([row["oos_recall"]], [row["in_scope_accuracy"]], marker="x", label=f"published {name}")
    ax.set_ylim(0.5, 1.0)
    ax.set(xlabel="OOS recall (test)", ylabel="in-scope accuracy (test)", title="CLINC150 full: threshold sweep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_hint3(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bots = result["bots"]
    fig, axes = plt.subplots(1, len(bots), figsize=(4.5 * len(bots), 4), squeeze=False)
    for ax, (bot, row) in zip(axes[0], bots.items(), strict=True):
        published = ("Rasa DIET+ConveRT (published)", row["published_rasa_curve"])
        for name, points in ((result["variant"], row["curve"]), published):
            ax.plot([p["oos_recall"] for p in points], [p["in_scope_accuracy"] for p in points], marker=".", label=name)
        ax.set(xlabel="OOS recall", ylabel="in-scope accuracy", title=f"HINT3 {bot}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}"


def clinc150_summary(result: dict) -> str:
    """The figures a person reads, as printed by `python -m bot nlu-bench clinc150`."""
    t, shipped = result["test_at_threshold"], result.get("test_as_shipped_fallback")
    lines = [
        f"CLINC150 full, {result['variant']}: trained on {result['train_examples']} examples"
        + (f" in {result['train_seconds']:.0f} s" if "train_seconds" in result else ""),
        f"  threshold {t['threshold']} (chosen on val): in-scope accuracy {_pct(t['in_scope_accuracy'])}, "
        f"OOS recall {_pct(t['oos_recall'])}",
    ]
    m = result["test_at_matched"]
    lines.append(
        f"  threshold {m['threshold']} (val in-scope >= 91.5): in-scope accuracy {_pct(m['in_scope_accuracy'])}, "
        f"OOS recall {_pct(m['oos_recall'])}"
    )
    if shipped:
        lines.append(
            f"  as shipped (FallbackClassifier): in-scope accuracy {_pct(shipped['in_scope_accuracy'])}, "
            f"OOS recall {_pct(shipped['oos_recall'])}"
        )
    for name, row in result["published"].items():
        lines.append(f"  published {name}: {_pct(row['in_scope_accuracy'])} / {_pct(row['oos_recall'])}")
    lines.append(f"  beats Rasa 2019 on both metrics: {result['beats_rasa_2019']}")
    return "\n".join(lines)


def hint3_summary(result: dict) -> str:
    """The figures a person reads, as printed by `python -m bot nlu-bench hint3`."""
    lines = [f"HINT3 {result['dataset']}, {result['variant']}:"]
    for bot, row in result["bots"].items():
        ours, published = row["at_published_oos_recall"], row["published_rasa"]
        lines.append(
            f"  {bot:<12} at OOS recall {_pct(ours['oos_recall'])} (t={ours['threshold']}): in-scope "
            f"{_pct(ours['in_scope_accuracy'])} vs published Rasa {_pct(published['in_scope_accuracy'])} at "
            f"OOS recall {_pct(published['oos_recall'])}; beats: {row['beats_published_in_scope_accuracy']}"
        )
    return "\n".join(lines)
