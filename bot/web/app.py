"""Helpdesk web service: the tickets API for agents and integrations, health, the widget and its demo page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.config import Settings, get_settings
from bot.kb.rebuild import IndexRebuilder
from bot.notify.live import LiveChat
from bot.notify.outbox import OutboxWorker
from bot.notify.rasa_push import RasaPusher
from bot.tickets.desk import Desk
from bot.tickets.handoff import HandoffDesk
from bot.tickets.scheduler import Scheduler
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from bot.web.api import router as api_router
from bot.web.console import router as console_router
from bot.web.feedback import router as feedback_router
from bot.web.widget import router as widget_router


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
                keep_kb_questions=timedelta(days=settings.kb_questions_keep_days),
            )
            stops.append(scheduler.start_thread(settings.scheduler_interval_seconds))
            stops.append(app.state.live.start_thread())
        yield
        for stop in stops:
            stop.set()

    app = FastAPI(title="Kestrel support helpdesk", version="0.2.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.desk = Desk(store)
    app.state.users = UserDirectory(store.sessions)
    app.state.handoffs = HandoffDesk(
        store.sessions,
        minutes_per_customer=settings.handoff_minutes_per_customer,
        presence=timedelta(minutes=settings.presence_minutes),
    )
    app.state.live = LiveChat(
        app.state.handoffs,
        RasaPusher(settings.rasa_url, settings.rasa_token),
        timeout=timedelta(minutes=settings.handoff_timeout_minutes),
    )
    # The Help centre page's buttons edit the articles, then rebuild the index with this (a child
    # process, with this helpdesk's own settings); the action server picks the new index up.
    app.state.kb_rebuilder = IndexRebuilder.for_index(
        settings.kb_source_dir, settings.kb_index_dir, env=settings.as_environment()
    )
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
    # Also serves "/": the Kestrel Home demo page with the chat widget on it.
    app.include_router(widget_router)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# Declared, not assigned: the first `bot.web.app.app` goes to `__getattr__` below, which builds it.
app: FastAPI


def __getattr__(name: str) -> FastAPI:
    # `uvicorn bot.web.app:app` builds the app on first access, from the environment's settings.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
