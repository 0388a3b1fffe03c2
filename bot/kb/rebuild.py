"""Rebuild the KB index in the background after the help centre was edited from the console.

The build runs as `python -m bot kb build` in a child process: the helpdesk never imports the
embedding model, spaCy or FAISS (hundreds of MB and seconds of start-up; tests/web/test_imports.py),
and a build that crashes takes only its own process down. The action server notices the new
index by itself (bot/kb/live.py), so nothing else has to be told.

One build runs at a time. A request while one runs makes exactly one more run after it, which
reads every edit made until it starts: ten questions taught in a row cost two builds, not ten.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT

__all__ = ["IndexRebuilder", "RebuildStatus", "build_command"]

log = logging.getLogger(__name__)

# What the page shows of a build's output: the summary line, or why it failed.
OUTPUT_LINES = 15
# A build of the demo help centre takes about half a minute; one that takes this long is stuck.
TIMEOUT_SECONDS = 30 * 60


def build_command(source_dir: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "kb", "build", "--source", str(source_dir), "--index", str(index_dir)]


@dataclass(frozen=True)
class RebuildStatus:
    """What the console shows: a build under way (and whether another follows), and the last one's end."""

    building_since: datetime | None = None
    another_queued: bool = False
    last_finished_at: datetime | None = None
    last_ok: bool | None = None
    last_summary: str = ""  # the first line it printed: what `kb build` says it built
    last_output: str = ""  # its last lines: messages (skipped files, errors) first, then what it printed

    @property
    def building(self) -> bool:
        return self.building_since is not None


class IndexRebuilder:
    """Runs `command` (by default `kb build` of `source_dir` into `index_dir`) in a background
    thread on `request()`, one run at a time, coalescing requests made meanwhile."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._command = list(command)
        self._env = dict(env) if env is not None else None
        self._timeout = timeout
        self._lock = threading.Condition()
        self._status = RebuildStatus()
        self._runner: threading.Thread | None = None

    @classmethod
    def for_index(cls, source_dir: Path, index_dir: Path, *, env: Mapping[str, str] | None = None) -> IndexRebuilder:
        return cls(build_command(source_dir, index_dir), env=env)

    def request(self) -> None:
        """Start a build, or have one more run after the one under way."""
        with self._lock:
            if self._status.building:
                self._set(another_queued=True)
                return
            self._set(building_since=datetime.now(UTC), another_queued=False)
            self._runner = threading.Thread(target=self._run_until_done, name="kb-rebuild", daemon=True)
            self._runner.start()

    def status(self) -> RebuildStatus:
        with self._lock:
            return self._status

    def wait(self, timeout: float | None = None) -> bool:
        """Until no build runs or is queued (for tests and shutdown); False when `timeout` passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._status.building, timeout)

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)

    def _run_until_done(self) -> None:
        while True:
            ok, summary, output = self._build_once()
            with self._lock:
                again = self._status.another_queued
                self._set(
                    building_since=datetime.now(UTC) if again else None,
                    another_queued=False,
                    last_finished_at=datetime.now(UTC),
                    last_ok=ok,
                    last_summary=summary,
                    last_output=output,
                )
                if not again:
                    self._lock.notify_all()
                    return

    def _build_once(self) -> tuple[bool, str, str]:
        env = {**os.environ, **(self._env or {})}
        # Fewer progress bars (those not switched on explicitly); _as_shown keeps one line of the rest.
        env["TQDM_DISABLE"] = "1"
        try:
            result = subprocess.run(
                self._command,
                cwd=PROJECT_ROOT,
                env=env,
                capture_output=True,  # bytes: text mode would turn a progress bar's "\r" into new lines
                timeout=self._timeout,
            )
        except subprocess.TimeoutExpired:
            log.error("KB index rebuild stopped after %g s: %s", self._timeout, " ".join(self._command))
            return False, "", f"stopped after {self._timeout:g} s without finishing"
        except Exception as exc:
            # Caught whatever it is: a runner thread that died would leave "building" on the page
            # forever and no build would ever start again.
            log.exception("KB index rebuild could not run")
            return False, "", f"could not run: {exc}"
        printed = _as_shown(result.stdout.decode("utf-8", "replace"))
        lines = _as_shown(result.stderr.decode("utf-8", "replace")) + printed
        output = "\n".join(deque(lines, maxlen=OUTPUT_LINES))
        summary = printed[0] if printed else ""
        if result.returncode != 0:
            log.error("KB index rebuild failed (exit code %d):\n%s", result.returncode, output)
            return False, summary, output
        log.info("KB index rebuilt: %s", summary)
        return True, summary, output


def _as_shown(text: str) -> list[str]:
    """The non-empty lines of `text` as a terminal ends up showing them: a progress bar redraws
    its line after a carriage return, and only its last state is kept."""
    lines = []
    for line in text.split("\n"):
        states = [state for state in line.split("\r") if state.strip()]
        if states:
            lines.append(states[-1].rstrip())
    return lines
