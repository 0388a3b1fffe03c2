import pytest

from bot.kb.followup import contextualize, is_follow_up


@pytest.mark.parametrize(
    "question",
    [
        "and how long does that take?",
        "what about international orders?",
        "does that work for the doorbell too?",
        "how much does it cost?",
        "can I do that in the app",
    ],
)
def test_is_follow_up_recognises_continuations(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "How do I reset my password?",
        "my camera shows offline since yesterday evening and I already restarted the router",
        "where is my order",
        "",
    ],
)
def test_is_follow_up_leaves_standalone_questions_alone(question: str) -> None:
    assert not is_follow_up(question)


def test_contextualize_joins_a_follow_up_to_the_topic() -> None:
    assert contextualize("and how long does that take?", "How do I return an item?") == (
        "How do I return an item? and how long does that take?",
        True,
    )


def test_contextualize_without_a_topic_keeps_the_question() -> None:
    assert contextualize("and how long does that take?", None) == ("and how long does that take?", False)
