"""The leaf hashes of purged checkpoints: retention keeps every leaf of the Merkle log.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:08:34.263404
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
        "trace_leaf",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_trace_leaf_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_trace_leaf")),
    )


def downgrade() -> None:
    op.drop_table("trace_leaf")
