"""Routing with the real rules file and the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.tickets.routing import Router
from tests.fakes import HashingEmbedder

RULES = PROJECT_ROOT / "bot" / "tickets" / "routing.yml"


@pytest.fixture(scope="module")
def router(demo_kb) -> Router:
    return Router.from_file(RULES, demo_kb.embedder, demo_kb.index)


@pytest.mark.parametrize(
    ("text", "category", "team"),
    [
        ("I was charged twice for my order", "billing", "Billing"),
        ("my camera keeps dropping off the network", "technical", "Technical support"),
        ("the parcel with my doorbell never showed up", "orders", "Logistics"),
        ("please send me everything you store about me", "privacy", "Privacy and security"),
        ("I can't get into my account any more", "account", "Accounts"),
    ],
)
def test_routes_to_the_team_that_handles_it(router: Router, text: str, category: str, team: str) -> None:
    route = router.route(text)
    assert (route.category, route.team) == (category, team)


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("I was charged twice!", "high"),
        ("I can't log in since this morning", "high"),
        ("I think there was a data breach, someone else logged in", "urgent"),
        ("my doorbell chime is a bit quiet", "normal"),
        ("just wondering whether the hub has a fan", "low"),
    ],
)
def test_priority_follows_urgency_cues(router: Router, text: str, priority: str) -> None:
    assert router.priority(text) == priority


def test_without_any_signal_a_ticket_goes_to_general_support() -> None:
    assert Router.from_file(RULES).route("hmm").category == "other"


def test_a_rules_file_without_a_fallback_category_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "routing.yml"
    rules.write_text("categories:\n  billing:\n    team: Billing\n")
    with pytest.raises(ValueError, match="'other' category"):
        Router.from_file(rules)


def test_a_categorys_articles_lend_it_their_example_questions_with_the_index_vectors(tmp_path: Path) -> None:
    from bot.kb.index import build_index, load_index
    from tests.factories import write_article

    source = tmp_path / "kb"
    source.mkdir()
    question = "sent it back weeks ago, when does my money come"
    write_article(source, "refund-policy", "Refund policy", "Refunds take 5 days.", questions=[question])
    build_index(source, tmp_path / "index", HashingEmbedder(), show_progress=False)
    index = load_index(tmp_path / "index")
    rules = tmp_path / "routing.yml"
    rules.write_text(
        "categories:\n"
        "  billing:\n    team: Billing\n    articles: [refund-policy, an-article-since-removed]\n"
        "    examples: [I was charged twice]\n"
        "  orders:\n    team: Logistics\n    examples: [where is my parcel]\n"
        "  other:\n    team: General support\n"
    )
    embedder = HashingEmbedder()
    router = Router.from_file(rules, embedder, index)
    assert router.categories["billing"].examples == ("I was charged twice", "Refund policy", question)
    assert router.categories["billing"].articles == ("refund-policy", "an-article-since-removed")
    text = "when does my money come, sent it back"
    assert router.categorize(text) == ("billing", "examples")
    # The article's questions came with their vectors from the index: only the rules' own
    # phrases and the ticket's text were embedded.
    assert sorted(t for call in embedder.calls for t in call) == sorted(
        ["I was charged twice", "where is my parcel", text]
    )
    # Without the article's questions nothing is near enough: the ticket would go to "other".
    assert Router.from_file(rules, HashingEmbedder()).categorize(text) == ("other", "fallback")


def test_every_help_centre_article_belongs_to_one_team(demo_kb) -> None:
    """A typo in routing.yml's `articles:` would silently lose an article's questions."""
    import yaml

    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["categories"]
    assigned = [a for spec in rules.values() for a in spec.get("articles") or ()]
    assert sorted(assigned) == sorted(demo_kb.index.articles)


def test_the_help_centre_article_the_kb_finds_decides_the_team(router: Router, demo_kb) -> None:
    """ "box" and "hub" read like a device problem; the KB finds the missing-items article, which
    Logistics handles (its id is listed under `orders` in routing.yml)."""
    text = "box came but the hub isnt in it"
    closest = demo_kb.search(text, top_k=1)[0]
    assert closest.article_id == "order-missing-items"
    assert router.categorize(text, closest) == ("orders", "article")
    assert router.route(text, closest).team == "Logistics"
    assert router.categorize(text)[0] != "orders"  # what the words alone would have said


def test_a_far_or_unlisted_article_leaves_the_decision_to_the_words(router: Router) -> None:
    from bot.kb.search import Hit
    from bot.tickets.routing import MIN_ARTICLE_SCORE

    text = "I was charged twice for my order"
    far = Hit("track-order", "Track your order", "https://example.com", MIN_ARTICLE_SCORE - 0.01, "…")
    unlisted = Hit("an-article-no-team-lists", "Gone", "https://example.com", MIN_ARTICLE_SCORE + 1, "…")
    near = Hit("track-order", "Track your order", "https://example.com", MIN_ARTICLE_SCORE, "…")
    assert router.categorize(text, far) == router.categorize(text) == ("billing", "keywords")
    assert router.categorize(text, unlisted) == ("billing", "keywords")
    assert router.categorize(text, near) == ("orders", "article")


def test_routing_evaluation_routes_with_the_kbs_article_or_by_words_alone(router: Router, demo_kb) -> None:
    from bot.tickets.evaluate import evaluate_routing

    rows = [("box came but the hub isnt in it", "orders"), ("I was charged twice for my order", "billing")]
    with_kb = evaluate_routing(router, rows, demo_kb)
    assert (with_kb.correct, with_kb.by_method["article"]) == (2, 2)
    by_words = evaluate_routing(router, rows)
    assert by_words.by_method["article"] == 0 and by_words.correct == 1
