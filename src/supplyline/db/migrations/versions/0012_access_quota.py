"""quotas per tenant and per API key

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02

0010 and 0011 are written in parallel (users and roles, the audit trail); the chain is
re-linked when the branches merge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import supplyline.kernel.schema

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_quota",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("requests_per_s", sa.Float(), nullable=True),
        sa.Column("requests_burst", sa.Integer(), nullable=True),
        sa.Column("readings_per_s", sa.Float(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=True),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["access_api_key.id"], name=op.f("fk_access_quota_api_key_id")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_quota_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_quota")),
        sa.UniqueConstraint("api_key_id", name=op.f("uq_access_quota_api_key_id")),
    )
    with op.batch_alter_table("access_quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_quota_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "uq_access_quota_tenant_wide",
            ["tenant_id"],
            unique=True,
            sqlite_where=sa.text("api_key_id IS NULL"),
            postgresql_where=sa.text("api_key_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("access_quota", schema=None) as batch_op:
        batch_op.drop_index("uq_access_quota_tenant_wide")
        batch_op.drop_index(batch_op.f("ix_access_quota_tenant_id"))
    op.drop_table("access_quota")
