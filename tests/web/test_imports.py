"""The helpdesk stays small: it never loads the language and embedding libraries."""

from __future__ import annotations

import subprocess
import sys

from bot.config import PROJECT_ROOT


def test_the_helpdesk_does_not_import_spacy_torch_or_faiss() -> None:
    """They cost the helpdesk process over 200 MB and seconds of start-up (docs/benchmarks.md);
    what it needs of the tickets and the KB report is plain SQL."""
    code = "import sys, bot.web.app; print(sorted(m for m in ('spacy', 'torch', 'faiss') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
