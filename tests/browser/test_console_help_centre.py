"""The admins' loop in a real browser: a customer's question the bot cannot answer shows up on
the console's Help centre page, masked, beside its closest article; an admin adds it to the
article that answers it, and the running bot answers it from then on."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from bot.config import Settings
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.browser.conftest import helpdesk_url
from tests.browser.test_widget import open_chat, say, screenshot
from tests.test_end_to_end import say as say_over_rest
from tests.test_end_to_end import texts

ADMIN_EMAIL, ADMIN_PASSWORD = "writer.browser@kestrel.example", "correct horse battery staple"


def test_an_unanswered_question_shows_on_the_help_centre_page(page: Page, running_stack: Settings) -> None:
    marker = "zigbee bridge for my garden lamps"
    question = f"does the kestrel hub work as a {marker}, call me on +31 20 555 0199"
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    say(page, question)
    expect(page.get_by_role("log")).to_contain_text("open a ticket")  # not answered: offered a ticket

    open_help_centre_as_admin(page, running_stack)
    row = first_row_with(page, marker)
    expect(row).not_to_contain_text("555 0199")  # personal data masked before it was stored
    expect(row.get_by_role("link")).to_have_attribute("href", re.compile(r"^https://help\.kestrelhome\.example/"))
    expect(row).to_contain_text("socketio")
    screenshot(page, "console-help-centre.png")


def test_an_admin_adds_a_question_to_its_article_and_the_bot_answers_it(page: Page, running_stack: Settings) -> None:
    # Nobody calls a camera "the hallway eye" in the help centre: the bot does not know.
    question = "my hallway eye stopped talking to the phone"
    article_url = "https://help.kestrelhome.example/articles/camera-offline"
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    say(page, question)
    expect(page.get_by_role("log")).to_contain_text("open a ticket")

    open_help_centre_as_admin(page, running_stack)
    row = first_row_with(page, question)
    row.get_by_label("Answered by").select_option(label="My camera shows as offline")
    row.get_by_role("button", name="Add to its questions").click()
    expect(page.get_by_role("status").first).to_contain_text("Added to “My camera shows as offline”")
    expect(page.locator("table.unanswered tr", has_text=question)).to_have_count(0)
    source = running_stack.kb_source_dir / "camera-offline.md"
    assert f'  - "{question}"' in source.read_text(encoding="utf-8")

    # The helpdesk rebuilds the index; the action server loads it; nobody restarts anything.
    deadline = 120
    for _ in range(deadline):
        reply = texts(say_over_rest(running_stack, f"e2e-taught-{uuid.uuid4().hex}", question))
        if article_url in reply:
            break
        page.wait_for_timeout(1000)
    assert article_url in reply, reply


def open_help_centre_as_admin(page: Page, settings: Settings) -> None:
    store = TicketStore.from_settings(settings)
    try:
        directory = UserDirectory(store.sessions)
        if directory.by_email(ADMIN_EMAIL) is None:
            directory.create(ADMIN_EMAIL, ADMIN_PASSWORD, role="admin", name="Wren")
    finally:
        store.close()
    page.goto(helpdesk_url(settings) + "/console/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Help centre").click()
    expect(page.get_by_role("heading", name="Help centre", level=1)).to_be_visible()


def first_row_with(page: Page, text: str):
    """The newest row of the unanswered questions holding `text`, once the action server's
    writer thread has saved it (within moments)."""
    row = page.locator("table.unanswered tr", has_text=text)
    for _ in range(30):
        if row.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(row.first).to_be_visible()  # once, or more if a test ran before on the same stack
    return row.first
