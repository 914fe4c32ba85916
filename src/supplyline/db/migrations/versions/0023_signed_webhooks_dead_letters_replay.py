"""Signed webhooks: subscription secrets; deliveries ordered per subject, dead letters, replays

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UQ = "uq_integrations_delivery_tenant_id_target_url_event_id"
NEW_UQ = "uq_integrations_delivery_once"  # the convention's name would pass 63 characters


def upgrade() -> None:
    with op.batch_alter_table("sharing_webhook", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_enc", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_enc", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "previous_secret_until", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("replay_id", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column(
                "errors",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("dead_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("retried_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(OLD_UQ, type_="unique")
        batch_op.create_unique_constraint(NEW_UQ, ["tenant_id", "target", "url", "event_id", "replay_id"])
        batch_op.create_index(
            "ix_integrations_delivery_subject", ["target", "subject", "status"], unique=False
        )


def downgrade() -> None:
    # Replayed copies have no place in the old key: they go, the deliveries events made stay.
    op.execute(sa.text("DELETE FROM integrations_delivery WHERE replay_id <> ''"))
    op.execute(sa.text("UPDATE integrations_delivery SET status = 'pending' WHERE status = 'dead'"))
    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_integrations_delivery_subject")
        batch_op.drop_constraint(NEW_UQ, type_="unique")
        batch_op.create_unique_constraint(OLD_UQ, ["tenant_id", "target", "url", "event_id"])
        batch_op.drop_column("retried_at")
        batch_op.drop_column("dead_at")
        batch_op.drop_column("errors")
        batch_op.drop_column("replay_id")
        batch_op.drop_column("position")
        batch_op.drop_column("subject")

    with op.batch_alter_table("sharing_webhook", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret_enc")
        batch_op.drop_column("secret_enc")
