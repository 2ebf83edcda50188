"""One lease mechanism: delivery lanes name their holder, and conversation tickets are gone.

The lanes' lease was fenced by its expiry time alone; `lease_owner` makes it the same owner-and-until lease as the
inbox's claims and the conversation leases (`bot.engine.leases.RowLease`). Tickets ordered the turns that ran
directly in a listener; turns are ordered by the inbox, and the direct path only runs when the inbox write failed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_channels") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
    op.drop_table("conversation_tickets")


def downgrade() -> None:
    op.create_table(
        "conversation_tickets",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "order_key", name=op.f("pk_conversation_tickets")),
    )
    with op.batch_alter_table("slack_channels") as batch:
        batch.drop_column("lease_owner")
