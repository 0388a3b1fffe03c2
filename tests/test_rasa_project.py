"""The Rasa project itself: its data validates, the KB articles stay out of training, the test stories pass."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from tests.conftest import rasa_cmd, rasa_env


def test_rasa_data_validates() -> None:
    result = rasa_cmd("data", "validate", "--domain", "domain.yml", "--data", "data", "--config", "config.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_kb_articles_are_not_training_data() -> None:
    """rasa reads all of data/, where the KB lives too: only data/*.yml may become training data."""
    script = (
        "import json\n"
        "from rasa.shared.importers.importer import TrainingDataImporter\n"
        "i = TrainingDataImporter.load_from_config('config.yml', 'domain.yml', ['data'])\n"
        "print(json.dumps(len(i.get_nlu_data().intent_examples)))\n"
    )
    python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    out = subprocess.run([str(python), "-c", script], cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    nlu = yaml.safe_load((PROJECT_ROOT / "data" / "nlu.yml").read_text())["nlu"]
    in_nlu_yml = sum(
        len([line for line in block["examples"].splitlines() if line.strip()]) for block in nlu if "intent" in block
    )
    assert any((PROJECT_ROOT / "data" / "kb").glob("*.md"))
    assert loaded == in_nlu_yml


def test_rasa_test_stories_pass(project_artifacts: None, tmp_path: Path) -> None:
    result = rasa_cmd(
        "test", "core", "--stories", "tests/test_stories.yml", "--model", "models/kestrel.tar.gz",
        "--out", str(tmp_path), "--fail-on-prediction-errors",
    )  # fmt: skip
    failed = (
        (tmp_path / "failed_test_stories.yml").read_text() if (tmp_path / "failed_test_stories.yml").exists() else ""
    )
    assert result.returncode == 0, failed or (result.stdout[-3000:] + result.stderr[-3000:])
