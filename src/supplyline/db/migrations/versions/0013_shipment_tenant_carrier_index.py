"""shipments by tenant and carrier: the index a carrier's visibility reads

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Indexes only: created and dropped in place, never by copying the table (recreate="never").


def upgrade() -> None:
    with op.batch_alter_table("logistics_shipment", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_carrier_organization_id"))
        batch_op.create_index(
            "ix_logistics_shipment_tenant_carrier",
            ["tenant_id", "carrier_organization_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("logistics_shipment", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_logistics_shipment_tenant_carrier")
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_carrier_organization_id"),
            ["carrier_organization_id"],
            unique=False,
        )
