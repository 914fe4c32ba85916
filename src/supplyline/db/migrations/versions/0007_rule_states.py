"""rule states

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rules_state",
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["registry_device.tenant_id", "registry_device.id"],
            name=op.f("fk_rules_state_tenant_id_device_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules_rule.tenant_id", "rules_rule.id"],
            name=op.f("fk_rules_state_tenant_id_rule_id"),
        ),
        sa.PrimaryKeyConstraint("rule_id", "device_id", name=op.f("pk_rules_state")),
    )
    with op.batch_alter_table("rules_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_state_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rules_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_state_tenant_id"))

    op.drop_table("rules_state")
