"""The helpdesk REST API under /api: tickets for agents, users for admins. Bearer tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from bot.notify.rasa_push import PushFailed
from bot.tickets.desk import Desk
from bot.tickets.kb_questions import gaps_report
from bot.tickets.store import TicketNotFound, TicketView
from bot.tickets.users import Agent, UserDirectory
from bot.web.console import HandoffId, QuestionId, check_csrf
from bot.web.kb_teaching import ResolutionName, resolve_question

router = APIRouter(prefix="/api", tags=["helpdesk"])
_bearer = HTTPBearer(auto_error=False)

Status = Literal["new", "open", "pending_customer", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class TicketSummary(BaseModel):
    reference: str
    status: str
    priority: str
    category: str
    team: str
    customer_email: str
    summary: str
    channel: str
    created_at: str
    updated_at: str
    first_response_due: str
    resolution_due: str
    first_responded_at: str | None
    rating: int | None


class TicketDetail(TicketSummary):
    description: str
    order_ref: str | None
    conversation_id: str
    resolved_at: str | None
    closed_at: str | None
    assignee_id: int | None
    rating_comment: str | None
    transcript: list[dict[str, Any]]
    events: list[dict[str, Any]]


class Text(BaseModel):
    body: str = Field(min_length=1, max_length=5000)


class TicketChange(BaseModel):
    status: Status | None = None
    priority: Priority | None = None
    team: str | None = Field(default=None, min_length=1, max_length=60)
    assignee_email: str | None = None
    reason: str = Field(default="", max_length=500)


class Merge(BaseModel):
    into: str = Field(min_length=1, max_length=20)


class NewUser(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(min_length=10, max_length=200)
    role: Literal["agent", "admin"] = "agent"
    name: str = Field(default="", max_length=120)
    team: str | None = Field(default=None, max_length=60)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    team: str | None


def desk(request: Request) -> Desk:
    return request.app.state.desk


def users(request: Request) -> UserDirectory:
    return request.app.state.users


def current_agent(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Agent:
    """An API token, or the console's signed-in session (cookie) for the same endpoints."""
    agent = None
    if credentials is not None:
        agent = users(request).by_token(credentials.credentials)
    elif "session" in request.scope and request.session.get("user_id") is not None:
        agent = users(request).get(int(request.session["user_id"]))
        if agent is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            # A cookie rides along on forged cross-site requests; the CSRF header cannot.
            check_csrf(request, request.headers.get("x-csrf-token"))
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in or send a valid API token", headers={"WWW-Authenticate": "Bearer"}
        )
    return agent


def admin(agent: Annotated[Agent, Depends(current_agent)]) -> Agent:
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins can do this")
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]
DeskDep = Annotated[Desk, Depends(desk)]


def _summary(ticket: TicketView) -> TicketSummary:
    return TicketSummary.model_validate({k: v for k, v in ticket.to_dict().items() if k in TicketSummary.model_fields})


def _detail(ticket: TicketView) -> TicketDetail:
    return TicketDetail.model_validate({k: v for k, v in ticket.to_dict().items() if k in TicketDetail.model_fields})


def _act(action):
    """Run a desk action, turning its errors into HTTP answers."""
    try:
        return action()
    except TicketNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such ticket") from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@router.get("/me", response_model=UserOut)
def me(agent: AgentDep) -> UserOut:
    return UserOut(id=agent.id, email=agent.email, name=agent.name, role=agent.role, team=agent.team)


@router.get("/tickets", response_model=list[TicketSummary])
def list_tickets(
    agent: AgentDep,
    tickets: DeskDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    team: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TicketSummary]:
    return [_summary(t) for t in _act(lambda: tickets.queue(agent, status=status_, team=team, query=q, limit=limit))]


@router.get("/tickets/{reference}", response_model=TicketDetail)
def get_ticket(reference: str, agent: AgentDep, tickets: DeskDep) -> TicketDetail:
    return _detail(_act(lambda: tickets.visible(agent, reference)))


@router.post("/tickets/{reference}/replies", response_model=TicketDetail, status_code=201)
def reply(reference: str, text: Text, agent: AgentDep, tickets: DeskDep) -> TicketDetail:
    """A public reply: pushed into the customer's chat (or emailed) by the outbox worker."""
    return _detail(_act(lambda: tickets.reply(agent, reference, text.body)))


@router.post("/tickets/{reference}/notes", response_model=TicketDetail, status_code=201)
def note(reference: str, text: Text, agent: AgentDep, tickets: DeskDep) -> TicketDetail:
    """An internal note: never shown to the customer."""
    return _detail(_act(lambda: tickets.note(agent, reference, text.body)))


@router.patch("/tickets/{reference}", response_model=TicketDetail)
def change(reference: str, change: TicketChange, agent: AgentDep, tickets: DeskDep, request: Request) -> TicketDetail:
    assignee_id = None
    if change.assignee_email:
        assignee = users(request).by_email(change.assignee_email)
        if assignee is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"no agent {change.assignee_email}")
        assignee_id = assignee.id

    def apply() -> TicketView:
        ticket = tickets.update(agent, reference, priority=change.priority, team=change.team, assignee_id=assignee_id)
        if change.status:
            ticket = tickets.set_status(agent, reference, change.status, reason=change.reason)
        return ticket

    return _detail(_act(apply))


@router.post("/tickets/{reference}/merge", response_model=TicketDetail)
def merge(reference: str, body: Merge, agent: AgentDep, tickets: DeskDep) -> TicketDetail:
    """Close this ticket as a duplicate of `into`; returns the ticket it was merged into."""
    return _detail(_act(lambda: tickets.merge(agent, reference, body.into)))


class KBResolution(BaseModel):
    """An admin's decision about a question the bot could not answer (the console's three buttons)."""

    resolution: ResolutionName
    article_id: str | None = Field(default=None, max_length=200, description="the answering article, for 'taught'")


class KBResolved(BaseModel):
    message: str
    article_id: str | None
    rebuild: dict[str, Any]


def _rebuild_status(request: Request) -> dict[str, Any]:
    found = request.app.state.kb_rebuilder.status()
    return {
        "building": found.building,
        "last_finished_at": found.last_finished_at.isoformat() if found.last_finished_at else None,
        "last_ok": found.last_ok,
        "last_summary": found.last_summary,
    }


@router.get("/kb/gaps")
def kb_gaps(
    _: AgentDep,
    request: Request,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    article: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The Help centre report: what customers asked that the bot could not answer, answers they
    said "No" to, and how each article fared (as `kb gaps --json`), with the index rebuild's status."""
    report = gaps_report(request.app.state.store.sessions, days=days, limit=limit, closest_to=article)
    return {**report.as_dict(), "rebuild": _rebuild_status(request)}


@router.post("/kb/questions/{question_id}/resolution", response_model=KBResolved)
def kb_resolve(
    question_id: QuestionId, body: KBResolution, agent: Annotated[Agent, Depends(admin)], request: Request
) -> KBResolved:
    """Add the question to the article that answers it ("taught"), note it beside its closest
    article as not answered ("not_answered"), or leave the articles as they are ("dismissed")."""
    outcome = resolve_question(request.app.state, question_id, body.resolution, body.article_id, actor=agent.actor)
    if not outcome.ok:
        raise HTTPException(outcome.status, outcome.message)
    return KBResolved(message=outcome.message, article_id=outcome.article_id, rebuild=_rebuild_status(request))


@router.get("/users", response_model=list[UserOut])
def list_users(_: Annotated[Agent, Depends(admin)], request: Request) -> list[UserOut]:
    return [UserOut(**a.__dict__) for a in users(request).list()]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: NewUser, _: Annotated[Agent, Depends(admin)], request: Request) -> UserOut:
    try:
        agent = users(request).create(body.email, body.password, role=body.role, name=body.name, team=body.team)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return UserOut(**agent.__dict__)


# --- live handoff -------------------------------------------------------------------------


class Presence(BaseModel):
    available: bool


class HandoffOut(BaseModel):
    id: int
    conversation_id: str
    channel: str
    state: str
    topic: str
    agent_id: int | None
    requested_at: str
    picked_up_at: str | None


def _handoff(request: Request, handoff_id: int) -> Any:
    handoff = request.app.state.handoffs.get(handoff_id)
    if handoff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such live chat")
    return handoff


def _live(action):
    try:
        return action()
    except PushFailed as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the chat could not be reached: {exc}") from None


@router.post("/presence", status_code=204)
def presence(body: Presence, agent: AgentDep, request: Request) -> None:
    """On duty for live chats (the console renews this while the agent is there)."""
    request.app.state.handoffs.set_available(agent.id, body.available)


@router.get("/handoffs", response_model=list[HandoffOut])
def handoffs(_: AgentDep, request: Request) -> list[HandoffOut]:
    return [HandoffOut(**h.to_dict()) for h in request.app.state.handoffs.waiting_and_active()]


@router.get("/handoffs/{handoff_id}/messages")
def handoff_messages(handoff_id: HandoffId, _: AgentDep, request: Request) -> list[dict[str, Any]]:
    handoff = _handoff(request, handoff_id)
    return _live(lambda: request.app.state.live.messages(handoff))


@router.post("/handoffs/{handoff_id}/pickup", response_model=HandoffOut)
def pick_up(handoff_id: HandoffId, agent: AgentDep, request: Request) -> HandoffOut:
    _handoff(request, handoff_id)
    if not request.app.state.handoffs.pick_up(handoff_id, agent.id):
        raise HTTPException(status.HTTP_409_CONFLICT, "someone else picked this chat up, or it ended")
    handoff = _handoff(request, handoff_id)
    _live(lambda: request.app.state.live.join(handoff, agent.name))
    return HandoffOut(**handoff.to_dict())


@router.post("/handoffs/{handoff_id}/messages", status_code=201)
def handoff_say(handoff_id: HandoffId, text: Text, agent: AgentDep, request: Request) -> dict[str, str]:
    handoff = _handoff(request, handoff_id)
    if handoff.state != "active" or handoff.agent_id != agent.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "pick this chat up first")
    _live(lambda: request.app.state.live.send(handoff, agent.name, text.body))
    return {"status": "sent"}


@router.post("/handoffs/{handoff_id}/handback", response_model=HandoffOut)
def hand_back(handoff_id: HandoffId, agent: AgentDep, request: Request) -> HandoffOut:
    handoff = _handoff(request, handoff_id)
    if handoff.agent_id != agent.id and not agent.is_admin:
        raise HTTPException(status.HTTP_409_CONFLICT, "this chat is someone else's")
    if not request.app.state.handoffs.hand_back(handoff_id):
        raise HTTPException(status.HTTP_409_CONFLICT, "this chat is not live")
    _live(lambda: request.app.state.live.hand_back(handoff, agent.name))
    return HandoffOut(**_handoff(request, handoff_id).to_dict())
