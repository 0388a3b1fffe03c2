"""What a trained Rasa model costs to serve: memory, load time, parse time; run with `.venv-rasa/bin/python`.

Loads the model with `Agent.load` in this process and parses every example in data/nlu.yml
(after 20 warm-up parses), then prints one line: resident memory before and after loading (Rasa
and TensorFlow are imported before the first reading, so the difference is the model), the load
time and the mean parse time per message.

    PYTHONPATH=. OMP_NUM_THREADS=1 TF_INTRA_OP_PARALLELISM_THREADS=1 \\
        .venv-rasa/bin/python eval/rasa_model_cost.py models/kestrel.tar.gz
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

import yaml
from rasa.core.agent import Agent

NLU = Path(__file__).resolve().parent.parent / "data" / "nlu.yml"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _texts() -> list[str]:
    blocks = yaml.safe_load(NLU.read_text())["nlu"]
    lines = (line.strip() for block in blocks if "intent" in block for line in block["examples"].splitlines())
    return [line[2:] for line in lines if line.startswith("- ")]


async def _parse(agent: Agent, texts: list[str]) -> float:
    for text in texts[:20]:  # warm-up: first calls build caches
        await agent.parse_message(text)
    started = time.perf_counter()
    for text in texts:
        await agent.parse_message(text)
    return (time.perf_counter() - started) / len(texts)


def main(model: str) -> None:
    texts = _texts()
    before = _rss_mb()
    started = time.perf_counter()
    agent = Agent.load(model)
    load_seconds = time.perf_counter() - started
    loaded = _rss_mb()
    per_message = asyncio.run(_parse(agent, texts))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{model}: RSS {before:.0f} MB before loading, {loaded:.0f} MB after (+{loaded - before:.0f}), "
        f"peak {peak:.0f} MB; load {load_seconds:.1f} s; parse {1000 * per_message:.1f} ms/message "
        f"({len(texts)} messages)"
    )


if __name__ == "__main__":
    main(sys.argv[1])
