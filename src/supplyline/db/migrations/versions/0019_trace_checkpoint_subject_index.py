"""Trace: checkpoints found by subject (a shipment's or a lot's timeline in the console).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_trace_checkpoint_tenant_subject",
        "trace_checkpoint",
        ["tenant_id", "subject", "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_trace_checkpoint_tenant_subject", table_name="trace_checkpoint")
