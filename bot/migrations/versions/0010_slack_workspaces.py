"""Slack workspaces linked to organizations: an email names an account only in the home or a linked workspace.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_workspaces",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asked_by", sa.String(length=64), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("linked_by", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_slack_workspaces_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_slack_workspaces")),
    )
    with op.batch_alter_table("slack_workspaces") as batch:
        batch.create_index(batch.f("ix_slack_workspaces_organization_id"), ["organization_id"], unique=False)
    # Learned people keep their Enterprise Grid id too: a link on the enterprise covers all its teams.
    with op.batch_alter_table("slack_people") as batch:
        batch.add_column(sa.Column("enterprise_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_people") as batch:
        batch.drop_column("enterprise_id")
    with op.batch_alter_table("slack_workspaces") as batch:
        batch.drop_index(batch.f("ix_slack_workspaces_organization_id"))
    op.drop_table("slack_workspaces")
