"""The conversation of a request between support and the customer's side (issue 16 §1 and §2).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=400), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("asks", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('to_requester', 'from_requester')", name=op.f("ck_request_messages_direction")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_request_messages_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_request_messages_key")),
        sa.UniqueConstraint("request_id", "number", name="uq_request_messages_request_number"),
    )
    with op.batch_alter_table("request_messages") as batch_op:
        batch_op.create_index(batch_op.f("ix_request_messages_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_table("request_messages")
