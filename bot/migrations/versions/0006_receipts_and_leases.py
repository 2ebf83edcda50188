"""Slack request receipts (each delivery handled once) and conversation leases (one turn at a time).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_receipts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_receipts")),
    )
    with op.batch_alter_table("slack_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_slack_receipts_received_at", ["received_at"], unique=False)
    op.create_table(
        "conversation_leases",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_conversation_leases")),
    )


def downgrade() -> None:
    op.drop_table("conversation_leases")
    with op.batch_alter_table("slack_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_slack_receipts_received_at")
    op.drop_table("slack_receipts")
