"""The audit log keeps what a refused attempt carried, whatever it was: a bounded, escaped `raw_value`.

`reference` stays a real reference (indexed, looked up); a forged value that is not one goes to `raw_value`, so the
insert can no longer fail on its length (it used to, on PostgreSQL, and the refusal went unrecorded).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("raw_value", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("raw_value")
