"""kb questions and their outcomes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 17:00:00
"""

import sqlalchemy as sa
from alembic import op

from bot.tickets.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('answered', 'escalated', 'off_topic', 'solved', 'not_helpful')", name="ck_kb_questions_outcome"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_questions_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_questions_outcome"), ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_questions_outcome"))
        batch_op.drop_index(batch_op.f("ix_kb_questions_asked_at"))
    op.drop_table("kb_questions")
