"""Start the three processes of one machine (Rasa, action server, helpdesk) and stop them together.

Rasa runs from `.venv-rasa` (Python 3.10); the action server and helpdesk from `.venv`.
Each process writes its log to `var/log/<name>.log`; the terminal shows only what matters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT, Settings

__all__ = [
    "WARM_UP_SENDER",
    "Service",
    "Stack",
    "rasa_environment",
    "run_stack",
    "start_stack",
    "warm_up_actions",
    "write_credentials",
    "write_endpoints",
]

# The launcher's own first question to the action server: not a customer, never in a report.
WARM_UP_SENDER = "launcher-warm-up"

READY_TIMEOUT_S = 240.0


@dataclass
class Service:
    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    cwd: Path = PROJECT_ROOT

    def start(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.name}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child process owns it from here
        # A new session: Ctrl-C reaches only the launcher, which stops the children in order.
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def is_healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    services: list[Service]

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to all, then SIGKILL whatever still runs after `timeout` seconds.

        A second Ctrl-C while stopping is ignored, so no process is ever left orphaned.
        """
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            for service in reversed(self.services):
                service.terminate()
            deadline = time.monotonic() + timeout
            for service in reversed(self.services):
                service.wait_or_kill(deadline)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def rasa_environment(settings: Settings) -> dict[str, str]:
    """What endpoints.yml reads, plus quiet and private defaults for the Rasa runtime."""
    return {
        "SUPPORT_ACTION_ENDPOINT_URL": f"{settings.actions_url}/webhook",
        "SUPPORT_TRACKER_DB": str(settings.tracker_db),
        # Read by the socket.io channel (credentials.yml); empty: one server, no Redis.
        "SUPPORT_REDIS_URL": settings.redis_url or "",
        **shared_store_passwords(settings),
        "SUPPORT_ONNX_DIR": str(settings.onnx_dir),  # the MiniLM featurizer's transformer (config.yml)
        # The featurizer embeds with the KB's model, so the KB action can search with its vector.
        "SUPPORT_EMBEDDING_MODEL_PATH": settings.embedding_model_path or "",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        **channel_environment(settings),
    }


# credentials.yml sections that only make sense when the platform is configured.
OPTIONAL_CHANNELS = {
    "channels.telegram.TelegramInput": "telegram_enabled",
    "channels.slack.SlackInput": "slack_enabled",
}
CHANNEL_FIELDS = ("telegram_", "slack_")


def channel_environment(settings: Settings) -> dict[str, str]:
    """TELEGRAM_* and SLACK_* for credentials.yml's ${VAR}s; unset ones empty, so Rasa can expand them."""
    return {
        Settings.environment_name(name): "" if value is None else str(value)
        for name, value in settings.model_dump().items()
        if name.startswith(CHANNEL_FIELDS)
    }


def write_credentials(settings: Settings) -> Path:
    """credentials.yml as this Rasa server should read it: Telegram and Slack only where configured.

    The ${VAR} references stay as they are, so no secret is written to disk.
    """
    channels = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())
    wanted = {
        name: options
        for name, options in channels.items()
        if name not in OPTIONAL_CHANNELS or getattr(settings, OPTIONAL_CHANNELS[name])
    }
    return _write_for_rasa(settings, "credentials.yml", wanted, "edit that file instead")


def write_endpoints(settings: Settings) -> Path:
    """endpoints.yml as this Rasa server should read it: with a shared tracker store and lock store
    when several servers share the conversations (docs/deploy.md), else as it is.

    Passwords stay ${VAR} references, set by `rasa_environment`, so no secret is written to disk.
    """
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    if settings.tracker_store_url:
        endpoints["tracker_store"] = sql_tracker_store(settings.tracker_store_url)
    if settings.redis_url:
        endpoints["lock_store"] = redis_lock_store(settings.redis_url)
    return _write_for_rasa(settings, "endpoints.yml", endpoints, "edit that file or the settings instead")


def _write_for_rasa(settings: Settings, name: str, content: dict, edit_hint: str) -> Path:
    """var/<name>: the project's <name> as this start hands it to Rasa."""
    path = settings.var_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# Written by bot/launcher.py from {name} at each start; {edit_hint}.\n"
        + yaml.safe_dump(content, sort_keys=False, default_flow_style=False)
    )
    return path


TRACKER_STORE_PASSWORD = "SUPPORT_TRACKER_STORE_PASSWORD"
REDIS_PASSWORD = "SUPPORT_REDIS_PASSWORD"


def sql_tracker_store(url: str) -> dict[str, object]:
    """Rasa's SQL tracker store section for a database URL (postgresql://user:password@host:5432/db)."""
    parsed = make_url(url)
    # Rasa's own SQLAlchemy 1.4 picks the driver (psycopg2 in .venv-rasa); only the database kind is kept.
    section: dict[str, object] = {"type": "SQL", "dialect": parsed.get_backend_name(), "db": parsed.database}
    if parsed.host:
        section["url"] = parsed.host
    if parsed.port:
        section["port"] = parsed.port
    if parsed.username:
        section["username"] = parsed.username
    if parsed.password:
        section["password"] = f"${{{TRACKER_STORE_PASSWORD}}}"
    return section


def redis_lock_store(url: str) -> dict[str, object]:
    """The lock store section for a Redis URL (redis://[:password@]host:6379/0)."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("redis", "rediss"):
        raise ValueError(f"SUPPORT_REDIS_URL must start with redis:// or rediss://, not {url!r}")
    section: dict[str, object] = {
        # Rasa's RedisLockStore, with its read-change-write of a lock made atomic (channels/lock_store.py).
        "type": "channels.lock_store.AtomicRedisLockStore",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.strip("/") or 0),
        "key_prefix": "kestrel",
    }
    if parsed.username:
        section["username"] = parsed.username
    if parsed.password:
        section["password"] = f"${{{REDIS_PASSWORD}}}"
    if parsed.scheme == "rediss":
        section["use_ssl"] = True
    return section


def shared_store_passwords(settings: Settings) -> dict[str, str]:
    """The passwords `write_endpoints` refers to, for the Rasa server's environment only."""
    tracker_store_password = make_url(settings.tracker_store_url).password if settings.tracker_store_url else None
    redis_password = urlsplit(settings.redis_url).password if settings.redis_url else None
    passwords = {TRACKER_STORE_PASSWORD: tracker_store_password, REDIS_PASSWORD: redis_password}
    return {name: str(password) for name, password in passwords.items() if password}


# What `python -m bot run` starts; `--only` picks some, one host per kind of server (docs/deploy.md).
SERVICE_NAMES = ("actions", "rasa", "helpdesk")


def services(settings: Settings, only: Collection[str] = SERVICE_NAMES) -> list[Service]:
    unknown = set(only) - set(SERVICE_NAMES)
    if unknown:
        raise ValueError(f"unknown service {', '.join(sorted(unknown))}; choose from {', '.join(SERVICE_NAMES)}")
    host = settings.host
    app_python = str(PROJECT_ROOT / ".venv" / "bin" / "python")
    # The app's own settings travel to the children as environment variables.
    app_env = settings.as_environment()
    # Made only for the services asked for: a helpdesk host writes no Rasa files.
    build = {
        "actions": lambda: Service(
            "actions",
            [app_python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)],
            f"http://{host}:{settings.action_port}/health",
            env=app_env,
        ),
        "rasa": lambda: _rasa_service(settings),
        "helpdesk": lambda: Service(
            "helpdesk",
            [app_python, "-m", "uvicorn", "bot.web.app:app", "--host", host, "--port", str(settings.helpdesk_port)],
            f"http://{host}:{settings.helpdesk_port}/health",
            env=app_env,
        ),
    }
    return [build[name]() for name in SERVICE_NAMES if name in only]


def _rasa_service(settings: Settings) -> Service:
    host = settings.host
    # Rasa's own `rasa run`, entered through channels/rasa_server.py for its speed fix.
    rasa = [str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-m", "channels.rasa_server"]
    settings.tracker_db.parent.mkdir(parents=True, exist_ok=True)
    return Service(
        "rasa",
        [
            *rasa,
            "run",
            "--enable-api",
            "--auth-token",
            settings.rasa_token,
            "--cors",
            "*",
            "--interface",
            host,
            "--port",
            str(settings.rasa_port),
            "--endpoints",
            str(write_endpoints(settings)),
            "--credentials",
            str(write_credentials(settings)),
            "--model",
            str(settings.models_dir),
        ],
        f"http://{host}:{settings.rasa_port}/status?token={settings.rasa_token}",  # this one, not a balancer
        env=rasa_environment(settings),
    )


def migrate_ticket_database(settings: Settings) -> None:
    """Bring the ticket schema up to date once, before two processes open the database."""
    from bot.tickets.db import make_engine, migrate

    engine = make_engine(settings.tickets_database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def warm_up_actions(settings: Settings) -> None:
    """Ask the action server one KB question so the model and index load before a customer waits."""
    tracker = {
        "sender_id": WARM_UP_SENDER,
        "slots": {},
        "latest_message": {"text": "how do I reset my password", "intent": {}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    body = {"next_action": "action_answer_from_kb", "sender_id": WARM_UP_SENDER, "tracker": tracker, "domain": {}}
    httpx.post(f"http://{settings.host}:{settings.action_port}/webhook", json=body, timeout=120.0)


def start_stack(
    settings: Settings, *, only: Collection[str] = SERVICE_NAMES, log_dir: Path | None = None, on_progress=print
) -> Stack:
    """Start the services (all, or `only` those named) and return once each answers its health check.

    Raises:
        RuntimeError: when a service exits or is not ready in time; its log tail is in the message.
    """
    stack = Stack(services(settings, only))
    _check_ready_to_start(settings, only)
    if {"actions", "helpdesk"} & set(only):  # both write tickets
        migrate_ticket_database(settings)
    log_dir = log_dir or settings.var_dir / "log"
    try:
        for service in stack.services:
            on_progress(f"starting {service.name}...")
            service.start(log_dir)

        def ready(service: Service) -> None:
            on_progress(f"{service.name} is ready")
            if service.name == "actions":
                warm_up_actions(settings)

        wait_until_healthy(stack.services, on_ready=ready)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_until_healthy(
    services: list[Service], *, timeout: float = READY_TIMEOUT_S, on_ready: Callable[[Service], None] = lambda _: None
) -> None:
    """Return once each started service answers its health check; `on_ready` as each does.

    Raises:
        RuntimeError: when a service exits or is not ready in time; its log tail is in the message.
    """
    pending = list(services)
    deadline = time.monotonic() + timeout
    while pending:
        for service in list(pending):
            if service.exited():
                raise RuntimeError(
                    f"{service.name} stopped while starting; end of {service.log_path}:\n{service.log_tail()}"
                )
            if service.is_healthy():
                pending.remove(service)
                on_ready(service)
        if time.monotonic() > deadline:
            logs = ", ".join(str(s.log_path) for s in pending)
            raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(s.name for s in pending)}; logs: {logs}")
        time.sleep(0.5)


def _check_ready_to_start(settings: Settings, only: Collection[str]) -> None:
    missing = []
    if "rasa" in only and not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        missing.append("the Rasa environment (.venv-rasa)")
    if "actions" in only and not (settings.kb_index_dir / "meta.json").exists():
        missing.append(f"the KB index ({settings.kb_index_dir})")
    if "rasa" in only and not any(Path(settings.models_dir).glob("*.tar.gz")):
        missing.append(f"a trained model ({settings.models_dir})")
    if missing:
        raise FileNotFoundError("missing " + ", ".join(missing) + "; run `make run`, which sets them up")


def run_stack(settings: Settings, only: Collection[str] = SERVICE_NAMES) -> int:
    """`make run`: start everything (or `only` some), say where to talk to the bot, stop all on Ctrl-C."""
    started = time.monotonic()
    # `kill` or a supervisor's SIGTERM stops the stack the same way Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        stack = start_stack(settings, only=only)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    host = settings.host
    rasa = f"http://{host}:{settings.rasa_port}"  # this server, not a load balancer in front
    where = {
        "rasa": (
            f"  chat in a terminal   make shell\n"
            f'  REST channel         POST {rasa}/webhooks/rest/webhook  {{"sender": "me", "message": "hi"}}\n'
            f"  socket.io channel    {rasa}/socket.io\n"
        ),
        "helpdesk": f"  helpdesk             http://{host}:{settings.helpdesk_port}/\n",
        "actions": f"  action server        http://{host}:{settings.action_port}/health\n",
    }
    what = "Kestrel support bot is running" if set(only) == set(SERVICE_NAMES) else f"Kestrel {', '.join(only)} running"
    print(
        f"\n{what} (ready in {time.monotonic() - started:.0f} s):\n"
        + "".join(where[name] for name in SERVICE_NAMES if name in only)
        + f"  logs                 {settings.var_dir / 'log'}/\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        while True:
            for service in stack.services:
                if service.exited():
                    print(f"\n{service.name} stopped unexpectedly:\n{service.log_tail()}", file=sys.stderr)
                    stack.stop()
                    return 1
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        stack.stop()
        print("stopped.")
        return 0
