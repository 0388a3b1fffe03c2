"""The chat widget on the demo page, in a real Chromium, against the real Rasa, action server and
helpdesk: what a customer does, then what an agent does in the console, seen from both sides."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.config import Settings
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.browser.conftest import helpdesk_url, serious_accessibility_violations

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE = "<img src=x onerror=alert(1)>"
AGENT_EMAIL = "widget.agent@kestrel.example"
AGENT_PASSWORD = "correct horse battery staple"
# The secret tests/conftest.py gives the stack (SUPPORT_WIDGET_IDENTITY_SECRET).
IDENTITY_SECRET = "test-identity-secret"


def screenshot(page: Page, name: str) -> None:
    """`make screenshots` keeps these under docs/ for the README; a plain test run does not."""
    folder = os.environ.get("KESTREL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def open_chat(page: Page) -> None:
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()


def say(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def click_reply(page: Page, title: str) -> None:
    page.get_by_role("log").get_by_role("button", name=title, exact=True).click()


def ticket_store(settings: Settings) -> TicketStore:
    return TicketStore.from_settings(settings)


def agent_token(store: TicketStore) -> str:
    directory = UserDirectory(store.sessions)
    agent = directory.by_email(AGENT_EMAIL) or directory.create(AGENT_EMAIL, AGENT_PASSWORD, name="Sam")
    return directory.issue_token(agent.id, "browser test")


def test_question_ticket_reload_agent_reply_resolution_and_rating(page: Page, browser, running_stack: Settings) -> None:
    page.goto(helpdesk_url(running_stack) + "/")
    expect(page).to_have_title(re.compile("Kestrel Home"))
    open_chat(page)
    log = page.get_by_role("log")
    expect(page.get_by_text("We typically reply in seconds")).to_be_visible()

    # A KB answer: the passage, the article as a card opening in a new tab, "did it help?".
    say(page, "hey i forgot my password, how do i get a new one")
    card = log.get_by_role("link", name=re.compile("Help centre article"))
    expect(card).to_have_attribute("href", "https://help.kestrelhome.example/articles/reset-password")
    expect(card).to_have_attribute("target", "_blank")
    expect(log.get_by_role("button", name="Yes, that solved it")).to_be_visible()
    screenshot(page, "widget-desktop.png")

    # "No" twice: a second article, then the honest answer and the ticket offer.
    click_reply(page, "No")
    expect(log).to_contain_text("Maybe this one fits better")
    click_reply(page, "No")
    expect(log).to_contain_text("open a ticket")
    click_reply(page, "Yes, open a ticket")
    expect(log).to_contain_text("email address")
    say(page, "grace.browser@example.com")
    # The bot proposes a summary from the question; the customer types a better one.
    expect(log).to_contain_text("Is that right?")
    say(page, "The password reset email never arrives, I checked spam too")
    expect(log).to_contain_text("Which topic")
    say(page, "account")
    expect(log).to_contain_text("order number")
    say(page, "skip")
    expect(log).to_contain_text("I've opened ticket")
    reference = re.search(r"SUP-\d{6}", log.inner_text()).group(0)

    # A reload keeps the whole conversation, drawn once, button clicks shown by their titles.
    page.reload()
    open_chat(page)
    expect(log).to_contain_text(reference)
    expect(log).to_contain_text("hey i forgot my password")
    expect(log.locator(".kw-customer", has_text="Yes, open a ticket")).to_have_count(1)

    store = ticket_store(running_stack)
    try:
        ticket = store.get(reference)
        assert (ticket.channel, ticket.customer_email) == ("socketio", "grace.browser@example.com")
        api = httpx.Client(
            base_url=helpdesk_url(running_stack) + "/api",
            headers={"Authorization": f"Bearer {agent_token(store)}"},
            timeout=30,
        )
        # An agent's reply through the API arrives live while the chat is closed: an unread
        # badge on the launcher; opened, it is the agent's message, with any HTML as text.
        page.get_by_role("button", name="Close chat").click()
        reply = f"Please check the address on your account; it shows {HOSTILE} here."
        assert api.post(f"/tickets/{reference}/replies", json={"body": reply}).status_code == 201
        expect(page.get_by_role("button", name="Open chat")).to_have_accessible_description(
            re.compile(r"^\d+ unread message")
        )
        expect(page.locator(".kw-badge")).to_be_visible()
        open_chat(page)
        expect(page.locator(".kw-badge")).to_be_hidden()
        expect(log.locator(".kw-agent")).to_contain_text(HOSTILE)
        expect(log.locator("img")).to_have_count(0)
        api.close()

        # The agent console, in another browser: sign in, open the ticket, reply, resolve.
        console_context = browser.new_context()
        console = console_context.new_page()
        console.goto(helpdesk_url(running_stack) + "/console")
        console.get_by_label("Email").fill(AGENT_EMAIL)
        console.get_by_label("Password").fill(AGENT_PASSWORD)
        console.get_by_role("button", name="Sign in").click()
        console.get_by_role("link", name=reference).click()
        expect(console.get_by_role("heading", level=1)).to_contain_text(reference)
        expect(console.locator("body")).to_contain_text(HOSTILE)  # the transcript, as text
        console.get_by_label(re.compile("^Reply")).fill("I've resent the reset email from our side.")
        console.get_by_role("button", name=re.compile("^Send reply")).click()
        expect(log.locator(".kw-agent").last).to_contain_text("I've resent the reset email")
        console.get_by_role("button", name="Mark resolved").click()
        expect(console.locator("body")).to_contain_text("resolved")
        console_context.close()

        # Resolved: the customer confirms and rates with the stars.
        expect(log).to_contain_text("Did this solve your problem?")
        click_reply(page, "Yes, it's solved")
        page.get_by_role("button", name="5 out of 5 stars").click()
        expect(log).to_contain_text("Anything you'd like to tell us")
        say(page, "Quick and friendly, thank you")
        expect(log).to_contain_text("Thank you for your feedback")
        rated = store.get(reference)
        assert (rated.status, rated.rating, rated.rating_comment) == (
            "resolved",
            5,
            "Quick and friendly, thank you",
        )
        assert page.dialogs == []  # no script from any message ever ran
    finally:
        store.close()


def test_an_article_carrying_html_is_shown_as_text(page: Page, running_stack: Settings) -> None:
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    say(page, "my camera's name shows strange code in the app")
    log = page.get_by_role("log")
    expect(log.get_by_role("link", name=re.compile("strange code"))).to_be_visible()
    expect(log).to_contain_text(HOSTILE)
    expect(log.locator("img")).to_have_count(0)
    assert page.dialogs == []


def test_keyboard_only_and_no_serious_accessibility_problems(page: Page, running_stack: Settings) -> None:
    page.goto(helpdesk_url(running_stack) + "/")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")
    message = page.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    page.keyboard.type("where is my order")
    page.keyboard.press("Enter")
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    yes = log.get_by_role("button", name="Yes, that solved it")
    expect(yes).to_be_visible()
    # Tab reaches the answer's buttons; Enter presses them.
    for _ in range(12):
        if yes.evaluate("button => button.getRootNode().activeElement === button"):
            break
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("glad that solved it")
    assert serious_accessibility_violations(page, ".kestrel-widget-host") == []
    # Escape closes the chat and gives the focus back to the launcher.
    message.focus()
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()


def test_phone_viewport(browser, running_stack: Settings) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(helpdesk_url(running_stack) + "/")
        open_chat(page)
        say(page, "how long does a refund take")
        expect(page.get_by_role("log").get_by_role("button", name="Yes, that solved it")).to_be_visible()
        # The panel fills the phone's screen and nothing of it is off screen.
        box = page.locator(".kw-panel").bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
        assert box["width"] >= 350
        screenshot(page, "widget-phone.png")
    finally:
        context.close()


def test_messages_typed_offline_are_sent_once_when_back(page: Page, running_stack: Settings) -> None:
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    log = page.get_by_role("log")
    say(page, "hello")
    expect(log.locator(".kw-bot")).to_have_count(2)  # the greeting and the bot's hello
    page.context.set_offline(True)
    expect(page.get_by_text("Offline: your messages will be sent")).to_be_visible()
    say(page, "how do i change my delivery address")
    expect(log).to_contain_text("Not sent yet")
    page.context.set_offline(False)
    expect(page.get_by_text("We typically reply in seconds")).to_be_visible()
    expect(log.get_by_role("button", name="Yes, that solved it")).to_be_visible()
    expect(log).not_to_contain_text("Not sent yet")
    # Sent once: after a reload the server's history holds it a single time.
    page.reload()
    open_chat(page)
    expect(log).to_contain_text("how do i change my delivery address")
    expect(log.locator(".kw-customer", has_text="how do i change my delivery address")).to_have_count(1)


SHOP_PAGE = """<!doctype html><html lang="en"><head><title>Shop account</title></head>
<body><h1>Your account</h1>
<script src="{helpdesk}/static/widget/kestrel-widget.js" data-server="{rasa}"
        data-user-email="{email}" data-user-signature="{signature}"></script></body></html>"""


@contextmanager
def shop_page(browser, settings: Settings, email: str, signature: str) -> Iterator[Page]:
    """A shop's own page on another origin, embedding the widget for a signed-in customer."""
    html = SHOP_PAGE.format(
        helpdesk=helpdesk_url(settings), rasa=settings.rasa_url, email=email, signature=signature
    ).encode()

    class ShopPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args) -> None:
            pass

    shop = ThreadingHTTPServer(("127.0.0.1", 0), ShopPage)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    context = browser.new_context()
    try:
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{shop.server_port}/account")
        open_chat(page)
        yield page
    finally:
        context.close()
        shop.shutdown()
        shop.server_close()


def test_a_verified_customer_sees_their_tickets_and_is_not_asked_for_the_email(
    browser, running_stack: Settings
) -> None:
    from bot.identity import sign_identity
    from bot.tickets.store import NewTicket

    store = ticket_store(running_stack)
    try:
        earlier, _ = store.create(
            NewTicket(
                customer_email="vera@example.com",
                summary="Smart lock does not pair",
                description="Tried three times",
                category="technical",
                team="technical",
                priority="normal",
                channel="rest",
                conversation_id="vera-on-another-device",
            )
        )
    finally:
        store.close()

    with shop_page(
        browser, running_stack, "vera@example.com", sign_identity(IDENTITY_SECRET, "vera@example.com")
    ) as signed:
        say(signed, "show me my tickets")
        log = signed.get_by_role("log")
        expect(log).to_contain_text(earlier.reference)
        say(signed, "I want to open a ticket")
        # Straight to the problem (proposed from the chat, or asked): the email is known already.
        expect(log).to_contain_text(re.compile("Is that right\\?|describe the problem"))
        expect(log).not_to_contain_text("What's your email address")

    with shop_page(browser, running_stack, "vera@example.com", sign_identity("guessed", "vera@example.com")) as forged:
        say(forged, "show me my tickets")
        expect(forged.get_by_role("log")).to_contain_text("You have no tickets from this conversation")
        expect(forged.get_by_role("log")).not_to_contain_text(earlier.reference)


def test_talk_to_a_person_and_the_same_chat_in_a_new_tab(page: Page, running_stack: Settings) -> None:
    page.goto(helpdesk_url(running_stack) + "/")
    open_chat(page)
    page.get_by_role("button", name="Talk to a person").click()
    log = page.get_by_role("log")
    # Nobody is on duty in the test stack: straight to a ticket for the team, email first.
    expect(log.locator(".kw-customer")).to_have_text(re.compile("Talk to a person"))
    expect(log).to_contain_text("email address")

    second = page.context.new_page()
    second.goto(helpdesk_url(running_stack) + "/")
    open_chat(second)
    expect(second.get_by_role("log")).to_contain_text("email address")
    say(second, "never mind")
    # Both tabs are one conversation: the first tab sees the answer to what the second one said.
    expect(log).to_contain_text("never mind")
    expect(log.locator(".kw-bot").last).not_to_contain_text("email address")
    second.close()
