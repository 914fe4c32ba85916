"""Telemetry: late readings counted per device (a device's health in the console).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telemetry_device_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_count", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("telemetry_device_state", schema=None) as batch_op:
        batch_op.drop_column("late_count")
