"""The NLU benchmark's conversion and metrics on tiny synthetic splits (never the real figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot import nlu_benchmark as nb
from bot.nlu_benchmark import OOS, Example, Prediction

INTENTS = {
    "greet": ["hello there", "hi", "good morning", "hey you", "hello friend"],
    "bye": ["goodbye", "see you later", "bye bye", "farewell now", "catch you later"],
    "refund": ["i want my money back", "refund please", "give me a refund", "return my money", "refund my order"],
}


def _clinc_file(tmp_path: Path) -> Path:
    pairs = [[text, intent] for intent, texts in INTENTS.items() for text in texts]
    data = {
        "train": pairs,
        "val": pairs[:6],
        "test": pairs[6:],
        "oos_train": [["what is the weather", "oos"]],
        "oos_val": [["sing me a song", "oos"]],
        "oos_test": [["who won the match", "oos"], ["tell me a joke", "oos"]],
    }
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(data))
    return path


def test_rasa_yaml_keeps_every_intent_and_drops_entity_markup(tmp_path: Path) -> None:
    examples = [Example("hello [there](name)", "greet"), Example("hi", "greet"), Example("hi", "greet")]
    examples.append(Example("line one\nline two", "multi_line"))
    data = yaml.safe_load(nb.write_rasa_nlu(examples, tmp_path / "nlu.yml").read_text())
    blocks = {block["intent"]: block["examples"].splitlines() for block in data["nlu"]}
    assert blocks == {"greet": ["- hello there (name)", "- hi"], "multi_line": ["- line one line two"]}


def test_rates_count_low_confidence_as_out_of_scope() -> None:
    golds = ["greet", "bye", OOS, OOS]
    predictions = [
        Prediction("greet", 0.9),
        Prediction("greet", 0.8),  # wrong intent: never correct
        Prediction("bye", 0.3),
        Prediction("greet", 0.7, shipped_oos=True),
    ]
    assert nb.rates(golds, predictions, 0.5) == {
        "threshold": 0.5,
        "in_scope_accuracy": 0.5,
        "oos_recall": 0.5,
        "accuracy": 0.5,
    }
    # threshold=None: the pipeline's own verdict (Rasa's FallbackClassifier) decides.
    assert nb.rates(golds, predictions, None)["oos_recall"] == 0.5
    # A predicted oos class counts as out of scope at any threshold.
    assert nb.rates([OOS], [Prediction(OOS, 0.99)], 0.0)["oos_recall"] == 1.0


def test_threshold_rules() -> None:
    points = nb.curve(["a", "a", OOS], [Prediction("a", 0.9), Prediction("a", 0.4), Prediction("a", 0.2)])
    best = nb.choose_threshold(points)
    assert (best["threshold"], best["in_scope_accuracy"], best["oos_recall"]) == (0.21, 1.0, 1.0)
    assert nb.at_oos_recall(points, 1.0)["threshold"] == 0.21
    assert nb.at_oos_recall(points, 1.01)["threshold"] == 1.0  # unreachable: the strictest point


def test_loaders_map_out_of_scope_labels(tmp_path: Path) -> None:
    split = nb.load_clinc150(_clinc_file(tmp_path), oos_class=True)
    assert len(split.train) == 16 and split.train[-1].intent == OOS
    assert [e.intent for e in split.test].count(OOS) == 2 and len(split.dev) == 7

    folder = tmp_path / "hint3"
    for kind, rows in (("train", "hi there,GREET\n"), ("test", "hi,GREET\nrandom words,NO_NODES_DETECTED\n")):
        (folder / "dataset" / "v1" / kind).mkdir(parents=True)
        (folder / "dataset" / "v1" / kind / f"curekart_{kind}.csv").write_text("sentence,label\n" + rows)
    split = nb.load_hint3(folder, "curekart")
    assert [e.intent for e in split.test] == ["GREET", OOS]
    with pytest.raises(ValueError, match="unknown HINT3 bot 'acme'; choose one of sofmattress"):
        nb.load_hint3(folder, "acme")


def test_clinc150_report_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON's shape, with a fake classifier standing in for a Rasa training."""

    def fake_predict(classifier, config, split, work, epochs=None):
        guess = [
            [Prediction(e.intent if e.intent != OOS else "greet", 0.2 if e.intent == OOS else 0.9) for e in part]
            for part in (split.dev, split.test)
        ]
        return guess, {"train_seconds": 1.0}

    monkeypatch.setattr(nb, "_predict", fake_predict)
    out = tmp_path / "figures" / "nlu_clinc150.json"
    result = nb.run_clinc150(_clinc_file(tmp_path), out=out)
    saved = json.loads(out.read_text())
    assert saved == result
    for key in ("val_at_threshold", "test_at_threshold", "test_curve", "val_curve", "published", "beats_rasa_2019"):
        assert key in saved
    assert len(saved["test_curve"]) == len(nb.THRESHOLDS)
    assert set(saved["test_at_threshold"]) == {"threshold", "in_scope_accuracy", "oos_recall", "accuracy"}
    assert "CLINC150 full" in nb.clinc150_summary(saved)


@pytest.mark.skipif(not nb.RASA.exists(), reason="needs the Rasa environment (.venv-rasa)")
@pytest.mark.timeout(300)
def test_one_real_rasa_training(tmp_path: Path) -> None:
    """3 intents x 5 examples through `rasa train nlu` and the parse script (about a minute)."""
    config = tmp_path / "config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: smoke\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n"
        "  - name: DIETClassifier\n    epochs: 5\n    entity_recognition: false\n"
        "  - name: FallbackClassifier\n    threshold: 0.5\npolicies: []\n"
    )
    result = nb.run_clinc150(_clinc_file(tmp_path), out=tmp_path / "out.json", config=config, work=tmp_path / "w")
    assert result["train_seconds"] > 0 and result["parse_ms_per_message"] > 0
    assert set(result["test_as_shipped_fallback"]) == {"threshold", "in_scope_accuracy", "oos_recall", "accuracy"}


@pytest.mark.skipif(not nb.RASA_PYTHON.exists(), reason="needs the Rasa environment (.venv-rasa)")
@pytest.mark.timeout(180)
def test_minilm_featurizer_matches_sentence_transformers() -> None:
    """The Rasa-side MiniLM (no torch: onnxruntime on the export, or numpy) gives the KB embedder's vectors."""
    import subprocess

    import numpy as np

    from bot.config import get_settings
    from bot.kb.embedding import SentenceTransformerEmbedder

    onnx_path = get_settings().onnx_dir / "all-MiniLM-L6-v2" / "model.onnx"
    assert onnx_path.exists(), "make setup exports the model (python -m bot kb export-onnx)"
    texts = ["Where is my refund?", "Héllo, I can't log-in!!", "x"]
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from nlu_components.minilm_featurizer import MiniLMEncoder, default_model_path\n"
        "texts = json.loads(sys.argv[1])\n"
        "out = {}\n"
        "for onnx in (sys.argv[2], '/nonexistent/model.onnx'):\n"
        "    encoder = MiniLMEncoder(default_model_path(), onnx_path=Path(onnx))\n"
        "    out[encoder.backend] = encoder.encode(texts).tolist()\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(nb.RASA_PYTHON), "-c", script, json.dumps(texts), str(onnx_path)],
        cwd=nb.PROJECT_ROOT,
        env=nb._rasa_env(),
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    backends = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(backends) == {"onnxruntime", "numpy"}
    reference = SentenceTransformerEmbedder().embed(texts)
    for vectors in backends.values():
        assert (np.array(vectors) * reference).sum(axis=1).min() > 0.9999


# Runs in .venv-rasa. Trains MiniLM + DenseIntentClassifier twice on the same tiny data: inside a
# real `rasa train nlu` pipeline (then loaded back from the archive by Agent.load), and as bare
# components on a LocalModelStorage (then reloaded with DenseIntentClassifier.load). Prints JSON.
_DENSE_CLASSIFIER_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
import numpy as np
from rasa.core.agent import Agent
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.model_training import train_nlu
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression
from nlu_components.dense_intent_classifier import DenseIntentClassifier
from nlu_components.minilm_featurizer import MiniLMFeaturizer

work, texts = Path(sys.argv[1]), json.loads(sys.argv[2])
model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"), fixed_model_name="nlu")
agent = Agent.load(model)
parsed = [asyncio.run(agent.parse_message(text)) for text in texts]

featurizer = MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "minilm")
(work / "storage").mkdir()
storage, resource = LocalModelStorage(work / "storage"), Resource("dense")
context = ExecutionContext(GraphSchema({}), node_name="dense")
training = featurizer.process_training_data(load_data(str(work / "nlu.yml")))
trained = DenseIntentClassifier.create({}, storage, resource, context)
trained.train(training)
loaded = DenseIntentClassifier.load({}, storage, resource, context)

# Two intents: sklearn's binary model (one score, logistic); one intent: nothing to train.
two = [m for m in training.intent_examples if m.get("intent") in ("greet", "bye")]
binary = DenseIntentClassifier.create({}, storage, Resource("binary"), context)
binary.train(TrainingData(two))
X = np.vstack([m.get_dense_features("text")[1].features for m in two])
reference = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(X, [m.get("intent") for m in two])
single = DenseIntentClassifier.create({}, storage, Resource("single"), context)
single.train(TrainingData([m for m in two if m.get("intent") == "greet"]))

def rank(classifier):
    messages = featurizer.process([Message(data={"text": text}) for text in texts])
    return [[m.get("intent"), m.get("intent_ranking")] for m in classifier.process(messages)]

out = {"parsed": [[p["intent"], p["intent_ranking"]] for p in parsed], "trained": rank(trained), "loaded": rank(loaded)}
out["text_vectors"] = [p.get("text_vector") for p in parsed]
out["binary_classes"] = [binary.classes, [str(c) for c in reference.classes_]]
out["binary_max_difference"] = float(abs(binary.predict_proba(X) - reference.predict_proba(X)).max())
out["single"] = rank(single)[0]
print(json.dumps(out))
"""


@pytest.mark.skipif(not nb.RASA_PYTHON.exists(), reason="needs the Rasa environment (.venv-rasa)")
@pytest.mark.timeout(180)
def test_dense_intent_classifier_in_a_rasa_pipeline(tmp_path: Path) -> None:
    """MiniLM + DenseIntentClassifier + FallbackClassifier: held-out paraphrases get their intent,
    an empty message falls back, and the model loaded from storage predicts what was trained."""
    import subprocess

    intents = {**INTENTS, "track_order": ["where is my order", "track my package", "has my order shipped"]}
    intents["track_order"] += ["when will my delivery arrive", "order status please"]
    examples = [Example(text, intent) for intent, texts in intents.items() for text in texts]
    nb.write_rasa_nlu(examples, tmp_path / "nlu.yml")
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: smoke\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: nlu_components.minilm_featurizer.MiniLMFeaturizer\n"
        "  - name: nlu_components.dense_intent_classifier.DenseIntentClassifier\n"
        "  - name: FallbackClassifier\n    threshold: 0.5\n    ambiguity_threshold: 0.1\npolicies: []\n"
    )
    held_out = {"could I get my money returned": "refund", "where is my parcel right now": "track_order"}
    too_long = "my parcel never arrived and " * 30  # over the featurizer's 128 word pieces
    texts = [*held_out, too_long, ""]
    done = subprocess.run(
        [str(nb.RASA_PYTHON), "-c", _DENSE_CLASSIFIER_SCRIPT, str(tmp_path), json.dumps(texts)],
        cwd=tmp_path,  # Rasa writes a .rasa cache folder into its working directory
        env=nb._rasa_env(),
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    parsed = {text: (intent, ranking) for text, (intent, ranking) in zip(texts, out["parsed"], strict=True)}
    for text, gold in held_out.items():
        intent, ranking = parsed[text]
        assert intent["name"] == gold and intent["confidence"] >= 0.5, (text, ranking)
        assert len(ranking) == len(intents)  # every intent ranked (fewer than ranking_length)
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)
    assert parsed[""][0]["name"] == "nlu_fallback"
    # No features (empty text): no intent, confidence 0, so the FallbackClassifier can act.
    assert out["trained"][-1] == [{"name": None, "confidence": 0.0}, []]

    assert out["loaded"] == out["trained"]  # same arrays from storage, same probabilities

    # The parse data carries the sentence vector the KB would compute, for the KB action to reuse;
    # not for a text the featurizer had to cut, nor for an empty one.
    from bot.kb.embedding import SentenceTransformerEmbedder
    from nlu_components import shared_vector

    embedder = SentenceTransformerEmbedder()
    vectors = dict(zip(texts, out["text_vectors"], strict=True))
    for text in held_out:
        shared = shared_vector.decode(vectors[text], model=embedder.name, dimension=embedder.dimension)
        assert shared is not None and float(shared @ embedder.embed([text])[0]) > 0.9999
    assert vectors[too_long] is None and vectors[""] is None
    binary_classes, sklearn_classes = out["binary_classes"]
    assert binary_classes == sklearn_classes and out["binary_max_difference"] < 1e-4
    assert out["single"] == [{"name": None, "confidence": 0.0}, []]  # one intent: left untrained
    # The pipeline's model, packed into an archive and loaded by Agent.load, ranks as the bare one.
    for (_, ranking), (_, ours) in zip(out["parsed"][:-1], out["trained"][:-1], strict=True):
        assert [r["name"] for r in ranking] == [r["name"] for r in ours]
        assert [r["confidence"] for r in ranking] == pytest.approx([r["confidence"] for r in ours], abs=1e-5)
