"""The Slack inbox: conversation turns stored before Slack is answered, taken by the processes that run turns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery", sa.String(length=200), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("turn", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_inbox")),
    )
    op.create_index("ix_slack_inbox_sender_order", "slack_inbox", ["sender_id", "order_key"])


def downgrade() -> None:
    op.drop_index("ix_slack_inbox_sender_order", table_name="slack_inbox")
    op.drop_table("slack_inbox")
