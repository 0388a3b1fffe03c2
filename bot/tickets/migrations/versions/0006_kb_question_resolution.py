"""kb questions: what an admin did about an unanswered one

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:00:00
"""

import sqlalchemy as sa
from alembic import op

from bot.tickets.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a CHECK constraint to a table, so Alembic copies it into a new one.
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("resolved_article", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(
            "ck_kb_questions_resolution", "resolution IN ('taught', 'not_answered', 'dismissed')"
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.drop_constraint("ck_kb_questions_resolution", type_="check")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolved_article")
        batch_op.drop_column("resolution")
