"""Exports: the jobs of POST /v1/exports (Parquet datasets), read back by their owner.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exports_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("datasets", JSON, nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("files", JSON, nullable=False),
        sa.Column("rows", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_exports_job_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports_job")),
    )
    with op.batch_alter_table("exports_job", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exports_job_tenant_owner", ["tenant_id", "owner", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exports_job", schema=None) as batch_op:
        batch_op.drop_index("ix_exports_job_tenant_owner")
    op.drop_table("exports_job")
