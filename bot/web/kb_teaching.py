"""What an admin decides about a question the bot could not answer, for the console and the API.

"taught": the question goes into the `questions:` of the article that answers it;
"not_answered": into its closest article's `not_answered:` (the help centre does not answer it);
"dismissed": nothing to change. The Markdown file is edited first and the question's row resolved
after, so a failure in between leaves the question listed and a second try only resolves the row.
Each change to an article asks for an index rebuild, which the running bot picks up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config import Settings
from bot.kb.teach import FrontMatterKey, TeachError, add_front_matter_question
from bot.tickets.kb_questions import resolve, unanswered_question

ResolutionName = Literal["taught", "not_answered", "dismissed"]

# The front matter list each resolution adds to.
_KEYS: dict[str, FrontMatterKey] = {"taught": "questions", "not_answered": "not_answered"}


@dataclass(frozen=True)
class Outcome:
    """What happened, in a sentence for the admin, with the HTTP status an API answers with."""

    status: int
    message: str
    article_id: str | None = None  # the article whose file gained the question

    @property
    def ok(self) -> bool:
        return self.status < 400


def article_titles(index_dir: Path) -> dict[str, tuple[str, str]]:
    """Article id -> (title, url) from the KB index, so pages name articles as customers see
    them; empty when there is no index here (the ids are shown instead)."""
    try:
        meta = json.loads((Path(index_dir) / "meta.json").read_text(encoding="utf-8"))
        return {a["id"]: (a["title"], a["url"]) for a in meta["articles"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def cannot_teach(settings: Settings, articles: dict[str, tuple[str, str]]) -> str:
    """Why this helpdesk cannot change the articles (empty when it can)."""
    if not Path(settings.kb_source_dir).is_dir():
        return (
            f"This helpdesk cannot change the articles: their folder {settings.kb_source_dir} "
            "(SUPPORT_KB_SOURCE_DIR) is not on this machine."
        )
    if not articles:
        return (
            f"This helpdesk cannot change the articles: there is no KB index in {settings.kb_index_dir} "
            "(SUPPORT_KB_INDEX_DIR) to list them; run make index."
        )
    return ""


def resolve_question(
    app_state: Any, question_id: int, resolution: ResolutionName, chosen: str | None, *, actor: str
) -> Outcome:
    """Carry out an admin's decision about one unanswered question (`app_state`: the helpdesk's
    settings, ticket store and index rebuilder). `chosen`: the answering article, for "taught"."""
    settings: Settings = app_state.settings
    sessions = app_state.store.sessions
    articles = article_titles(settings.kb_index_dir)
    with sessions() as session:
        row = unanswered_question(question_id, session=session)
        if row is None:
            return Outcome(404, "No such unanswered question.")
        question, closest, done = row.question, row.article_id, row.resolution
    if done:
        return Outcome(409, "Someone already dealt with this question; nothing was changed.")
    if resolution == "dismissed":
        _resolve_row(sessions, question_id, resolution, None, actor)
        return Outcome(200, "Marked as done; no article was changed.")
    refused = cannot_teach(settings, articles)
    if refused:
        return Outcome(503, refused)
    if resolution == "taught":
        if not chosen:
            return Outcome(422, "Pick the article that answers the question first.")
        if chosen not in articles:
            return Outcome(422, f"There is no article '{chosen}' in the index; pick one from the list.")
        target = chosen
    else:
        if not closest:
            return Outcome(
                422,
                "This question has no closest article to note it beside; write an article for it, "
                "or pick the article that answers it.",
            )
        target = closest
    title = articles[target][0] if target in articles else target
    try:
        taught = add_front_matter_question(settings.kb_source_dir, target, question, _KEYS[resolution])
    except TeachError as exc:
        return Outcome(422, str(exc))
    _resolve_row(sessions, question_id, resolution, target, actor)
    if not taught.added:
        listed = "questions" if resolution == "taught" else "questions it does not answer"
        return Outcome(200, f"“{title}” already lists this question among its {listed}; marked as done.", target)
    app_state.kb_rebuilder.request()
    if resolution == "taught":
        text = f"Added to “{title}”."
    else:
        text = f"Noted beside “{title}” as a question the help centre does not answer."
    return Outcome(200, f"{text} The bot uses it within a minute, when the index is rebuilt.", target)


def _resolve_row(sessions, question_id: int, resolution: str, article_id: str | None, actor: str) -> None:
    with sessions.begin() as session:
        row = unanswered_question(question_id, session=session)
        if row is not None and row.resolution is None:  # not resolved meanwhile by someone else
            resolve(row, resolution=resolution, article_id=article_id, by=actor, session=session)
