"""rules as data

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rules_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("asset_type_id", sa.Uuid(), nullable=True),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column(
            "condition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["registry_asset.tenant_id", "registry_asset.id"],
            name=op.f("fk_rules_rule_tenant_id_asset_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_type_id"],
            ["registry_asset_type.tenant_id", "registry_asset_type.id"],
            name=op.f("fk_rules_rule_tenant_id_asset_type_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["logistics_product.tenant_id", "logistics_product.id"],
            name=op.f("fk_rules_rule_tenant_id_product_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["registry_region.tenant_id", "registry_region.id"],
            name=op.f("fk_rules_rule_tenant_id_region_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_rules_rule_tenant_id_site_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_rules_rule_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules_rule")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_rules_rule_tenant_id_id")),
    )
    with op.batch_alter_table("rules_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_rule_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_rules_rule_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rules_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_rule_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_rules_rule_code"))

    op.drop_table("rules_rule")
