import pytest

from bot.kb.lexical import LexicalIndex
from bot.kb.spelling import Speller

HELP_CENTRE = [
    "Restart the camera from the app. A camera that stays offline needs its battery charged.",
    "Cameras and the doorbell share one hub. They do not read fingerprints. Reset the hub with its pin.",
    "Pair the Zorbex sensor with the hub.",
]


@pytest.fixture(scope="module")
def help_centre() -> LexicalIndex:
    return LexicalIndex(HELP_CENTRE)


@pytest.fixture(scope="module")
def speller(help_centre: LexicalIndex) -> Speller:
    return Speller(help_centre.uses, model_words=frozenset({"lamp"}))


@pytest.mark.parametrize(
    ("question", "corrected"),
    [
        ("my camra is offline", "my camera is offline"),
        ("doorbel battary flat", "doorbell battery flat"),
        ("Camra wont start", "camera wont start"),
        ("my sensro is offline", "my sensor is offline"),  # two letters swapped
        ("the zorbexx sensor", "the zorbex sensor"),  # a name of the help centre's that English never uses
    ],
)
def test_a_non_word_one_typo_from_a_help_centre_word_becomes_that_word(
    speller: Speller, question: str, corrected: str
) -> None:
    assert speller.correct(question) == corrected


@pytest.mark.parametrize(
    "question",
    [
        "can the camera read a fingerprint",  # English words one typo from the help centre's
        "my camera is in a knot",  # "fingerprints" and "not"
        "the lamo is broken",  # "lamp" is the model's word, not the help centre's: no correction to it
        "why this resut",  # likeliest "result", which the help centre does not use, not its "reset"
        "a cmra",  # two typos away
        "write to help@camra.com or see www.camra.com/doorbel",  # addresses are written as they are
        "order KX-camra12",  # and so are order numbers
        "hub",  # too short to guess at
        "camera offline",  # nothing to correct
    ],
)
def test_real_words_and_words_too_far_from_the_help_centre_stay_as_written(speller: Speller, question: str) -> None:
    assert speller.correct(question) == question


def test_a_word_of_the_models_vocabulary_is_not_corrected(help_centre: LexicalIndex) -> None:
    # "hubz" is one typo from "hub" and no English word, but a model that knows it whole reads it as meant.
    assert Speller(help_centre.uses, model_words=frozenset({"hubz"})).correct("two hubz") == "two hubz"
    assert Speller(help_centre.uses, model_words=frozenset()).correct("two hubz") == "two hub"


def test_the_help_centre_uses_a_word_as_written_and_every_stop_word(help_centre: LexicalIndex) -> None:
    # "fingerprints" is written in it; "fingerprint" is not, though BM25 stems both alike. "with"
    # is written, though BM25 drops it as a stop word, so a misspelt one can be put right.
    assert help_centre.uses("fingerprints") and help_centre.uses("with") and help_centre.uses("into")
    assert not help_centre.uses("fingerprint") and not help_centre.uses("result")
    assert help_centre.uses("result", also_known=frozenset({"result"}))
