"""Plain functions that write small KB source folders for tests."""

from __future__ import annotations

from pathlib import Path


def write_article(
    folder: Path,
    article_id: str,
    title: str,
    body: str,
    *,
    tags: str = "[test]",
    questions: list[str] | None = None,
    not_answered: list[str] | None = None,
) -> Path:
    path = folder / f"{article_id}.md"
    asked = "".join(f'\n  - "{q}"' for q in questions or [])
    unanswered = "".join(f'\n  - "{q}"' for q in not_answered or [])
    path.write_text(
        f"---\nid: {article_id}\ntitle: {title}\nurl: https://help.example/{article_id}\ntags: {tags}\n"
        + (f"questions:{asked}\n" if questions else "")
        + (f"not_answered:{unanswered}\n" if not_answered else "")
        + f"---\n{body}\n",
        encoding="utf-8",
    )
    return path


def write_small_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_article(
        folder,
        "reset-password",
        "Reset your password",
        "## Forgotten password\nOpen the sign-in page and choose Forgot password. "
        "We email you a reset link that works for 30 minutes.\n\n## No email arrived\nCheck your spam folder.",
    )
    write_article(
        folder,
        "refund-times",
        "How long refunds take",
        "Refunds reach your card within 5 to 10 business days after we receive the return.",
    )
    write_article(
        folder,
        "track-order",
        "Track your order",
        "Open Orders in your account and choose Track parcel to see where your delivery is.",
    )
    return folder
