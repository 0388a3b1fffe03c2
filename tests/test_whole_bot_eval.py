"""`kb eval-bot`: the demo questions through the whole running bot, sorted by what came back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.kb.evaluate import Question
from bot.kb.replies import answer_reply, not_found_reply
from bot.kb.search import Hit
from bot.whole_bot_eval import BotReply, classify_reply, summarise

URLS = {"https://help.example.com/reset-password": "reset-password"}


def reset_password_hit(score: float = 0.9) -> Hit:
    url = "https://help.example.com/reset-password"
    return Hit(article_id="reset-password", title="Reset your password", url=url, passage="Tap Forgot.", score=score)


def as_rest_body(replies) -> list[dict]:
    """What Rasa's REST channel returns for these replies: one object per message."""
    return [{"recipient_id": "x", "text": r.text, **({"buttons": r.buttons} if r.buttons else {})} for r in replies]


def test_an_answer_is_recognised_by_its_article_link_and_mapped_to_the_article() -> None:
    body = as_rest_body(answer_reply(reset_password_hit()))
    reply = classify_reply(body, URLS)
    assert (reply.outcome, reply.article_id) == ("answered", "reset-password")
    assert reply.text.startswith("Here's what I found in **Reset your password**")


def test_the_honest_answer_lists_articles_but_is_not_an_answer() -> None:
    body = as_rest_body(not_found_reply([reset_password_hit(0.5)]))
    reply = classify_reply(body, URLS)
    assert reply.outcome == "not_found" and reply.article_id is None
    assert "Reset your password" in reply.text  # the closest article was listed, and still not counted


def test_out_of_scope_and_anything_else_are_told_apart() -> None:
    oos = [{"text": "Sorry, that's outside what I can help with. I answer questions about Kestrel Home accounts."}]
    assert classify_reply(oos, URLS).outcome == "out_of_scope"
    assert classify_reply([{"text": "Hi! How can I help?"}], URLS).outcome == "other"
    assert classify_reply([], URLS).outcome == "other"


def test_the_summary_counts_right_and_wrong_articles_and_out_of_scope_answered() -> None:
    questions = [
        Question("1", "forgot password", "reset-password", "test", "in_scope"),
        Question("2", "where is my parcel", "track-order", "test", "in_scope"),
        Question("3", "printer toner?", None, "test", "oos_near"),
        Question("4", "weather?", None, "test", "oos_far"),
        Question("5", "billing?", None, "fresh", "oos_near"),
    ]
    replies = [
        BotReply("answered", "reset-password"),
        BotReply("answered", "reset-password"),  # the wrong article for question 2
        BotReply("answered", "track-order"),  # an out-of-scope question answered
        BotReply("out_of_scope"),
        BotReply("not_found"),
    ]
    splits = summarise(questions, replies)
    assert splits["test"]["right_article"] == 1 and splits["test"]["wrong_article"] == 1
    assert splits["test"]["right_article_rate"] == 0.5
    assert splits["test"]["out_of_scope_answered"] == 1 and splits["test"]["out_of_scope_answered_rate"] == 0.5
    assert splits["test"]["out_of_scope_answered_by_kind"] == {"oos_near": 1}
    assert splits["test"]["out_of_scope_stopped_by"] == {"out_of_scope": 1}
    assert splits["fresh"]["answerable"] == 0 and splits["fresh"]["right_article_rate"] is None
    assert splits["fresh"]["out_of_scope_stopped_by"] == {"not_found": 1}


@pytest.mark.e2e
def test_eval_bot_asks_the_running_bot_and_sorts_its_replies(project_artifacts: None, tmp_path: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "a", "text": "I forgot my password and can't log in", "article_id": "reset-password", "split": "t"},
        {"id": "b", "text": "what is the capital of australia", "split": "t", "kind": "oos_far"},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "whole_bot.json"
    assert main(["kb", "eval-bot", "--questions", str(questions), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    by_id = {r["id"]: r for r in figures["replies"]}
    assert (by_id["a"]["outcome"], by_id["a"]["article_id"]) == ("answered", "reset-password")
    assert by_id["b"]["outcome"] in {"out_of_scope", "not_found"}, by_id["b"]
    assert figures["splits"]["t"]["right_article"] == 1 and figures["splits"]["t"]["out_of_scope_answered"] == 0
