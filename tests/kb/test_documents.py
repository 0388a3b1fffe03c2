from pathlib import Path

from bot.kb.documents import load_articles
from tests.factories import write_article, write_small_kb


def test_load_articles_reads_front_matter(tmp_path: Path) -> None:
    write_small_kb(tmp_path)
    articles, problems = load_articles(tmp_path)
    assert problems == []
    by_id = {a.id: a for a in articles}
    assert set(by_id) == {"reset-password", "refund-times", "track-order"}
    reset = by_id["reset-password"]
    assert reset.title == "Reset your password"
    assert reset.url == "https://help.example/reset-password"
    assert reset.tags == ("test",)
    assert reset.body.startswith("## Forgotten password")


def test_load_articles_id_defaults_to_file_name(tmp_path: Path) -> None:
    (tmp_path / "shipping-costs.md").write_text("---\ntitle: Shipping costs\n---\nStandard delivery is free.\n")
    (article,), _ = load_articles(tmp_path)
    assert article.id == "shipping-costs"


def test_load_articles_reports_bad_files_and_keeps_the_rest(tmp_path: Path) -> None:
    write_small_kb(tmp_path)
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n")
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\nCaf\xe9 au lait.\n".encode("latin-1"))
    write_article(tmp_path / "..", "x", "x", "x")  # outside the folder: not read
    (tmp_path / "zz-duplicate.md").write_text("---\nid: track-order\ntitle: Another\n---\nText.\n")
    (tmp_path / "no-closing.md").write_text("---\ntitle: Open\nText without an end.\n")

    articles, problems = load_articles(tmp_path)

    assert sorted(a.id for a in articles) == ["refund-times", "reset-password", "track-order"]
    messages = {Path(p.path).name: p.message for p in problems}
    assert messages["broken.md"].startswith("broken front matter")
    assert messages["empty.md"] == "empty file"
    assert "not UTF-8" in messages["latin1.md"]
    assert "duplicate id 'track-order'" in messages["zz-duplicate.md"]
    assert "no closing '---'" in messages["no-closing.md"]
    assert all(str(tmp_path) in p.path for p in problems)


def test_load_articles_reads_faq_csv_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text(
        'question,answer\n"Do you ship abroad?","Yes, to 30 countries."\nGift cards?,"Yes, from 10 EUR."\n'
    )
    (tmp_path / "more.jsonl").write_text(
        '{"faq_id": 7, "question": "Careers?", "answers": ["See our jobs page.", "We hire remotely."]}\n'
    )
    articles, problems = load_articles(tmp_path)
    assert problems == []
    by_id = {a.id: a for a in articles}
    assert by_id["faq-1"].title == "Do you ship abroad?"
    assert by_id["faq-2"].body == "Yes, from 10 EUR."
    assert by_id["7"].body == "See our jobs page.\n\nWe hire remotely."


def test_load_articles_rejects_faq_without_answer_column(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text("q,a\nx,y\n")
    articles, (problem,) = load_articles(tmp_path)
    assert articles == []
    assert "needs 'question' and 'answer' columns" in problem.message


def test_load_articles_reads_html(tmp_path: Path) -> None:
    (tmp_path / "gift.html").write_text(
        '<html><head><title>Gift wrapping</title><meta name="kb-id" content="gift-wrap">'
        '<meta name="kb-url" content="https://help.example/gift"><script>alert(1)</script></head>'
        "<body><h1>Gift wrapping</h1><h2>Cost</h2><p>Wrapping costs <b>3 EUR</b>.</p>"
        "<ul><li>Add a note.</li></ul></body></html>"
    )
    (article,), problems = load_articles(tmp_path)
    assert problems == []
    assert (article.id, article.title, article.url) == ("gift-wrap", "Gift wrapping", "https://help.example/gift")
    assert article.body == "## Cost\n\nWrapping costs 3 EUR .\n\nAdd a note."
    assert "alert" not in article.body


def test_content_hash_changes_with_body(tmp_path: Path) -> None:
    write_small_kb(tmp_path)
    before = {a.id: a.content_hash for a in load_articles(tmp_path)[0]}
    write_article(tmp_path, "refund-times", "How long refunds take", "Refunds take 3 days now.")
    after = {a.id: a.content_hash for a in load_articles(tmp_path)[0]}
    assert before["refund-times"] != after["refund-times"]
    assert before["track-order"] == after["track-order"]


def test_example_questions_are_read_from_the_front_matter(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "refund-times",
        "How long refunds take",
        "Refunds take 5 days.",
        questions=["wheres my money", "refund late"],
    )
    write_article(tmp_path, "track-order", "Track your order", "Open Orders.")
    by_id = {a.id: a for a in load_articles(tmp_path)[0]}
    assert by_id["refund-times"].questions == ("wheres my money", "refund late")
    assert by_id["track-order"].questions == ()


def test_example_questions_count_in_the_content_hash_only_when_there_are_some(tmp_path: Path) -> None:
    write_article(tmp_path, "refund-times", "How long refunds take", "Refunds take 5 days.")
    (plain,), _ = load_articles(tmp_path)
    write_article(tmp_path, "refund-times", "How long refunds take", "Refunds take 5 days.", questions=["refund late"])
    (asked,), _ = load_articles(tmp_path)
    assert plain.content_hash != asked.content_hash
    # The hash an article without questions had before questions existed (a kept index stays valid).
    import hashlib
    import json

    payload = json.dumps([plain.id, plain.title, plain.url, plain.body], ensure_ascii=False)
    assert plain.content_hash == hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def test_questions_that_are_not_a_list_name_the_file(tmp_path: Path) -> None:
    write_small_kb(tmp_path)
    (tmp_path / "odd.md").write_text("---\ntitle: Odd\nquestions:\n  where: is it\n---\nText.\n")
    articles, problems = load_articles(tmp_path)
    assert len(articles) == 3
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'odd.md'}: broken front matter: 'questions' must be a list of questions, one per line"
    ]


def test_not_answered_questions_are_read_and_leave_the_content_hash_alone(tmp_path: Path) -> None:
    write_article(tmp_path, "refund-times", "How long refunds take", "Refunds take 5 days.", questions=["refund late"])
    (before,), _ = load_articles(tmp_path)
    write_article(
        tmp_path,
        "refund-times",
        "How long refunds take",
        "Refunds take 5 days.",
        questions=["refund late"],
        not_answered=["refund in bitcoin?", "do refunds include the gift wrap"],
    )
    (after,), problems = load_articles(tmp_path)
    assert problems == []
    assert after.not_answered == ("refund in bitcoin?", "do refunds include the gift wrap")
    # Adding one re-embeds only it (bot/kb/index.py), not the article's passages.
    assert after.content_hash == before.content_hash


def test_not_answered_that_is_not_a_list_names_the_file_and_the_key(tmp_path: Path) -> None:
    (tmp_path / "odd.md").write_text("---\ntitle: Odd\nnot_answered:\n  where: is it\n---\nText.\n")
    articles, problems = load_articles(tmp_path)
    assert articles == []
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'odd.md'}: broken front matter: 'not_answered' must be a list of questions, one per line"
    ]
