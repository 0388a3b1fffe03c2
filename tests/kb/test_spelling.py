import pytest

from bot.kb.spelling import Speller

HELP_CENTRE = [
    "Restart the camera from the app. A camera that stays offline needs its battery charged.",
    "Cameras and the doorbell share one hub. They do not read fingerprints. Reset the hub with its pin.",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(HELP_CENTRE, model_words=frozenset({"lamp"}))


@pytest.mark.parametrize(
    ("question", "corrected"),
    [
        ("my camra is offline", "my camera is offline"),
        ("doorbel battary flat", "doorbell battery flat"),
        ("Camra wont start", "camera wont start"),
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


def test_a_word_of_the_models_vocabulary_is_not_corrected() -> None:
    # "hubz" is one typo from "hub" and no English word, but a model that knows it whole reads it as meant.
    assert Speller(HELP_CENTRE, model_words=frozenset({"hubz"})).correct("two hubz") == "two hubz"
    assert Speller(HELP_CENTRE, model_words=frozenset()).correct("two hubz") == "two hub"


def test_the_help_centres_most_used_word_wins_a_tie() -> None:
    # "camerax" is one typo from "camera" (used twice) and "cameras" (once).
    assert Speller(HELP_CENTRE, model_words=frozenset()).correct("camerax") == "camera"
