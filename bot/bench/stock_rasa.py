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
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT

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
    log_path = project / "rasa-run.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(rasa), "run", "--port", str(port), "--interface", "127.0.0.1"],
            cwd=project,
            env={**os.environ, **QUIET},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(f"{url}/webhooks/rest/", process, log_path)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_ready(health_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"stock rasa run exited ({process.returncode}):\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(health_url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"stock rasa run not ready after {READY_TIMEOUT_S:.0f} s (log: {log_path})")
