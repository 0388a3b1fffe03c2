"""Helpdesk web service: the tickets API for agents and integrations, health, landing page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.config import Settings, get_settings
from bot.notify.outbox import OutboxWorker
from bot.tickets.desk import Desk
from bot.tickets.scheduler import Scheduler
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from bot.web.api import router as api_router
from bot.web.console import router as console_router
from bot.web.feedback import router as feedback_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = TicketStore.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The outbox worker delivers agents' replies and status changes while the service runs.
        stops = []
        if settings.outbox_enabled:
            stops.append(OutboxWorker.from_settings(store, settings).start_thread()[1])
            scheduler = Scheduler(
                store,
                warn_after=timedelta(days=settings.stale_warning_days),
                close_after=timedelta(days=settings.stale_close_days),
            )
            stops.append(scheduler.start_thread(settings.scheduler_interval_seconds))
        yield
        for stop in stops:
            stop.set()

    app = FastAPI(title="Kestrel support helpdesk", version="0.2.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.desk = Desk(store)
    app.state.users = UserDirectory(store.sessions)
    # The console's signed session cookie (itsdangerous); Lax keeps it off cross-site POSTs too.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="kestrel_console",
        same_site="lax",
        https_only=settings.environment == "production",
        max_age=12 * 3600,
    )
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(api_router)
    app.include_router(feedback_router)
    app.include_router(console_router)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kestrel Home support</title></head>
<body>
<h1>Kestrel Home support</h1>
<p>The support bot is running. Talk to it over the REST channel at
<code>{settings.rasa_url}/webhooks/rest/webhook</code> or in a terminal with <code>make shell</code>.
The helpdesk API is described at <a href="/docs">/docs</a>.</p>
</body></html>"""

    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn bot.web.app:app` builds the app on first access, from the environment's settings.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
