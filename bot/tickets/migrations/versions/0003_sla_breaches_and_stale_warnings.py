"""sla breaches and stale warnings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:26:56.148977
"""

import sqlalchemy as sa
from alembic import op

from bot.tickets.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_breached_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_breached_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("stale_warned_at", UTCDateTime(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("stale_warned_at")
        batch_op.drop_column("resolution_breached_at")
        batch_op.drop_column("first_response_breached_at")
