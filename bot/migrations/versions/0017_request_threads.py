"""Customer replies reach their request: the channel threads requests were filed from, and DM replies' look-up.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_request_threads",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "thread_ts", "reference", name=op.f("pk_slack_request_threads")),
    )
    op.create_index("ix_slack_messages_channel_ts", "slack_messages", ["channel", "ts"])


def downgrade() -> None:
    op.drop_index("ix_slack_messages_channel_ts", table_name="slack_messages")
    op.drop_table("slack_request_threads")
