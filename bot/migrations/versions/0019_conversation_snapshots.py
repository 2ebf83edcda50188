"""Conversation snapshots: a turn loads the tracker's state and the latest events, not every event since the start.

`window_start` is where a turn's tracker starts reading the conversation's events, `snapshot` the tracker's state
after the events before it (bot.engine.window). Existing conversations start at 0 without a snapshot, which loads
them whole, as before; their next turn moves the start forward. No event is touched.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("window_start", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("snapshot", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("snapshot")
        batch.drop_column("window_start")
