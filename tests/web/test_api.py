"""The helpdesk REST API: authentication, permissions, and what each change does to a ticket."""

from __future__ import annotations

from sqlalchemy import select

from bot.tickets.models import OutboxMessage
from tests.web.conftest import Helpdesk, bearer


def outbox(helpdesk: Helpdesk) -> list[OutboxMessage]:
    with helpdesk.store.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_no_token_or_a_wrong_one_is_401(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    assert c.get("/api/tickets").status_code == 401
    response = c.get("/api/tickets", headers=bearer("kst_not-a-real-token"))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert c.post(f"/api/tickets/{helpdesk.billing_ref}/replies", json={"body": "hi"}).status_code == 401


def test_an_agent_sees_only_their_teams_tickets(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    mine = c.get("/api/tickets", headers=helpdesk.billing_agent).json()
    assert [t["reference"] for t in mine] == [helpdesk.billing_ref]
    everything = c.get("/api/tickets", headers=helpdesk.admin).json()
    assert {t["reference"] for t in everything} == {helpdesk.billing_ref, helpdesk.technical_ref}
    # Someone else's ticket looks exactly like a missing one.
    hidden = c.get(f"/api/tickets/{helpdesk.technical_ref}", headers=helpdesk.billing_agent)
    missing = c.get("/api/tickets/SUP-999999", headers=helpdesk.billing_agent)
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
    blocked = c.post(
        f"/api/tickets/{helpdesk.technical_ref}/replies", json={"body": "hi"}, headers=helpdesk.billing_agent
    )
    assert blocked.status_code == 404


def test_filters_and_search(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    assert [t["summary"] for t in c.get("/api/tickets?q=twice", headers=helpdesk.any_agent).json()] == ["Charged twice"]
    assert c.get("/api/tickets?status=resolved", headers=helpdesk.any_agent).json() == []
    assert c.get("/api/tickets?status=lost", headers=helpdesk.any_agent).status_code == 422


def test_only_admins_manage_users(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    new = {"email": "nia@kestrel.example", "password": "long enough pw", "role": "agent"}
    assert c.post("/api/users", json=new, headers=helpdesk.any_agent).status_code == 403
    assert c.get("/api/users", headers=helpdesk.any_agent).status_code == 403
    created = c.post("/api/users", json=new, headers=helpdesk.admin)
    assert created.status_code == 201 and created.json()["email"] == "nia@kestrel.example"
    again = c.post("/api/users", json=new, headers=helpdesk.admin)
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    assert c.post("/api/users", json={**new, "password": "short"}, headers=helpdesk.admin).status_code == 422


def test_a_reply_reaches_the_transcript_the_audit_trail_and_the_outbox(helpdesk: Helpdesk) -> None:
    response = helpdesk.client.post(
        f"/api/tickets/{helpdesk.technical_ref}/replies",
        json={"body": "Please hold the reset button for 15 seconds."},
        headers=helpdesk.any_agent,
    )
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["status"] == "open" and ticket["first_responded_at"] is not None
    assert ticket["transcript"][-1]["sender"] == "agent"
    assert ticket["events"][-1] | {"at": None} == {
        "at": None,
        "kind": "reply",
        "actor": "agent:tom@kestrel.example",
        "body": "Please hold the reset button for 15 seconds.",
        "public": True,
        "data": {},
    }
    (message,) = outbox(helpdesk)
    assert (message.kind, message.body, message.state) == (
        "reply",
        "Please hold the reset button for 15 seconds.",
        "pending",
    )
    assert (
        helpdesk.client.post(
            f"/api/tickets/{helpdesk.technical_ref}/replies", json={"body": ""}, headers=helpdesk.any_agent
        ).status_code
        == 422
    )


def test_a_note_stays_internal(helpdesk: Helpdesk) -> None:
    ticket = helpdesk.client.post(
        f"/api/tickets/{helpdesk.billing_ref}/notes",
        json={"body": "Refund approved by finance"},
        headers=helpdesk.billing_agent,
    ).json()
    assert ticket["events"][-1]["public"] is False
    assert ticket["status"] == "new" and outbox(helpdesk) == []


def test_status_priority_team_and_assignee_changes(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    changed = c.patch(
        f"/api/tickets/{helpdesk.technical_ref}",
        json={
            "status": "resolved",
            "priority": "high",
            "assignee_email": "tom@kestrel.example",
            "reason": "Reset fixed it",
        },
        headers=helpdesk.any_agent,
    ).json()
    assert (changed["status"], changed["priority"]) == ("resolved", "high")
    assert changed["resolved_at"] is not None and changed["assignee_id"] is not None
    (notice,) = outbox(helpdesk)
    assert notice.kind == "status" and notice.data == {"from": "new", "to": "resolved"}
    assert (
        c.patch(f"/api/tickets/{helpdesk.technical_ref}", json={"status": "lost"}, headers=helpdesk.admin).status_code
        == 422
    )
    unknown = c.patch(
        f"/api/tickets/{helpdesk.technical_ref}", json={"assignee_email": "x@y.example"}, headers=helpdesk.admin
    )
    assert unknown.status_code == 400


def test_merging_a_duplicate_closes_it_and_keeps_its_transcript(helpdesk: Helpdesk) -> None:
    c = helpdesk.client
    merged = c.post(
        f"/api/tickets/{helpdesk.billing_ref}/merge", json={"into": helpdesk.technical_ref}, headers=helpdesk.admin
    )
    assert merged.status_code == 200
    target = merged.json()
    assert target["reference"] == helpdesk.technical_ref
    assert any(line.get("merged_from") == helpdesk.billing_ref for line in target["transcript"])
    source = c.get(f"/api/tickets/{helpdesk.billing_ref}", headers=helpdesk.admin).json()
    assert source["status"] == "closed"
    assert (
        c.post(
            f"/api/tickets/{helpdesk.technical_ref}/merge",
            json={"into": helpdesk.technical_ref},
            headers=helpdesk.admin,
        ).status_code
        == 400
    )


def test_the_openapi_schema_lists_the_api(helpdesk: Helpdesk) -> None:
    paths = helpdesk.client.get("/openapi.json").json()["paths"]
    assert {"/api/tickets", "/api/tickets/{reference}", "/api/tickets/{reference}/replies", "/api/users"} <= set(paths)
