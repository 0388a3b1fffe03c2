import pytest

from bot.kb.lexical import LexicalIndex
from bot.kb.shorthand import expand_shorthand
from bot.kb.spelling import Speller

HELP_CENTRE = [
    "Turn on notifications for motion alerts in the app.",
    "Reset your password from the sign-in page. The PW field is case-sensitive.",
]


@pytest.fixture(scope="module")
def help_centre() -> LexicalIndex:
    return LexicalIndex(HELP_CENTRE)


@pytest.mark.parametrize(
    ("question", "written_out"),
    [
        ("no notifs from the cams", "no notifications from the cams"),
        ("do u ship to norway", "do you ship to norway"),
        ("Whats ur phone nr", "Whats your phone number"),
        ("cams offline since last nite b4 the storm", "cams offline since last night before the storm"),
        ("close my acc pls.", "close my account please."),
    ],
)
def test_chat_shorthand_is_written_out(help_centre: LexicalIndex, question: str, written_out: str) -> None:
    assert expand_shorthand(question, help_centre.uses) == written_out


@pytest.mark.parametrize(
    "question",
    [
        "forgot my pw",  # the help centre says "PW" itself
        "write to u@example.com or see www.example.com/u",  # addresses stay as written
        "order KH-nr12",  # and order numbers
        "do you ship to the u.s.",  # and abbreviations with dots
        "need 2 min",  # "min" is a minute or a minimum: not guessed at
        "pwned",  # only whole words
    ],
)
def test_forms_the_help_centre_uses_or_that_are_not_words_alone_stay(help_centre: LexicalIndex, question: str) -> None:
    assert expand_shorthand(question, help_centre.uses) == question


def test_the_speller_writes_out_shorthand_and_puts_typos_right(help_centre: LexicalIndex) -> None:
    speller = Speller(help_centre.uses, model_words=frozenset())
    assert speller.correct("no notifs, resett pasword?") == "no notifications, reset password?"


def test_shorthand_in_example_questions_alone_is_still_written_out(help_centre: LexicalIndex) -> None:
    # Example questions are in customers' words: "pls" there is no sign the help centre means
    # something else by it, while its typo corrections may still draw on them.
    example_words = frozenset({"pls", "zorbex"})
    speller = Speller(
        lambda word: help_centre.uses(word, also_known=example_words),
        model_words=frozenset(),
        articles_use=help_centre.uses,
    )
    assert speller.correct("pls pair the zorbexx") == "please pair the zorbex"
