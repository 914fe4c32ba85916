"""governance: retention per data class, legal holds; ledger purge anchors

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import supplyline.kernel.schema

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "governance_legal_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("placed_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("released_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_governance_legal_hold_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_legal_hold")),
    )
    with op.batch_alter_table("governance_legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_governance_legal_hold_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "governance_retention",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_governance_retention_tenant_id")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "data_class", name=op.f("pk_governance_retention")),
    )
    op.create_table(
        "trace_anchor",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("cutoff", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purged", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_trace_anchor_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_trace_anchor")),
    )


def downgrade() -> None:
    op.drop_table("trace_anchor")
    op.drop_table("governance_retention")
    with op.batch_alter_table("governance_legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_legal_hold_tenant_id"))

    op.drop_table("governance_legal_hold")
