"""What "No" to "Did this solve it?" brings once: the next best confident article, else another
part of the article just shown.

"No" after the right article usually means the wrong part of it: of the answers with the right
article, the passage shown misses the answer for about one in seven, and the article's next
passage then often holds it (docs/benchmarks.md, "Which passage is shown"). A wrong article, when
another one is confident, is usually followed by the right one, so that comes first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.kb.search import Hit, KnowledgeBase

__all__ = ["SecondTry", "second_try"]


@dataclass(frozen=True)
class SecondTry:
    hit: Hit
    same_article: bool  # another part of the article just shown, not another article


def second_try(
    kb: KnowledgeBase, query: str, hits: list[Hit], shown_article_id: str, read: Collection[str] | None = None
) -> SecondTry | None:
    """The next best article among `hits` (the search's for `query`) if it is confident; else the
    shown article's best passage for `query` less what the customer has `read` of it (`kb.read_keys`;
    by default, what `query` finds in it now); None when there is neither."""
    others = [h for h in hits if h.article_id != shown_article_id]
    if others and others[0].score >= kb.threshold:
        return SecondTry(others[0], same_article=False)
    shown = next((h for h in hits if h.article_id == shown_article_id), None)
    if shown is None:
        return None
    if not read:
        read = kb.read_keys(shown_article_id, shown.passage)
    other = kb.other_passage(query, shown_article_id, read)
    return SecondTry(replace(shown, passage=other), same_article=True) if other else None
