"""Stock Rasa 3.6 measured in the same run as this project's stack.

The measurement issue asks for the KB answers' maximum "above stock Rasa's" and gives stock
Rasa's as about 40 messages/s with 10 closed-loop conversations. On this machine kind the same
code runs up to twice as fast in one hour as in another (docs/benchmarks.md), so a figure from
another day decides nothing. This module measures stock Rasa itself, in the same run: the bot
`rasa init` makes, untouched (its default pipeline and policies, the in-memory tracker store,
plain `rasa run` with the REST channel), answering "hello" to closed-loop REST customers.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.launcher import Service, Stack, wait_until_healthy

__all__ = ["stock_project", "stock_rasa_server"]

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
READY_TIMEOUT_S = 180.0
# Rasa reports usage to its servers unless told not to; this machine cannot reach them anyway.
QUIET = {"RASA_TELEMETRY_ENABLED": "false"}


def stock_project(root: Path, rasa: Path = RASA) -> Path:
    """`rasa init`'s project in `root`, made and trained once (about 2 minutes here) and kept."""
    root = root.resolve()  # rasa init runs inside it, where a relative path would point elsewhere
    if any((root / "models").glob("*.tar.gz")):
        return root
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):  # never write into, or clear, a folder that holds something else
        raise RuntimeError(f"{root} is not empty and holds no trained stock bot: give a new or empty folder")
    done = subprocess.run(
        [str(rasa), "init", "--no-prompt", "--init-dir", str(root)],
        cwd=root,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not any((root / "models").glob("*.tar.gz")):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"rasa init in {root} made no model (exit {done.returncode}):\n{tail}")
    return root


@contextlib.contextmanager
def stock_rasa_server(project: Path, port: int, rasa: Path = RASA) -> Iterator[str]:
    """`rasa run` on `project` at `port` until the block ends; yields its base URL."""
    url = f"http://127.0.0.1:{port}"
    server = Service(
        "stock-rasa",
        [str(rasa), "run", "--port", str(port), "--interface", "127.0.0.1"],
        f"{url}/webhooks/rest/",
        env=QUIET,
        cwd=project,
    )
    stack = Stack([server])
    try:
        server.start(project)
        wait_until_healthy([server], timeout=READY_TIMEOUT_S)
        yield url
    finally:
        stack.stop()
