"""Where each request was asked (origin), the audit log of refused attempts, and the Slack people registry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.JSON(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=400), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_reference"), ["reference"], unique=False)
    op.create_table(
        "slack_people",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_slack_people")),
    )
    with op.batch_alter_table("slack_people", schema=None) as batch_op:
        batch_op.create_index("ix_slack_people_email", ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slack_people", schema=None) as batch_op:
        batch_op.drop_index("ix_slack_people_email")
    op.drop_table("slack_people")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_reference"))
    op.drop_table("audit_log")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("origin")
