"""The agent console over HTTP: sign-in, CSRF on every form, the queue, a ticket page, reply and status.
(Its behaviour in a real browser is tested with the widget, in the browser tests.)"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import Helpdesk

XSS = "<img src=x onerror=alert(1)>"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(client: TestClient, email: str = "tom@kestrel.example", password: str = "correct horse battery") -> str:
    token = csrf_of(client.get("/console/login").text)
    response = client.post("/console/login", data={"email": email, "password": password, "csrf": token})
    assert response.status_code == 200, response.text  # followed the redirect to the queue
    return csrf_of(response.text)


def test_signed_out_agents_are_sent_to_sign_in(helpdesk: Helpdesk) -> None:
    response = helpdesk.client.get("/console", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/login"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    token = csrf_of(c.get("/console/login").text)
    wrong = c.post("/console/login", data={"email": "tom@kestrel.example", "password": "nope", "csrf": token})
    unknown = c.post("/console/login", data={"email": "who@kestrel.example", "password": "nope", "csrf": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text


def test_forms_without_the_csrf_token_are_refused(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    assert (
        c.post("/console/login", data={"email": "tom@kestrel.example", "password": "correct horse battery"}).status_code
        == 403
    )
    sign_in(c)
    ref = helpdesk.technical_ref
    assert c.post(f"/console/tickets/{ref}/reply", data={"body": "hi", "csrf": "forged"}).status_code == 403
    # The JSON API with the session cookie needs the token in a header for changes.
    assert c.post(f"/api/tickets/{ref}/replies", json={"body": "hi"}).status_code == 403
    assert helpdesk.store.get(ref).transcript[-1]["sender"] == "customer"


def test_queue_ticket_page_reply_and_status(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    helpdesk.store.add_customer_message(helpdesk.technical_ref, f"my camera {XSS}")
    token = sign_in(c)
    queue = c.get("/console").text
    assert helpdesk.technical_ref in queue and "due in" in queue
    page = c.get(f"/console/tickets/{helpdesk.technical_ref}").text
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    replied = c.post(
        f"/console/tickets/{helpdesk.technical_ref}/reply", data={"body": "Try the reset button", "csrf": token}
    )
    assert replied.status_code == 200 and "Try the reset button" in replied.text
    c.post(f"/console/tickets/{helpdesk.technical_ref}/status", data={"status": "resolved", "csrf": token})
    assert helpdesk.store.get(helpdesk.technical_ref).status == "resolved"
    # The page's live refresh reads the same API with the cookie.
    assert c.get(f"/api/tickets/{helpdesk.technical_ref}").json()["status"] == "resolved"
    assert (
        c.post(
            f"/api/tickets/{helpdesk.technical_ref}/notes", json={"body": "done"}, headers={"X-CSRF-Token": token}
        ).status_code
        == 201
    )


def test_an_agent_cannot_open_another_teams_ticket_page(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    sign_in(c, "bea@kestrel.example")
    assert c.get(f"/console/tickets/{helpdesk.technical_ref}").status_code == 404
    assert helpdesk.technical_ref not in c.get("/console").text


def test_the_help_centre_page_shows_what_the_bot_could_not_answer(helpdesk: Helpdesk, project_artifacts) -> None:
    from bot.tickets.kb_questions import KBQuestionLog

    log = KBQuestionLog(helpdesk.store.sessions)
    log.record("c7", "can the doorbell play <b>my own</b> tune", "escalated", article_id="doorbell-battery", score=1.21)
    log.record("c8", "my doorbell battery dies in a week", "answered", article_id="doorbell-battery", score=2.3)
    log.record("c8", "my doorbell battery dies in a week", "not_helpful", article_id="doorbell-battery")
    log.flush()
    c = helpdesk.client
    assert c.get("/console/kb", follow_redirects=False).status_code == 303  # signed out: to the sign-in page
    sign_in(c)
    page = c.get("/console/kb").text
    assert "2 questions to the knowledge base" in page and "1 not answered (50%)" in page
    # Customers' words are shown as text, never as markup; articles by their title and link.
    assert "can the doorbell play &lt;b&gt;my own&lt;/b&gt; tune" in page and "<b>my own</b>" not in page
    assert '<a href="https://help.kestrelhome.example/articles/doorbell-battery">' in page
    assert "Kestrel Doorbell battery drains too fast" in page and "1.21" in page
    assert "“Yes, that solved it” to 0 (0%)" in page
    feedback = page.split('class="feedback"')[1]
    assert "<td>1</td>" in feedback and "100%" in feedback
    assert c.get("/console/kb?days=0").status_code == 422


def test_the_help_centre_page_shows_the_questions_closest_to_one_article(helpdesk: Helpdesk, project_artifacts) -> None:
    from bot.tickets.kb_questions import KBQuestionLog

    log = KBQuestionLog(helpdesk.store.sessions)
    log.record("c1", "can the doorbell play a tune", "escalated", article_id="doorbell-battery", score=1.2)
    log.record("c2", "can the doorbell ring twice", "escalated", article_id="doorbell-battery", score=1.1)
    log.record("c3", "does the lock open with a fingerprint", "escalated", article_id="smart-lock-jammed", score=1.0)
    log.flush()
    c = helpdesk.client
    sign_in(c)
    page = c.get("/console/kb").text
    assert '<a href="/console/kb?days=30&amp;article=doorbell-battery"' in page  # the count links to them
    filtered = c.get("/console/kb", params={"article": "doorbell-battery"}).text
    unanswered = filtered.split('class="unanswered"')[1]
    assert "play a tune" in unanswered and "ring twice" in unanswered and "fingerprint" not in unanswered
    assert "Show all" in filtered and 'name="article" value="doorbell-battery"' in filtered
    assert c.get("/console/kb", params={"article": "x" * 201}).status_code == 422
