"""Playwright for Python driving Debian's Chromium, headless, against the real stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = PROJECT_ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
# Without the background-networking switches Chromium keeps dialling Google's hosts, which
# this closed network refuses; as root it needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests that call asyncio.run() would fail beside it.
@pytest.fixture(scope="package")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, running_stack: Settings) -> Iterator:
    """A fresh browser profile (no stored conversation) on a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # a script that ran (alert) would show up here
    yield page
    context.close()


def helpdesk_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.helpdesk_port}"


def serious_accessibility_violations(page, selector: str) -> list[str]:
    """axe-core's serious and critical findings inside `selector` (shadow DOM included)."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        """async (selector) => {
            const found = await axe.run({include: [[selector]]}, {resultTypes: ["violations"]});
            return found.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`);
        }""",
        selector,
    )
    return list(result)
