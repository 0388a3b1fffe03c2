import pytest

from bot.kb.evaluate import Question, evaluate_follow_up_reading, score_follow_up_passages
from bot.kb.followup import answer_in_context, contextualize, is_elliptical, is_follow_up, passage_for_follow_up


@pytest.mark.parametrize(
    "question",
    [
        "and how long does that take?",
        "what about international orders?",
        "does that work for the doorbell too?",
        "how much does it cost?",
        "can I do that in the app",
        "what if i don't get the email for it",  # an opener: "the email" does not settle "it"
        "can i get it there by friday",
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
        "the app crashes when i open it",  # names what "it" is before saying it
        "my order says backordered what does that mean",
        "is there a free trial for the paid plan",  # no place meant by "there"
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


def test_a_follow_up_is_answered_with_its_topic(demo_kb) -> None:
    answer, query, follow_up = answer_in_context(
        demo_kb, "and how long does that take?", "how do i send back something i bought"
    )
    assert follow_up and query == "how do i send back something i bought and how long does that take?"
    assert answer.decision == "answer" and answer.best.article_id == "return-an-item"


def test_a_follow_up_answerable_on_its_own_takes_the_topic_when_that_reading_is_surer(demo_kb) -> None:
    question, topic = "how much does it cost?", "how do i return my doorbell"
    alone = demo_kb.answer(question)
    answer, query, follow_up = answer_in_context(demo_kb, question, topic)
    assert follow_up and query == f"{topic} {question}"
    assert answer.decision == "answer" and answer.best.article_id == "return-an-item"
    assert alone.best.article_id != "return-an-item"  # alone it is about some other price


def test_a_new_question_that_says_it_is_not_bent_towards_the_last_topic(demo_kb) -> None:
    question = "app keeps crashing when i open it"
    assert is_follow_up(question)  # short, and "it" points back at nothing named: it reads like a follow-up
    answer, query, follow_up = answer_in_context(demo_kb, question, "how do i reset my password")
    assert not follow_up and query == question
    assert answer.decision == "answer" and answer.best.article_id == "app-crashes"


@pytest.mark.parametrize(
    ("topic", "question", "article_id"),
    [
        (
            "im locked out of my account, it says temporarily locked",
            "also how long do refunds take to show up",
            "account-locked",
        ),
        (
            "how do i delete my kestrel account permanently",
            "but first, how do i cancel that order from today",
            "delete-account",
        ),
    ],
)
def test_a_new_subject_that_says_it_is_not_answered_with_the_last_topic(
    demo_kb, topic: str, question: str, article_id: str
) -> None:
    # Joined, the topic's words win; alone, the topic's article is nowhere near the best one.
    assert is_follow_up(question)
    assert demo_kb.answer(f"{topic} {question}").best.article_id == article_id
    answer, query, follow_up = answer_in_context(demo_kb, question, topic)
    assert not follow_up and query == question
    assert answer.best.article_id != article_id
    assert len(answer.hits) <= 5  # the wider search alone is cut back to the usual closest articles


def test_a_question_of_a_few_words_that_says_nothing_alone_is_read_with_the_topic(demo_kb) -> None:
    question, topic = "how much?", "do you ship internationally"
    assert is_elliptical(question) and not is_follow_up(question)  # neither "it" nor "and"
    assert demo_kb.answer(question).decision == "escalate"
    answer, query, follow_up = answer_in_context(demo_kb, question, topic)
    assert follow_up and query == f"{topic} {question}"
    assert answer.decision == "answer" and answer.best.article_id == "international-shipping"


def test_a_question_of_a_few_words_that_answers_itself_is_read_alone(demo_kb, monkeypatch) -> None:
    question, topic = "where is my order", "how do i reset my password"
    assert is_elliptical(question)
    assert demo_kb.answer(f"{topic} {question}").best.article_id == "reset-password"  # joined, the topic wins
    searched = []
    answer_one = demo_kb.answer
    monkeypatch.setattr(demo_kb, "answer", lambda text, **kw: searched.append(text) or answer_one(text, **kw))
    answer, query, follow_up = answer_in_context(demo_kb, question, topic)
    assert not follow_up and query == question
    assert answer.best.article_id == "track-order"
    assert searched == [question]  # sure enough alone: no second search (and embedding) joined to the topic


@pytest.mark.parametrize(
    ("topic", "question", "article_id"),
    [
        ("how do i delete my kestrel account", "can i undo?", "delete-account"),
        ("not getting motion notifications on my phone", "on android?", "motion-alerts-not-working"),
    ],
)
def test_a_few_words_confident_alone_take_the_topic_when_that_reading_is_far_surer(
    demo_kb, topic: str, question: str, article_id: str
) -> None:
    alone = demo_kb.answer(question)
    assert alone.decision == "answer" and alone.best.article_id != article_id  # alone, some other article
    answer, query, follow_up = answer_in_context(demo_kb, question, topic)
    assert follow_up and query == f"{topic} {question}"
    assert answer.decision == "answer" and answer.best.article_id == article_id


@pytest.mark.parametrize(
    ("topic", "question"),
    [
        ("how do i reset my password", "fluffy pancake recipe"),  # nowhere near the topic's article
        ("do u deliver to the uk", "to guernsey?"),  # near it, but "guernsey" is in no article
    ],
)
def test_a_few_words_no_article_answers_are_not_given_the_topics_article(demo_kb, topic: str, question: str) -> None:
    assert demo_kb.answer(f"{topic} {question}").decision == "answer"  # joined, the topic lends its confidence
    answer, _, follow_up = answer_in_context(demo_kb, question, topic)
    assert not follow_up and answer.decision == "escalate"


def test_a_longer_question_is_never_read_as_elliptical() -> None:
    assert not is_elliptical("can i pay with klarna please")
    assert not is_elliptical("?!")


def read_and_follow_up(demo_kb, topic: str, question: str):
    first = demo_kb.answer(topic).best
    read = demo_kb.read_keys(first.article_id, first.passage)
    answer, _, follow_up = answer_in_context(demo_kb, question, topic)
    assert follow_up and answer.best.article_id == first.article_id
    return first, read, answer.best, passage_for_follow_up(demo_kb, question, answer.best, read)


def test_a_follow_up_gets_another_passage_when_one_matches_the_question_as_well(demo_kb) -> None:
    _, read, best, shown = read_and_follow_up(
        demo_kb, "my doorbell battery drains really fast", "and how long does charging take?"
    )
    assert demo_kb.unread(best.article_id, best.passage, read) != best.passage  # joined, it finds what was read
    assert "Leave it for about 5 hours" in shown.passage
    assert demo_kb.unread(best.article_id, shown.passage, read) == shown.passage  # nothing of it read


def test_a_follow_up_whose_answer_was_read_gets_it_again_rather_than_a_poorer_passage(demo_kb) -> None:
    question = "and how long does that take?"
    first, read, best, shown = read_and_follow_up(demo_kb, "do you ship internationally", question)
    times = "Delivery to other countries takes 5 to 10 business days"
    assert times in first.passage and times in shown.passage
    # The best unread passage, taken whatever its score, says what happens when customs charges are refused.
    other = demo_kb.other_passage(question, best.article_id, read)
    assert other is not None and times not in other


def test_without_a_topic_the_question_is_read_alone(demo_kb) -> None:
    _, query, follow_up = answer_in_context(demo_kb, "  how much does it cost? ", None)
    assert (query, follow_up) == ("how much does it cost?", False)


def test_the_follow_up_reading_is_measured_against_always_joining_the_topic(demo_kb) -> None:
    questions = [
        Question("a", "the app crashes when i open it", "app-crashes", "test", "in_scope"),
        Question("b", "how do i reset my password", "reset-password", "test", "in_scope"),
    ]
    follow_ups = [
        {
            "topic": "how do i send back something i bought",
            "text": "and how long does that take?",
            "article_id": "return-an-item",
            "kind": "genuine",
            "split": "held_out",
        },
        {
            "topic": "im locked out of my account, it says temporarily locked",
            "text": "also how long do refunds take to show up",
            "article_id": "refund-policy",
            "kind": "switch",
            "split": "choosing",
        },
    ]
    follow_ups.append(
        {
            "topic": "do u deliver to the uk",
            "text": "to guernsey?",
            "article_id": None,
            "kind": "elliptical_unanswered",
            "split": "held_out",
        }
    )
    reading = evaluate_follow_up_reading(demo_kb, questions, follow_ups, topics_per_question=1)
    # After "how do i reset my password", joining would have answered with the password article.
    assert reading["standalone"] == {
        "cases": 1,
        "right_as_shipped": 1,
        "right_always_with_topic": 0,
        "right_always_alone": 1,
    }
    genuine = reading["genuine_held_out"]
    assert genuine["right_as_shipped"] == genuine["right_always_with_topic"] == 1
    assert genuine["right_always_alone"] == 0
    # The new subject is read alone; joined, the locked-account article would have been the answer.
    assert reading["switch_choosing"] == {
        "cases": 1,
        "right_as_shipped": 1,
        "right_always_with_topic": 0,
        "right_always_alone": 1,
    }
    # A follow-up no article answers is right when it is not answered.
    assert reading["elliptical_unanswered_held_out"]["right_as_shipped"] == 1
    assert reading["elliptical_unanswered_held_out"]["right_always_with_topic"] == 0


def test_the_passage_a_follow_up_is_shown_is_measured_against_always_another(demo_kb) -> None:
    rows = [
        {
            "topic": "do you ship internationally",
            "text": "and how long does that take?",
            "article_id": "international-shipping",
            "split": "held_out",
            "spans": ["Delivery to other countries takes 5 to 10 business days"],
        },
        {
            "topic": "do you ship internationally",
            "text": "how much?",
            "article_id": "x",
            "split": "held_out",
            "spans": ["a"],
        },
    ]
    # The second is not answered with its (made-up) article, so it is not counted.
    assert score_follow_up_passages(demo_kb, rows) == {
        "held_out": {"answered": 1, "as_shipped": 1, "always_another": 0, "best_even_if_read": 1}
    }
