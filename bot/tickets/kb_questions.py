"""What customers asked the knowledge base and what came of it: the help centre's gaps.

The action server records each KB question (answered, escalated, off topic) and what the
customer said of the article given ("Yes, that solved it" or "No"). A background thread masks
personal data and writes them, so a customer's turn never waits for the database. The thread
waits BATCH_SECONDS after a question first, so that it does not compete for the interpreter with
the very turn that asked it, and so that the questions of a busy moment share one transaction
(1.7 ms of CPU a question written alone, 0.15 ms in a batch, measured here); `flush()` writes
what is queued at once and waits for it. The console's "Help centre" page and `python -m bot kb
gaps` read the report: which questions the bot could not answer, grouped by the closest article, and
which articles solved customers' problems and which did not. An admin who deals with an
unanswered question there (adds it to an article) marks it resolved: `resolve`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.tickets.models import KB_OUTCOMES, KB_RESOLUTIONS, KBQuestion

__all__ = ["GapsReport", "KBQuestionLog", "Unanswered", "gaps_report", "resolve", "unanswered_question"]

log = logging.getLogger(__name__)

# What the report shows of one question; longer ones are cut (the start says what it is about).
MAX_QUESTION_CHARS = 500
# How long a recorded question waits for others before the writer saves them together; the
# admins' report is a second behind the chat, which nobody reading it can tell.
BATCH_SECONDS = 1.0


@dataclass(frozen=True)
class _Asked:
    conversation_id: str
    channel: str
    question: str
    outcome: str
    article_id: str | None
    score: float | None
    asked_at: datetime


class KBQuestionLog:
    """Records questions from the action server's threads; one writer thread saves them."""

    def __init__(self, sessions: sessionmaker[Session], *, pipeline: str = "blank:en") -> None:
        self._sessions = sessions
        self._pipeline = pipeline
        self._queue: queue.Queue[_Asked] = queue.Queue()
        self._write_now = threading.Event()
        self._writer = threading.Thread(target=self._write_forever, name="kb-question-log", daemon=True)
        self._writer.start()

    def record(
        self,
        conversation_id: str,
        question: str,
        outcome: str,
        *,
        channel: str = "unknown",
        article_id: str | None = None,
        score: float | None = None,
    ) -> None:
        if outcome not in KB_OUTCOMES:
            raise ValueError(f"unknown outcome '{outcome}'")
        self._queue.put(
            _Asked(conversation_id, channel or "unknown", question, outcome, article_id, score, datetime.now(UTC))
        )

    def flush(self) -> None:
        """Until everything recorded so far is written (or failed and logged)."""
        self._write_now.set()
        self._queue.join()

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            self._write_now.wait(BATCH_SECONDS)  # cut short by flush()
            self._write_now.clear()
            while True:  # what else arrived meanwhile goes in the same transaction
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception:
                # A report loses these rows; the customers' conversations lose nothing.
                log.exception("could not record %d KB question(s)", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, batch: list[_Asked]) -> None:
        # Imported here: spaCy (and with it torch) would add 230 MB and 3 s to the helpdesk,
        # which only reads the report; the action server that writes has them loaded anyway.
        from bot.privacy import mask_personal_data

        rows = [
            KBQuestion(
                asked_at=asked.asked_at,
                conversation_id=asked.conversation_id[:200],
                channel=asked.channel[:40],
                question=mask_personal_data(" ".join(asked.question.split()), pipeline=self._pipeline)[
                    :MAX_QUESTION_CHARS
                ],
                outcome=asked.outcome,
                article_id=asked.article_id,
                score=asked.score,
            )
            for asked in batch
        ]
        with self._sessions.begin() as session:
            session.add_all(rows)


@dataclass(frozen=True)
class Unanswered:
    id: int  # the kb_questions row, which the page's buttons resolve
    asked_at: datetime
    question: str
    closest_article: str | None
    score: float | None
    channel: str


@dataclass
class ArticleFeedback:
    article_id: str
    answered: int = 0
    solved: int = 0
    not_helpful: int = 0

    @property
    def not_helpful_share(self) -> float:
        return self.not_helpful / self.answered if self.answered else 0.0


@dataclass
class GapsReport:
    since: datetime
    counts: Counter[str] = field(default_factory=Counter)  # outcome -> questions
    # The questions the bot could not answer and no admin has dealt with yet, newest first, and
    # how many of them each closest article drew: where an article is missing, or an existing
    # one needs the words.
    unanswered: list[Unanswered] = field(default_factory=list)
    unanswered_by_article: Counter[str] = field(default_factory=Counter)
    # The answers customers said "No" to and no admin has dealt with yet, newest first (the
    # article is the one given): a wrong article to correct, or a near miss to note.
    said_no: list[Unanswered] = field(default_factory=list)
    # Articles given as answers, those customers said "No" to most first.
    articles: list[ArticleFeedback] = field(default_factory=list)

    @property
    def questions(self) -> int:
        """Questions asked (a "Yes" or "No" is about an answer already counted; a second article
        given after a "No" counts as another answer)."""
        return sum(n for outcome, n in self.counts.items() if outcome not in ("solved", "not_helpful"))

    @property
    def solved_share(self) -> float:
        """Of the answers given, the share customers said solved their problem (many say nothing)."""
        return self.counts["solved"] / self.counts["answered"] if self.counts["answered"] else 0.0

    def share(self, outcome: str) -> float:
        return self.counts[outcome] / self.questions if self.questions else 0.0

    def as_dict(self) -> dict:
        """For `kb gaps --json`: the same report for a spreadsheet or another tool."""
        return {
            "since": self.since.isoformat(),
            "questions": self.questions,
            "counts": {outcome: self.counts[outcome] for outcome in KB_OUTCOMES},
            "solved_share": round(self.solved_share, 4),
            "unanswered": [
                {
                    "id": u.id,
                    "asked_at": u.asked_at.isoformat(),
                    "question": u.question,
                    "closest_article": u.closest_article,
                    "score": u.score,
                    "channel": u.channel,
                }
                for u in self.unanswered
            ],
            "unanswered_by_article": dict(self.unanswered_by_article.most_common()),
            "said_no": [
                {
                    "id": u.id,
                    "asked_at": u.asked_at.isoformat(),
                    "question": u.question,
                    "article_given": u.closest_article,
                    "channel": u.channel,
                }
                for u in self.said_no
            ],
            "articles": [
                {"article_id": a.article_id, "answered": a.answered, "solved": a.solved, "not_helpful": a.not_helpful}
                for a in self.articles
            ],
        }


def gaps_report(
    sessions: sessionmaker[Session], *, days: int = 30, limit: int = 100, closest_to: str | None = None
) -> GapsReport:
    """The last `days` days: counts per outcome, the `limit` newest unanswered questions not yet
    resolved by an admin (only those whose closest article is `closest_to`, when given), and per
    article how often it was the answer and how often customers said it solved the problem or
    did not help. The counts include resolved questions: they say what customers got."""
    since = datetime.now(UTC) - timedelta(days=days)
    report = GapsReport(since)
    recent = KBQuestion.asked_at >= since
    with sessions() as session:
        for outcome, count in session.execute(
            select(KBQuestion.outcome, func.count()).where(recent).group_by(KBQuestion.outcome)
        ):
            report.counts[outcome] = count
        open_gap = (KBQuestion.outcome == "escalated", KBQuestion.resolution.is_(None))

        def newest_open(outcome: str) -> list[Unanswered]:
            """The newest rows of `outcome` no admin has resolved (closest to `closest_to`, if given)."""
            query = select(KBQuestion).where(recent, KBQuestion.outcome == outcome, KBQuestion.resolution.is_(None))
            if closest_to is not None:
                query = query.where(KBQuestion.article_id == closest_to)
            rows = session.scalars(query.order_by(KBQuestion.asked_at.desc(), KBQuestion.id.desc()).limit(limit))
            return [Unanswered(r.id, r.asked_at, r.question, r.article_id, r.score, r.channel) for r in rows]

        report.unanswered = newest_open("escalated")
        report.said_no = newest_open("not_helpful")
        for article_id, count in session.execute(
            select(KBQuestion.article_id, func.count())
            .where(recent, *open_gap, KBQuestion.article_id.is_not(None))
            .group_by(KBQuestion.article_id)
        ):
            report.unanswered_by_article[str(article_id)] = count
        feedback: dict[str, ArticleFeedback] = {}
        for article_id, outcome, count in session.execute(
            select(KBQuestion.article_id, KBQuestion.outcome, func.count())
            .where(
                recent,
                KBQuestion.outcome.in_(("answered", "solved", "not_helpful")),
                KBQuestion.article_id.is_not(None),
            )
            .group_by(KBQuestion.article_id, KBQuestion.outcome)
        ):
            entry = feedback.setdefault(str(article_id), ArticleFeedback(str(article_id)))
            setattr(entry, outcome, count)
    report.articles = sorted(
        feedback.values(), key=lambda a: (-a.not_helpful_share, -a.not_helpful, -a.answered, a.article_id)
    )
    return report


# The rows an admin can deal with on the Help centre page.
OPEN_OUTCOMES = ("escalated", "not_helpful")


def unanswered_question(question_id: int, *, session: Session) -> KBQuestion | None:
    """The unanswered ("escalated") question, or the question whose answer a customer said "No"
    to ("not_helpful"), with this id, resolved or not; None for any other row."""
    row = session.get(KBQuestion, question_id)
    return row if row is not None and row.outcome in OPEN_OUTCOMES else None


def resolve(question: KBQuestion, *, resolution: str, article_id: str | None, by: str, session: Session) -> None:
    """Mark an unanswered question as dealt with (it leaves the report's list); the caller commits."""
    if resolution not in KB_RESOLUTIONS:
        raise ValueError(f"unknown resolution '{resolution}': use one of {', '.join(KB_RESOLUTIONS)}")
    question.resolution = resolution
    question.resolved_article = article_id
    question.resolved_by = by[:320]
    question.resolved_at = datetime.now(UTC)
    session.add(question)
