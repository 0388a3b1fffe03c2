"""The agent console over HTTP: sign-in, CSRF on every form, the queue, a ticket page, reply and status,
the Help centre page and its buttons that add questions to articles (real files in a tmp folder),
and the same report and decisions through the API (/api/kb/...).
(Its behaviour in a real browser is tested with the widget, in the browser tests.)"""

from __future__ import annotations

import html
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.config import PROJECT_ROOT, Settings
from bot.kb.documents import FRONT_MATTER
from bot.kb.index import build_index
from bot.kb.rebuild import IndexRebuilder
from bot.tickets.models import KBQuestion
from tests.fakes import HashingEmbedder
from tests.web.conftest import Helpdesk, running_helpdesk

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


# --- adding customers' questions to the articles from the Help centre page ---------------------

# Stands in for `kb build` (its real run is tested in tests/kb/test_rebuild.py): notes each run.
FAKE_BUILD = (
    "import pathlib, sys; pathlib.Path(sys.argv[1]).open('a').write('build\\n'); print('2 articles, 3 faq rows')"
)
LOCKED = "My account is locked"


@pytest.fixture(scope="module")
def kb_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of two demo articles and the FAQ file, for the page's article titles (a cheap
    embedder: the page reads only its meta.json)."""
    root = tmp_path_factory.mktemp("kb")
    build_index(copy_demo_kb(root / "source"), root / "index", HashingEmbedder(), show_progress=False)
    return root / "index"


def copy_demo_kb(source: Path) -> Path:
    source.mkdir(parents=True)
    for name in ("account-locked.md", "doorbell-battery.md", "faq-quick-answers.csv"):
        shutil.copy(PROJECT_ROOT / "data" / "kb" / name, source)
    return source


@dataclass
class Teaching:
    desk: Helpdesk
    source: Path
    builds: Path  # one line per rebuild the console started

    def ask(self, question: str, article_id: str | None = "account-locked", outcome: str = "escalated") -> int:
        with self.desk.store.sessions.begin() as session:
            row = KBQuestion(
                conversation_id=f"c-{uuid.uuid4().hex[:8]}",
                channel="socketio",
                question=question,
                outcome=outcome,
                article_id=article_id,
                score=1.1,
            )
            session.add(row)
            session.flush()
            return row.id

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.source.iterdir()}

    def front_matter(self, article_id: str) -> dict:
        text = (self.source / f"{article_id}.md").read_text(encoding="utf-8")
        return yaml.safe_load(FRONT_MATTER.match(text).group(1))

    def wait_for_rebuilds(self) -> int:
        assert self.desk.client.app.state.kb_rebuilder.wait(timeout=60)
        return len(self.builds.read_text().splitlines()) if self.builds.exists() else 0


@pytest.fixture
def teaching(tmp_path: Path, kb_index: Path) -> Iterator[Teaching]:
    source = copy_demo_kb(tmp_path / "kb")
    settings = Settings(
        var_dir=tmp_path, kb_source_dir=source, kb_index_dir=kb_index, outbox_enabled=False, _env_file=None
    )
    with running_helpdesk(settings) as desk:
        builds = tmp_path / "builds.log"
        desk.client.app.state.kb_rebuilder = IndexRebuilder([sys.executable, "-c", FAKE_BUILD, str(builds)])
        yield Teaching(desk, source, builds)


def unanswered_rows(page: str) -> str:
    return page.split('class="unanswered"')[1].split("</table>")[0]


def test_an_admin_adds_a_question_to_the_article_that_answers_it(teaching: Teaching) -> None:
    question = "locked out of my acount, can't get back in"
    asked = teaching.ask(question)
    teaching.ask("can the doorbell play my own tune", "doorbell-battery")
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    page = c.get("/console/kb", params={"days": 7}).text
    form = page.split(f'action="/console/kb/questions/{asked}/answered-by"')[1].split("</form>")[0]
    assert '<option value="account-locked" selected>My account is locked</option>' in form  # the closest
    assert '<option value="faq-outdoor-temperature">' in form and 'name="days" value="7"' in form

    response = c.post(
        f"/console/kb/questions/{asked}/answered-by",
        data={"answered_by": "account-locked", "days": 7, "article": "account-locked", "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/kb?days=7&article=account-locked"
    page = c.get(response.headers["location"]).text
    assert f"Added to “{LOCKED}”. The bot uses it within a minute, when the index is rebuilt." in page
    assert question not in unanswered_rows(page)
    assert teaching.front_matter("account-locked")["questions"][-1] == question
    assert teaching.wait_for_rebuilds() == 1
    with teaching.desk.store.sessions() as session:
        row = session.get(KBQuestion, asked)
        assert (row.resolution, row.resolved_article, row.resolved_by) == (
            "taught",
            "account-locked",
            "agent:admin@kestrel.example",
        )
        assert row.resolved_at is not None and row.outcome == "escalated"  # what the customer got stays

    page = c.get("/console/kb").text
    assert "Added to" not in page  # the notice shows once
    assert "Index rebuilt at" in page and "2 articles, 3 faq rows" in page
    assert "2 questions to the knowledge base" in page  # the counts still say what customers got
    by_article = page.split("<th>Unanswered questions</th>")[1].split("</table>")[0]
    assert "account-locked" not in by_article and "doorbell-battery" in by_article


def test_not_in_the_help_centre_notes_the_question_beside_the_closest_article(teaching: Teaching) -> None:
    question = "is kestrel's login safer than arlo's"
    asked = teaching.ask(question)
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    page = c.post(f"/console/kb/questions/{asked}/not-in-help-centre", data={"csrf": token}).text
    assert f"Noted beside “{LOCKED}” as a question the help centre does not answer." in page
    assert question not in unanswered_rows(page)
    assert teaching.front_matter("account-locked")["not_answered"][-1] == question
    assert teaching.wait_for_rebuilds() == 1


def test_a_question_already_in_the_article_is_marked_done_without_a_rebuild(teaching: Teaching) -> None:
    already = teaching.front_matter("account-locked")["questions"][0]
    asked = teaching.ask(already.upper())
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    before = teaching.files()
    page = c.post(
        f"/console/kb/questions/{asked}/answered-by", data={"answered_by": "account-locked", "csrf": token}
    ).text
    assert f"“{LOCKED}” already lists this question among its questions; marked as done." in page
    assert already.upper() not in unanswered_rows(page)
    assert teaching.files() == before and teaching.wait_for_rebuilds() == 0


def test_agents_see_the_questions_but_cannot_change_the_articles(teaching: Teaching) -> None:
    asked = teaching.ask("locked out again")
    c = teaching.desk.client
    token = sign_in(c, "tom@kestrel.example")
    page = c.get("/console/kb").text
    assert "locked out again" in page and "/answered-by" not in page and "/not-in-help-centre" not in page
    assert "Admins add these questions to the articles that answer them from this page." in page
    before = teaching.files()
    for action, data in (("answered-by", {"answered_by": "account-locked"}), ("not-in-help-centre", {})):
        response = c.post(f"/console/kb/questions/{asked}/{action}", data={**data, "csrf": token})
        assert response.status_code == 403
        assert response.json()["detail"] == "Only admins can change the help centre's articles; ask an admin to do it."
    assert teaching.files() == before and "locked out again" in c.get("/console/kb").text
    assert teaching.wait_for_rebuilds() == 0


def said_no_rows(page: str) -> str:
    return page.split('class="said-no"')[1].split("</table>")[0]


def test_an_answer_a_customer_said_no_to_is_corrected_to_the_right_article(teaching: Teaching) -> None:
    question = "my doorbell battery is locked in, how do i get it out"
    said_no = teaching.ask(question, "account-locked", outcome="not_helpful")  # the wrong article was given
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    page = c.get("/console/kb").text
    rows = said_no_rows(page)
    assert question in rows and LOCKED in rows
    assert question not in unanswered_rows(page)
    # Nothing preselected: the article given may be the wrong one.
    form = rows.split(f'action="/console/kb/questions/{said_no}/answered-by"')[1].split("</form>")[0]
    assert '<option value="" selected>pick the article</option>' in form and " selected>My" not in form

    page = c.post(
        f"/console/kb/questions/{said_no}/answered-by", data={"answered_by": "doorbell-battery", "csrf": token}
    ).text
    assert "Added to “" in page and question not in said_no_rows(page)
    assert teaching.front_matter("doorbell-battery")["questions"][-1] == question
    assert question not in teaching.front_matter("account-locked")["questions"]
    assert teaching.wait_for_rebuilds() == 1


def test_an_answer_said_no_to_that_nothing_answers_is_noted_beside_the_article_given(teaching: Teaching) -> None:
    question = "can the doorbell battery be charged by a solar panel"
    said_no = teaching.ask(question, "doorbell-battery", outcome="not_helpful")
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    page = c.post(f"/console/kb/questions/{said_no}/not-in-help-centre", data={"csrf": token}).text
    assert "as a question the help centre does not answer" in page and question not in said_no_rows(page)
    assert teaching.front_matter("doorbell-battery")["not_answered"][-1] == question
    assert teaching.wait_for_rebuilds() == 1


@pytest.mark.parametrize("outcome", ["escalated", "not_helpful"])
def test_nothing_to_change_takes_the_question_off_the_page_and_leaves_the_articles(
    teaching: Teaching, outcome: str
) -> None:
    asked = teaching.ask("asdf qwerty", outcome=outcome)
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    before = teaching.files()
    page = c.post(f"/console/kb/questions/{asked}/dismiss", data={"csrf": token}).text
    assert "Marked as done; no article was changed." in page
    assert "asdf qwerty" not in unanswered_rows(page) and "asdf qwerty" not in said_no_rows(page)
    assert teaching.files() == before and teaching.wait_for_rebuilds() == 0
    with teaching.desk.store.sessions() as session:
        row = session.get(KBQuestion, asked)
        assert (row.resolution, row.resolved_article, row.resolved_by) == (
            "dismissed",
            None,
            "agent:admin@kestrel.example",
        )
    # An agent may not do it either.
    other = teaching.ask("zxcv", outcome=outcome)
    agent_token = sign_in(c, "tom@kestrel.example")
    assert c.post(f"/console/kb/questions/{other}/dismiss", data={"csrf": agent_token}).status_code == 403


def test_the_api_gives_the_report_to_agents_and_takes_decisions_from_admins(teaching: Teaching) -> None:
    question = "locked out of my acount, can't get back in"
    asked = teaching.ask(question)
    other = teaching.ask("is it ok in the snow")
    c, desk = teaching.desk.client, teaching.desk
    assert c.get("/api/kb/gaps").status_code == 401
    report = c.get("/api/kb/gaps", params={"days": 7}, headers=desk.any_agent).json()
    assert {u["id"]: u["question"] for u in report["unanswered"]} == {asked: question, other: "is it ok in the snow"}
    assert report["unanswered_by_article"] == {"account-locked": 2} and report["rebuild"]["building"] is False

    before = teaching.files()
    decision = {"resolution": "taught", "article_id": "account-locked"}
    url = f"/api/kb/questions/{asked}/resolution"
    assert c.post(url, json=decision, headers=desk.any_agent).status_code == 403  # agents read, admins change
    wrong = c.post(url, json={**decision, "article_id": "no-such-article"}, headers=desk.admin)
    assert wrong.status_code == 422 and "There is no article 'no-such-article'" in wrong.json()["detail"]
    assert c.post(url, json={"resolution": "delete"}, headers=desk.admin).status_code == 422
    assert teaching.files() == before

    done = c.post(url, json=decision, headers=desk.admin)
    assert done.status_code == 200, done.text
    assert done.json()["message"].startswith(f"Added to “{LOCKED}”.") and done.json()["article_id"] == "account-locked"
    assert teaching.front_matter("account-locked")["questions"][-1] == question
    assert teaching.wait_for_rebuilds() == 1
    again = c.post(url, json=decision, headers=desk.admin)
    assert again.status_code == 409 and "already dealt with" in again.json()["detail"]
    assert c.post("/api/kb/questions/999999/resolution", json=decision, headers=desk.admin).status_code == 404

    dismissed = c.post(f"/api/kb/questions/{other}/resolution", json={"resolution": "dismissed"}, headers=desk.admin)
    assert dismissed.json()["message"] == "Marked as done; no article was changed."
    assert c.get("/api/kb/gaps", headers=desk.admin).json()["unanswered"] == []
    assert teaching.wait_for_rebuilds() == 1  # dismissing changes no file


def test_a_form_without_the_csrf_token_is_refused(teaching: Teaching) -> None:
    asked = teaching.ask("locked out again")
    c = teaching.desk.client
    sign_in(c, "admin@kestrel.example")
    before = teaching.files()
    assert (
        c.post(f"/console/kb/questions/{asked}/answered-by", data={"answered_by": "account-locked"}).status_code == 403
    )
    assert c.post(f"/console/kb/questions/{asked}/not-in-help-centre", data={"csrf": "forged"}).status_code == 403
    assert teaching.files() == before


def test_unknown_or_answered_questions_are_not_found(teaching: Teaching) -> None:
    answered = teaching.ask("how do i unlock my account", outcome="answered")
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    for question_id in (answered, 999_999):
        response = c.post(f"/console/kb/questions/{question_id}/not-in-help-centre", data={"csrf": token})
        assert response.status_code == 404 and response.json()["detail"] == "No such unanswered question"
    assert c.post(f"/console/kb/questions/{2**63}/not-in-help-centre", data={"csrf": token}).status_code == 422


@pytest.mark.parametrize(
    ("action", "data", "article_id", "message"),
    [
        ("answered-by", {"answered_by": "no-such-article"}, "account-locked",
         "There is no article 'no-such-article' in the index; pick one from the list."),
        ("answered-by", {"answered_by": ""}, "account-locked", "Pick the article that answers the question first."),
        ("answered-by", {"answered_by": "faq-outdoor-temperature"}, "account-locked",
         "is a FAQ row (faq-quick-answers.csv), which has no front matter to add questions to."),
        ("not-in-help-centre", {}, None, "This question has no closest article to note it beside"),
    ],
)  # fmt: skip
def test_a_question_that_cannot_be_added_says_why_and_changes_nothing(
    teaching: Teaching, action: str, data: dict, article_id: str | None, message: str
) -> None:
    asked = teaching.ask("is it ok in the snow", article_id)
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    before = teaching.files()
    page = c.post(f"/console/kb/questions/{asked}/{action}", data={**data, "csrf": token}).text
    notice = page.split('class="notice error"')[1].split("</p>")[0]
    assert message in html.unescape(notice)
    assert "is it ok in the snow" in unanswered_rows(page)  # still waiting
    assert teaching.files() == before and teaching.wait_for_rebuilds() == 0


def test_without_the_kb_source_folder_the_page_says_why_and_nothing_changes(teaching: Teaching) -> None:
    asked = teaching.ask("locked out again")
    shutil.rmtree(teaching.source)
    c = teaching.desk.client
    token = sign_in(c, "admin@kestrel.example")
    page = c.get("/console/kb").text
    assert "/answered-by" not in page
    assert f"This helpdesk cannot change the articles: their folder {teaching.source}" in page
    page = c.post(f"/console/kb/questions/{asked}/not-in-help-centre", data={"csrf": token}).text
    assert "This helpdesk cannot change the articles" in page and "locked out again" in unanswered_rows(page)
