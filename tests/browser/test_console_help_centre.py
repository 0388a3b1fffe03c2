"""The admins' loop in a real browser: a customer's question the bot cannot answer shows up on
the console's Help centre page, masked, beside its closest article."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from bot.config import Settings
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.browser.conftest import helpdesk_url
from tests.browser.test_widget import open_chat, say, screenshot

ADMIN_EMAIL, ADMIN_PASSWORD = "writer.browser@kestrel.example", "correct horse battery staple"


def test_an_unanswered_question_shows_on_the_help_centre_page(page: Page, running_stack: Settings) -> None:
    marker = "zigbee bridge for my garden lamps"
    question = f"does the kestrel hub work as a {marker}, call me on +31 20 555 0199"
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    say(page, question)
    expect(page.get_by_role("log")).to_contain_text("open a ticket")  # not answered: offered a ticket

    store = TicketStore.from_settings(running_stack)
    try:
        directory = UserDirectory(store.sessions)
        if directory.by_email(ADMIN_EMAIL) is None:
            directory.create(ADMIN_EMAIL, ADMIN_PASSWORD, role="admin", name="Wren")
    finally:
        store.close()
    page.goto(helpdesk_url(running_stack) + "/console/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Help centre").click()
    expect(page.get_by_role("heading", name="Help centre", level=1)).to_be_visible()

    row = page.locator("table.unanswered tr", has_text=marker)
    for _ in range(30):  # the action server's writer thread saves it within moments
        if row.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(row.first).to_be_visible()  # once, or more if this test ran before on the same stack
    row = row.first
    expect(row).not_to_contain_text("555 0199")  # personal data masked before it was stored
    expect(row.get_by_role("link")).to_have_attribute("href", re.compile(r"^https://help\.kestrelhome\.example/"))
    expect(row).to_contain_text("socketio")
    screenshot(page, "console-help-centre.png")
