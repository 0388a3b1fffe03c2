"""Helpdesk web service: health check and landing page for now; tickets and console come next."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.config import get_settings

app = FastAPI(title="Kestrel support helpdesk", version="0.1.0")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", response_class=HTMLResponse)
def home() -> str:
    settings = get_settings()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kestrel Home support</title></head>
<body>
<h1>Kestrel Home support</h1>
<p>The support bot is running. Talk to it over the REST channel at
<code>{settings.rasa_url}/webhooks/rest/webhook</code> or in a terminal with <code>make shell</code>.</p>
</body></html>"""
