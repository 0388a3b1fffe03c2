"""Parse JSON lines {"id", "text"} with a trained Rasa NLU model; run with `.venv-rasa/bin/python`.

Used by `python -m bot nlu-bench`: `bot/` never imports rasa, so this small script is the
only code that runs inside the Rasa environment. It loads the model once and writes one JSON
line per input: the id, the intent ranking (top 3) and the intent Rasa would hand to the
dialogue (``nlu_fallback`` when the FallbackClassifier fired).

    .venv-rasa/bin/python eval/rasa_nlu_parse.py MODEL.tar.gz OUT.jsonl < in.jsonl

The output goes to a file, not stdout: Rasa and TensorFlow print to stdout on their own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _parse_all(model_path: str, out_path: str) -> None:
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(model_path)
    print(f"model loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    count, started = 0, time.perf_counter()
    with open(out_path, "w") as out_file:
        for line in sys.stdin:
            if not line.strip():
                continue
            item = json.loads(line)
            result = await agent.parse_message(item["text"])
            # The FallbackClassifier puts nlu_fallback on top of the ranking; the benchmark wants
            # the classifier's own ranking, so it is dropped here and reported as `shipped_intent`.
            ranking = [
                [r["name"], round(float(r["confidence"]), 6)]
                for r in result.get("intent_ranking", [])
                if r["name"] != "nlu_fallback"
            ][:3]
            out = {"id": item["id"], "ranking": ranking, "shipped_intent": result["intent"]["name"]}
            out_file.write(json.dumps(out) + "\n")
            count += 1
    elapsed = time.perf_counter() - started
    print(f"parsed {count} messages in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(_parse_all(sys.argv[1], sys.argv[2]))
