"""`python -m bot run` as a user runs it: everything comes up, Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def test_run_starts_all_three_and_ctrl_c_stops_them(project_artifacts: None, tmp_path: Path) -> None:
    ports = {"SUPPORT_RASA_PORT": free_port(), "SUPPORT_ACTION_PORT": free_port(), "SUPPORT_HELPDESK_PORT": free_port()}
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "SUPPORT_VAR_DIR": str(tmp_path),
        "SUPPORT_TRACKER_DB": str(tmp_path / "tracker.db"),
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        output = _output_until_ready(launcher)
        assert "Kestrel support bot is running" in output, output
        assert f"POST http://127.0.0.1:{ports['SUPPORT_RASA_PORT']}/webhooks/rest/webhook" in output
        reply = httpx.post(
            f"http://127.0.0.1:{ports['SUPPORT_RASA_PORT']}/webhooks/rest/webhook",
            json={"sender": "launcher-test", "message": "ping"},
            timeout=30,
        )
        assert reply.json()[0]["text"] == "pong"  # Rasa -> action server -> back

        children = _children(launcher.pid)
        assert len(children) >= 3
        launcher.send_signal(signal.SIGINT)
        rest, _ = launcher.communicate(timeout=30)
        assert launcher.returncode == 0
        assert "stopped." in rest
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == []
        assert (tmp_path / "log" / "rasa.log").exists()
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_run_only_starts_the_named_server(project_artifacts: None, tmp_path: Path) -> None:
    """One kind of server per host (docs/deploy.md): here a helpdesk alone."""
    port = free_port()
    env = {**os.environ, "SUPPORT_HELPDESK_PORT": str(port), "SUPPORT_VAR_DIR": str(tmp_path)}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--only", "helpdesk"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        output = _output_until_ready(launcher)
        assert "Kestrel helpdesk running" in output, output
        assert f"helpdesk             http://127.0.0.1:{port}/" in output
        assert "REST channel" not in output and "action server" not in output
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
        assert len(_children(launcher.pid)) == 1
        launcher.send_signal(signal.SIGINT)
        launcher.communicate(timeout=30)
        assert launcher.returncode == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_run_only_refuses_an_unknown_server_by_name(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--only", "rasa,webserver"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "SUPPORT_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "unknown service webserver; choose from actions, rasa, helpdesk" in done.stderr


def _output_until_ready(launcher: subprocess.Popen) -> str:
    """What the launcher printed, up to its "Press Ctrl-C to stop." line."""
    assert launcher.stdout is not None
    lines: list[str] = []
    for line in launcher.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    return "".join(lines)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
