"""Fault reports to a charger's Service Operator, and their reference counter (FR-).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fault_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("charger_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("reporter_account_id", sa.Integer(), nullable=False),
        sa.Column("reporter_organization_id", sa.Integer(), nullable=True),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("share_identity", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ticket_reference", sa.String(length=16), nullable=True),
        sa.Column("answered_by", sa.String(length=400), nullable=True),
        sa.Column("origin", sa.JSON(), nullable=True),
        sa.Column("origin_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'ticket_opened', 'not_ours', 'to_support')", name=op.f("ck_fault_reports_status")
        ),
        sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_fault_reports_charger_id_chargers")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["organizations.id"], name=op.f("fk_fault_reports_operator_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_account_id"], ["accounts.id"], name=op.f("fk_fault_reports_reporter_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_organization_id"],
            ["organizations.id"],
            name=op.f("fk_fault_reports_reporter_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_fault_reports_reference")),
        sa.UniqueConstraint("origin_key", name=op.f("uq_fault_reports_origin_key")),
    )
    op.create_index(op.f("ix_fault_reports_operator_id"), "fault_reports", ["operator_id"], unique=False)
    op.create_index(
        "ix_fault_reports_charger_reporter", "fault_reports", ["charger_id", "reporter_account_id", "created_at"]
    )
    counters = sa.table("reference_counters", sa.column("prefix", sa.String), sa.column("last_value", sa.Integer))
    op.bulk_insert(counters, [{"prefix": "FR", "last_value": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM reference_counters WHERE prefix = 'FR'")
    op.drop_index("ix_fault_reports_charger_reporter", table_name="fault_reports")
    op.drop_index(op.f("ix_fault_reports_operator_id"), table_name="fault_reports")
    op.drop_table("fault_reports")
