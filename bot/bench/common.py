"""Small helpers every benchmark shares: percentiles, memory from /proc, machine facts, JSON out."""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings

__all__ = [
    "bench_settings",
    "free_port",
    "latency_summary",
    "machine",
    "own_rss_mb",
    "percentile",
    "percentile_ratio_interval",
    "process_tree_rss_mb",
    "write_json",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def percentile_ratio_interval(
    numerator: list[float], denominator: list[float], q: float = 95, *, level: float = 0.90, rounds: int = 2000
) -> tuple[float, float] | None:
    """A bootstrap interval for percentile(numerator) / percentile(denominator).

    A p95 from 80 samples is their 4th largest, so the ratio of two such tails moves a lot from
    one run to the next with nothing changed; this says by how much, from the run's own samples
    (each list resampled with replacement, a fixed seed so a JSON file is reproducible).
    """
    if len(numerator) < 2 or len(denominator) < 2:
        return None
    import numpy as np

    rng = np.random.default_rng(0)

    def resampled_percentiles(values: list[float]) -> np.ndarray:
        data = np.sort(np.asarray(values, dtype=float))
        rank = max(1, math.ceil(q / 100 * len(data))) - 1  # nearest rank, as `percentile`
        draws = np.sort(rng.choice(data, size=(rounds, len(data)), replace=True), axis=1)
        return draws[:, rank]

    ratios = resampled_percentiles(numerator) / resampled_percentiles(denominator)
    tail = (1 - level) / 2
    return round(float(np.quantile(ratios, tail)), 2), round(float(np.quantile(ratios, 1 - tail)), 2)


def latency_summary(latencies_ms: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99 in milliseconds; None when nothing was measured (never a made-up number)."""
    if not latencies_ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {
        "n": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 50), 1),
        "p95_ms": round(percentile(latencies_ms, 95), 1),
        "p99_ms": round(percentile(latencies_ms, 99), 1),
    }


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (Linux)."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(c) for c in children)
    return total_kb / 1024


def own_rss_mb() -> float:
    """Resident memory of this process now."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy the machine already was."""
    load1, load5, _ = os.getloadavg()
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line))
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_1m_5m_at_start": [round(load1, 2), round(load5, 2)],
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def write_json(path: Path | None, figures: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_settings(base: Settings, **changes: Any) -> Settings:
    """A private stack: free ports, a scratch tracker store and ticket database, no outbox."""
    var = Path(tempfile.mkdtemp(prefix="bench-"))
    return base.model_copy(
        update={
            "rasa_port": free_port(),
            "action_port": free_port(),
            "helpdesk_port": free_port(),
            "var_dir": var,
            "tracker_db": var / "tracker.db",
            # The load would otherwise also measure e-mails to nobody and pushes to closed chats.
            "outbox_enabled": False,
            # Simulated customers open many tickets from few addresses; the limits are tested elsewhere.
            "tickets_per_hour_per_conversation": 1_000_000,
            "tickets_per_hour_per_email": 1_000_000,
            **changes,
        }
    )
