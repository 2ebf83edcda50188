"""Where a charger is installed (its site organization), for offering the right chargers in conversations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chargers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_organization_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_chargers_site_organization_id"), ["site_organization_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_chargers_site_organization_id_organizations"),
            "organizations",
            ["site_organization_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("chargers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chargers_site_organization_id_organizations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_chargers_site_organization_id"))
        batch_op.drop_column("site_organization_id")
