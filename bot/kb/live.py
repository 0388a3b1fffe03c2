"""The KB the bot answers from, kept in step with its index folder while the bot runs.

An admin edits an article and runs `make index` (`kb build`) with the bot running: the build
swaps the new index's files in one by one, meta.json last (bot/kb/index.py). The action server
looks at meta.json at most every CHECK_SECONDS; when it has changed, the new index is loaded in
a background thread, so no customer waits for it, and replaces the old one once loaded.
Customers are answered from the old index until then. A new index that cannot be loaded is
logged and left alone until the next build, and the old one goes on answering.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.kb.search import KnowledgeBase

__all__ = ["CHECK_SECONDS", "LiveKnowledgeBase"]

log = logging.getLogger(__name__)

# How stale the bot's knowledge may be after a build: a stat() call every few seconds costs nothing.
CHECK_SECONDS = 2.0

Stamp = tuple[int, int] | None


class LiveKnowledgeBase:
    """Holds the loaded KB; `current()` returns it and notices a rebuilt index."""

    def __init__(
        self, index_dir: Path, load: Callable[[Path], KnowledgeBase], *, check_seconds: float = CHECK_SECONDS
    ) -> None:
        """`load` reads the index in `index_dir` into a ready KB (the first time here, raising
        as it does: a bot without a KB does not start)."""
        self._index_dir = Path(index_dir)
        self._load = load
        self._check_seconds = check_seconds
        self._stamp = _stamp(self._index_dir)
        self._kb = load(self._index_dir)
        self._failed: Stamp = None  # the index that could not be loaded, not tried again
        self._next_check = time.monotonic() + check_seconds
        self._reloader: threading.Thread | None = None
        self._checking = threading.Lock()  # one reload at a time, whichever thread asks

    def current(self) -> KnowledgeBase:
        # The KB as it is when asked: a reload started below can finish, on a busy machine,
        # before this returns; returning the one read first keeps the result free of that race
        # (tests/kb/test_live.py failed on it once, in a CI run on 2 loaded cores).
        kb = self._kb
        now = time.monotonic()
        if now >= self._next_check and self._checking.acquire(blocking=False):
            try:
                if not self.reloading:
                    self._next_check = now + self._check_seconds
                    stamp = _stamp(self._index_dir)
                    if stamp is not None and stamp not in (self._stamp, self._failed):
                        self._reloader = threading.Thread(
                            target=self._reload, args=(stamp,), name="kb-reload", daemon=True
                        )
                        self._reloader.start()
            finally:
                self._checking.release()
        return kb

    @property
    def reloading(self) -> bool:
        return self._reloader is not None and self._reloader.is_alive()

    def wait_for_reload(self, timeout: float | None = None) -> None:
        """Until a reload under way has ended (for tests)."""
        if self._reloader is not None:
            self._reloader.join(timeout)

    def _reload(self, stamp: Stamp) -> None:
        try:
            kb = self._load(self._index_dir)
        except Exception:
            if _stamp(self._index_dir) == stamp:
                log.exception(
                    "the rebuilt KB index in %s could not be loaded; still answering from the previous one",
                    self._index_dir,
                )
                self._failed = stamp
            # else a build was writing meanwhile: its meta.json brings the next try
            return
        if _stamp(self._index_dir) != stamp:
            return  # rebuilt again while loading: the files read may be of two builds; the next check loads the newest
        self._kb, self._stamp = kb, stamp
        log.info(
            "KB index reloaded from %s: %d articles, %d passages",
            self._index_dir,
            len(kb.index.articles),
            len(kb.index.chunks),
        )


def _stamp(index_dir: Path) -> Stamp:
    """What tells one build's meta.json from another's: a build replaces the file, so its inode
    changes (and a file edited in place its size, mostly). Not the time: `make index` touches
    the file after the build, which would load the same index twice."""
    try:
        info = os.stat(index_dir / "meta.json")
    except OSError:
        return None
    return (info.st_ino, info.st_size)
