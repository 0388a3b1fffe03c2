"""The agent console: server-rendered pages, a signed session cookie, CSRF tokens on every form.

New messages appear without reloading: the pages poll the same JSON API (the session cookie
authenticates those calls; state-changing API calls from the browser send the CSRF token in
an `X-CSRF-Token` header).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.tickets.kb_questions import gaps_report
from bot.tickets.models import STATUSES
from bot.tickets.store import TicketNotFound
from bot.tickets.users import Agent
from bot.web.kb_teaching import ResolutionName, article_titles, cannot_teach, resolve_question

# A database row id (console and API): anything outside a signed 64-bit integer is refused with
# 422, not a server error.
HandoffId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
QuestionId = HandoffId
router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf") or ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "The form expired or did not come from this console. Reload the page and try again.")


def signed_in(request: Request) -> Agent | None:
    user_id = request.session.get("user_id")
    return request.app.state.users.get(int(user_id)) if user_id is not None else None


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def due_text(due: datetime, now: datetime) -> tuple[str, bool]:
    """("due in 3 h 20 min", False) or ("overdue by 45 min", True)."""
    minutes = int((due - now).total_seconds() // 60)
    overdue = minutes < 0
    minutes = abs(minutes)
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return (f"overdue by {text}" if overdue else f"due in {text}"), overdue


templates.env.globals["due_text"] = due_text


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str = "") -> Response:
    return templates.TemplateResponse(request, "login.html", {"csrf": csrf_token(request), "error": error})


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    agent = request.app.state.users.authenticate(email, password)
    if agent is None:
        return templates.TemplateResponse(
            request, "login.html", {"csrf": csrf_token(request), "error": "Wrong email or password."}, status_code=401
        )
    request.session.clear()
    request.session["user_id"] = agent.id
    csrf_token(request)  # a fresh token for the signed-in session
    return RedirectResponse("/console", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return _login_redirect()


@router.get("", response_class=HTMLResponse)
def queue(request: Request, status: str = "", team: str = "", q: str = "") -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    status = status if status in STATUSES else ""
    tickets = request.app.state.desk.queue(agent, status=status or None, team=team or None, query=q or None)
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "agent": agent,
            "tickets": tickets,
            "statuses": STATUSES,
            "status": status,
            "team": team,
            "q": q,
            "now": datetime.now(UTC),
            "csrf": csrf_token(request),
        },
    )


@router.get("/tickets/{reference}", response_class=HTMLResponse)
def ticket_page(request: Request, reference: str) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    try:
        ticket = request.app.state.desk.visible(agent, reference)
    except TicketNotFound:
        raise HTTPException(404, "No such ticket") from None
    return templates.TemplateResponse(
        request,
        "ticket.html",
        {"agent": agent, "ticket": ticket, "statuses": STATUSES, "now": datetime.now(UTC), "csrf": csrf_token(request)},
    )


def _act_and_return(request: Request, reference: str, csrf: str, action) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    check_csrf(request, csrf)
    try:
        action(agent)
    except TicketNotFound:
        raise HTTPException(404, "No such ticket") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(f"/console/tickets/{reference}", status_code=303)


@router.post("/tickets/{reference}/reply")
def reply(
    request: Request, reference: str, body: Annotated[str, Form(max_length=5000)], csrf: Annotated[str, Form()] = ""
) -> Response:
    return _act_and_return(request, reference, csrf, lambda a: request.app.state.desk.reply(a, reference, body))


@router.post("/tickets/{reference}/note")
def note(
    request: Request, reference: str, body: Annotated[str, Form(max_length=5000)], csrf: Annotated[str, Form()] = ""
) -> Response:
    return _act_and_return(request, reference, csrf, lambda a: request.app.state.desk.note(a, reference, body))


@router.post("/tickets/{reference}/status")
def set_status(
    request: Request, reference: str, status: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
) -> Response:
    return _act_and_return(request, reference, csrf, lambda a: request.app.state.desk.set_status(a, reference, status))


# --- live chats -----------------------------------------------------------------------------


@router.get("/live", response_class=HTMLResponse)
def live_queue(request: Request) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    handoffs = request.app.state.handoffs
    return templates.TemplateResponse(
        request,
        "live.html",
        {
            "agent": agent,
            "chats": handoffs.waiting_and_active(),
            "on_duty": handoffs.agents_on_duty(),
            "csrf": csrf_token(request),
        },
    )


@router.post("/presence")
def set_presence(request: Request, available: Annotated[str, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    check_csrf(request, csrf)
    request.app.state.handoffs.set_available(agent.id, available == "yes")
    request.session["available"] = available == "yes"
    return RedirectResponse("/console/live", status_code=303)


@router.get("/live/{handoff_id}", response_class=HTMLResponse)
def live_chat(request: Request, handoff_id: HandoffId) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    handoff = request.app.state.handoffs.get(handoff_id)
    if handoff is None:
        raise HTTPException(404, "No such live chat")
    return templates.TemplateResponse(
        request, "live_chat.html", {"agent": agent, "chat": handoff, "csrf": csrf_token(request)}
    )


def _live_action(request: Request, handoff_id: HandoffId, csrf: str, action) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    check_csrf(request, csrf)
    from bot.web import api  # the same checks as the JSON API

    action(agent, api)
    return RedirectResponse(f"/console/live/{handoff_id}", status_code=303)


@router.post("/live/{handoff_id}/pickup")
def live_pick_up(request: Request, handoff_id: HandoffId, csrf: Annotated[str, Form()] = "") -> Response:
    return _live_action(request, handoff_id, csrf, lambda a, api: api.pick_up(handoff_id, a, request))


@router.post("/live/{handoff_id}/say")
def live_say(
    request: Request,
    handoff_id: HandoffId,
    body: Annotated[str, Form(max_length=5000)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    return _live_action(
        request, handoff_id, csrf, lambda a, api: api.handoff_say(handoff_id, api.Text(body=body), a, request)
    )


@router.post("/live/{handoff_id}/handback")
def live_hand_back(request: Request, handoff_id: HandoffId, csrf: Annotated[str, Form()] = "") -> Response:
    return _live_action(request, handoff_id, csrf, lambda a, api: api.hand_back(handoff_id, a, request))


# --- the help centre's gaps ------------------------------------------------------------------


@router.get("/kb", response_class=HTMLResponse)
def help_centre(
    request: Request,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    article: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """What customers asked that the bot could not answer (all, or those closest to one
    `article`), and how customers rated the articles given as answers. Admins add a question
    to the article that answers it, or note it as not answered, from here."""
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    settings = request.app.state.settings
    report = gaps_report(request.app.state.store.sessions, days=days, closest_to=article or None)
    articles = article_titles(settings.kb_index_dir)
    return templates.TemplateResponse(
        request,
        "kb.html",
        {
            "agent": agent,
            "report": report,
            "days": days,
            "closest_to": article,
            "articles": articles,
            "choices": sorted(articles.items(), key=lambda item: (item[1][0].casefold(), item[0])),
            "cannot_teach": cannot_teach(settings, articles),
            "rebuild": request.app.state.kb_rebuilder.status(),
            # Shown once: what the last button on this page did.
            "notice": request.session.pop("kb_notice", None),
            "csrf": csrf_token(request),
        },
    )


@router.post("/kb/questions/{question_id}/answered-by")
def kb_answered_by(
    request: Request,
    question_id: QuestionId,
    answered_by: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form(ge=1, le=365)] = 30,
    article: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The question is answered by the article `answered_by`: add it to that article's `questions:`."""
    return _resolve_kb_question(request, question_id, csrf, "taught", answered_by, days=days, closest_to=article)


@router.post("/kb/questions/{question_id}/dismiss")
def kb_dismiss(
    request: Request,
    question_id: QuestionId,
    days: Annotated[int, Form(ge=1, le=365)] = 30,
    article: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Nothing to change (the article given was right, or the question is noise): it leaves the list."""
    return _resolve_kb_question(request, question_id, csrf, "dismissed", None, days=days, closest_to=article)


@router.post("/kb/questions/{question_id}/not-in-help-centre")
def kb_not_in_help_centre(
    request: Request,
    question_id: QuestionId,
    days: Annotated[int, Form(ge=1, le=365)] = 30,
    article: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The help centre does not answer the question: add it to its closest article's `not_answered:`."""
    return _resolve_kb_question(request, question_id, csrf, "not_answered", None, days=days, closest_to=article)


def _resolve_kb_question(
    request: Request,
    question_id: int,
    csrf: str,
    resolution: ResolutionName,
    chosen: str | None,
    *,
    days: int,
    closest_to: str,
) -> Response:
    agent = signed_in(request)
    if agent is None:
        return _login_redirect()
    check_csrf(request, csrf)
    if not agent.is_admin:
        raise HTTPException(403, "Only admins can change the help centre's articles; ask an admin to do it.")
    outcome = resolve_question(request.app.state, question_id, resolution, chosen, actor=agent.actor)
    if outcome.status == 404:
        raise HTTPException(404, "No such unanswered question")
    back = RedirectResponse(
        "/console/kb?" + urlencode({"days": days, **({"article": closest_to} if closest_to else {})}), status_code=303
    )
    # "Someone already dealt with it" is news, not a mistake of this admin's.
    return _notice_and(back, request, outcome.message, error=not outcome.ok and outcome.status != 409)


def _notice_and(response: Response, request: Request, text: str, *, error: bool = False) -> Response:
    """Keep a one-line notice for the next page view (the redirect's target), then `response`."""
    request.session["kb_notice"] = {"text": text, "error": error}
    return response
