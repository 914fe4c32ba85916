"""webhook subscriptions (partners), a wider delivery target

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharing_webhook",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "event_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_sharing_webhook_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_webhook")),
    )
    with op.batch_alter_table("sharing_webhook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_webhook_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.alter_column(
            "target", existing_type=sa.VARCHAR(length=32), type_=sa.String(length=64), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.alter_column(
            "target", existing_type=sa.String(length=64), type_=sa.VARCHAR(length=32), existing_nullable=False
        )

    with op.batch_alter_table("sharing_webhook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_webhook_tenant_id"))

    op.drop_table("sharing_webhook")
