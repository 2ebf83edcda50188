"""Events that belong to no request remember the key of the intent that recorded them, as requests do (0009).

A person without an account asking for a person is told to support by an event only: run again (a redelivered
message, a retried turn), the same intent must not record a second event, and so post a second triage card.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("origin_key", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(batch.f("uq_outbox_origin_key"), ["origin_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("uq_outbox_origin_key"), type_="unique")
        batch.drop_column("origin_key")
