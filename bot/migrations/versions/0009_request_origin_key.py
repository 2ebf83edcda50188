"""Requests remember the key of the message that asked for them: the same message run twice files one request.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("origin_key", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(batch.f("uq_requests_origin_key"), ["origin_key"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint(batch.f("uq_requests_origin_key"), type_="unique")
        batch.drop_column("origin_key")
