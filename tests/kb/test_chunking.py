from bot.kb.chunking import Block, Chunk, chunk_article, markdown_to_text, split_sections, table_sentences
from bot.kb.documents import Article


def test_markdown_to_text_keeps_link_words_and_drops_emphasis() -> None:
    assert markdown_to_text("Go to **Account > Security** and [open settings](https://x.example).") == (
        "Go to Account > Security and open settings."
    )


def test_split_sections_separates_headings_paragraphs_and_list_items() -> None:
    body = "Intro line one\ncontinues here.\n\n## Steps\n1. Open the app\n2. Tap Settings\n\n## Notes\nDone."
    assert split_sections(body) == [
        ("", [Block("Intro line one continues here.")]),
        ("Steps", [Block("Open the app", "1. ", own_line=True), Block("Tap Settings", "2. ", own_line=True)]),
        ("Notes", [Block("Done.")]),
    ]


def test_chunk_article_packs_sentences_within_the_word_limit_and_sections() -> None:
    sentence = "This sentence has exactly six words."
    body = "## First\n" + " ".join([sentence] * 5) + "\n\n## Second\nShort one."
    article = Article(id="a", title="Title", body=body)
    chunks = chunk_article(article, max_words=13)
    assert [c.section for c in chunks] == ["First", "First", "First", "Second"]
    assert chunks[0].text == f"{sentence} {sentence}"
    assert chunks[2].text == sentence
    assert all(len(c.text.split()) <= 13 for c in chunks)


def test_a_list_is_shown_item_by_item_and_embedded_as_before() -> None:
    # "can I pay with klarna?" once showed "... American Express PayPal iDEAL (Netherlands only)
    # Klarna: ...": items without a full stop ran together into one line.
    body = (
        "You can pay with:\n\n"
        "- **Cards:** Visa and Mastercard\n"
        "* PayPal\n"
        "- Klarna: pay in 30 days. No interest.\n\n"
        "Then confirm the order.\n\n"
        "## Steps\n"
        "1. Open the app\n"
        "2. Tap Pay\n"
    )
    intro, steps = chunk_article(Article(id="a", title="Paying", body=body))
    assert intro.text == (
        "You can pay with: Cards: Visa and Mastercard PayPal Klarna: pay in 30 days. No interest. "
        "Then confirm the order."
    )
    assert intro.shown == (
        "You can pay with:\n- Cards: Visa and Mastercard\n- PayPal\n- Klarna: pay in 30 days. No interest.\n"
        "Then confirm the order."
    )
    assert steps.text == "Open the app Tap Pay"
    assert steps.shown == "1. Open the app\n2. Tap Pay"
    # Prose alone is shown as it is embedded.
    (prose,) = chunk_article(Article(id="b", title="T", body="One line.\n\nAnother paragraph."))
    assert prose.display == "" and prose.shown == prose.text == "One line. Another paragraph."


def test_an_item_split_across_chunks_keeps_its_mark_only_where_it_starts() -> None:
    sentence = "This sentence has exactly six words."
    body = "- " + " ".join([sentence] * 3) + "\n- Last item"
    first, second = chunk_article(Article(id="a", title="T", body=body), max_words=13)
    assert first.shown == f"- {sentence} {sentence}"
    assert second.shown == f"{sentence}\n- Last item"


def test_chunk_keeps_an_overlong_sentence_whole() -> None:
    long_sentence = " ".join(["word"] * 30) + "."
    (chunk,) = chunk_article(Article(id="a", title="T", body=long_sentence), max_words=10)
    assert chunk.text == long_sentence


def test_embedding_text_carries_title_and_section() -> None:
    assert (
        Chunk("a", "Refund times", "It takes 5 days.").embedding_text("Refunds")
        == "Refunds. Refund times. It takes 5 days."
    )
    assert Chunk("a", "", "It takes 5 days.").embedding_text("Refunds") == "Refunds. It takes 5 days."


def test_a_markdown_table_is_read_row_by_row_as_sentences() -> None:
    body = (
        "## Compare the plans\n"
        "Both plans include alerts.\n"
        "| | **Protect Basic** | Protect Plus |\n"
        "|---|:---:|---|\n"
        "| Price per month | EUR 3.99 | EUR 9.99 |\n"
        "| Warranty | 2 years | |\n"
        "Prices include VAT.\n"
    )
    assert split_sections(body) == [
        (
            "Compare the plans",
            [
                Block("Both plans include alerts."),
                Block("Price per month: Protect Basic EUR 3.99; Protect Plus EUR 9.99.", own_line=True),
                Block("Warranty: Protect Basic 2 years.", own_line=True),
                Block("Prices include VAT."),
            ],
        )
    ]
    # A first column with a header of its own is still the row's name.
    shipping = ["| Option | Cost |", "|---|---|", "| Express | EUR 9.95 |"]
    assert table_sentences(shipping) == ["Express: Cost EUR 9.95."]
    # A lone row (no header) is kept as its words, never lost.
    assert table_sentences(["| just | one row |"]) == ["just one row"]
    assert table_sentences(["|---|---|"]) == []
