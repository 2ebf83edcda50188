"""Links between requests: the resolved ticket a new one follows up, and the ticket one duplicates (issue 16 §3).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("follows", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("duplicate_of")
        batch.drop_column("follows")
