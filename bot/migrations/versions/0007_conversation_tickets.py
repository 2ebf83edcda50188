"""Conversation tickets: turns of one conversation run in the order their messages were sent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_tickets",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "order_key", name=op.f("pk_conversation_tickets")),
    )


def downgrade() -> None:
    op.drop_table("conversation_tickets")
