from bot.kb.replies import FEEDBACK_BUTTONS, MAX_PASSAGE_CHARS, RELATED_FLOOR, answer_reply, not_found_reply
from bot.kb.search import Hit


def hit(article_id: str = "refunds", score: float = 0.8, passage: str = "Refunds take 5 days.") -> Hit:
    return Hit(article_id, f"Title of {article_id}", f"https://help.example/{article_id}", score, passage)


def test_answer_reply_cites_the_article_and_asks_for_feedback() -> None:
    first, second = answer_reply(hit())
    assert "Refunds take 5 days." in first.text
    assert "[Title of refunds](https://help.example/refunds)" in first.text
    assert first.article == {"id": "refunds", "title": "Title of refunds", "url": "https://help.example/refunds"}
    assert second.text == "Did this solve it?"
    assert [b["title"] for b in second.buttons] == ["Yes, that solved it", "No"]
    assert second.buttons == FEEDBACK_BUTTONS


def test_answer_reply_shortens_a_long_passage() -> None:
    first, _ = answer_reply(hit(passage="word " * 500))
    assert first.text.count("word") < 500
    assert "..." in first.text
    assert len(first.text) < MAX_PASSAGE_CHARS + 200


def test_not_found_reply_lists_only_related_articles_and_no_answer() -> None:
    reply, offer = not_found_reply([hit("a", 0.5), hit("b", RELATED_FLOOR - 0.01)], after_tries=True)
    assert reply.text.startswith("Sorry, I couldn't find an answer")
    assert "Title of a" in reply.text
    assert "Title of b" not in reply.text
    assert reply.buttons == []
    # Then a ticket is offered, and declining is one tap.
    assert [b["payload"] for b in offer.buttons] == ["/open_ticket", "/decline_ticket"]


def test_not_found_reply_without_related_articles_is_still_honest() -> None:
    reply, _offer = not_found_reply([])
    assert "rather not guess" in reply.text
    assert "come closest" not in reply.text
