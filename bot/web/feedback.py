"""Rating a resolved ticket from the email's signed link: no sign-in, no way to rate someone else's."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from bot.notify.links import reference_from_keep_open_token, reference_from_token
from bot.tickets.store import TicketNotFound

router = APIRouter(tags=["feedback"])


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def _reference(request: Request, token: str) -> str:
    reference = reference_from_token(request.app.state.settings.secret_key, token)
    if reference is None:
        raise HTTPException(404, "This rating link is not valid or has expired.")
    return reference


@router.get("/feedback/{token}", response_class=HTMLResponse)
def rate_from_email(request: Request, token: str, rating: Annotated[int, Query(ge=1, le=5)]) -> HTMLResponse:
    reference = _reference(request, token)
    try:
        request.app.state.store.rate(reference, rating, via="email")
    except TicketNotFound:
        raise HTTPException(404, "This ticket no longer exists.") from None
    form = (
        f"<p>You rated {html.escape(reference)} {rating} out of 5. Thank you!</p>"
        f'<form method="post"><input type="hidden" name="rating" value="{rating}">'
        '<label for="comment">Anything you would like to tell us? (optional)</label><br>'
        '<textarea id="comment" name="comment" rows="4" cols="50" maxlength="2000"></textarea><br>'
        '<button type="submit">Send comment</button></form>'
    )
    return _page("Thanks for your rating", form)


@router.post("/feedback/{token}", response_class=HTMLResponse)
def comment_from_email(
    request: Request,
    token: str,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    reference = _reference(request, token)
    request.app.state.store.rate(reference, rating, comment=comment, via="email")
    return _page("Thank you", f"<p>Your comment on {html.escape(reference)} reached our team.</p>")


@router.get("/keep-open/{token}", response_class=HTMLResponse)
def keep_open_from_email(request: Request, token: str) -> HTMLResponse:
    """The one-tap "keep it open" from a "still need help?" email."""
    reference = reference_from_keep_open_token(request.app.state.settings.secret_key, token)
    if reference is None:
        raise HTTPException(404, "This link is not valid or has expired.")
    try:
        request.app.state.store.keep_open(reference, via="email")
    except TicketNotFound:
        raise HTTPException(404, "This ticket no longer exists.") from None
    except ValueError:
        return _page("Ticket already closed", f"<p>{html.escape(reference)} was closed. Start a new chat for help.</p>")
    return _page("We'll keep it open", f"<p>{html.escape(reference)} stays open; our team will get back to you.</p>")
