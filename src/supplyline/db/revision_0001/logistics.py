"""Migration 0001: the logistics tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema


def upgrade() -> None:
    op.create_table(
        "logistics_product",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("storage_condition", sa.String(length=64), nullable=True),
        sa.Column("storage_min_c", sa.Float(), nullable=True),
        sa.Column("storage_max_c", sa.Float(), nullable=True),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_logistics_product_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_product")),
        sa.UniqueConstraint("tenant_id", "gtin", name=op.f("uq_logistics_product_tenant_id_gtin")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_logistics_product_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_logistics_product_tenant_id_sku")),
    )
    with op.batch_alter_table("logistics_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_product_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "logistics_lot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("production_date", sa.Date(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("supplier_organization_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["logistics_product.tenant_id", "logistics_product.id"],
            name=op.f("fk_logistics_lot_tenant_id_product_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supplier_organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_logistics_lot_tenant_id_supplier_organization_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_logistics_lot_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_lot")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_logistics_lot_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "product_id",
            "lot_code",
            name=op.f("uq_logistics_lot_tenant_id_product_id_lot_code"),
        ),
    )
    with op.batch_alter_table("logistics_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_lot_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_lot_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "logistics_inventory",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("on_hand", sa.Float(), nullable=False),
        sa.Column("allocated", sa.Float(), nullable=False),
        sa.Column("held", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lot_id"],
            ["logistics_lot.tenant_id", "logistics_lot.id"],
            name=op.f("fk_logistics_inventory_tenant_id_lot_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["logistics_product.tenant_id", "logistics_product.id"],
            name=op.f("fk_logistics_inventory_tenant_id_product_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_logistics_inventory_tenant_id_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["access_tenant.id"],
            name=op.f("fk_logistics_inventory_tenant_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_inventory")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_logistics_inventory_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "site_id",
            "product_id",
            "lot_id",
            name=op.f("uq_logistics_inventory_tenant_id_site_id_product_id_lot_id"),
        ),
    )
    with op.batch_alter_table("logistics_inventory", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_inventory_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_inventory_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_inventory_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_inventory_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "logistics_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("from_site_id", sa.Uuid(), nullable=True),
        sa.Column("to_site_id", sa.Uuid(), nullable=True),
        sa.Column("requested_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "from_site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_logistics_order_tenant_id_from_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_logistics_order_tenant_id_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "to_site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_logistics_order_tenant_id_to_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_logistics_order_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_order")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_logistics_order_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_logistics_order_tenant_id_number")),
    )
    with op.batch_alter_table("logistics_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_order_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_logistics_order_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "logistics_order_line",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lot_id"],
            ["logistics_lot.tenant_id", "logistics_lot.id"],
            name=op.f("fk_logistics_order_line_tenant_id_lot_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["logistics_order.tenant_id", "logistics_order.id"],
            name=op.f("fk_logistics_order_line_tenant_id_order_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["logistics_product.tenant_id", "logistics_product.id"],
            name=op.f("fk_logistics_order_line_tenant_id_product_id"),
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_logistics_order_line")),
    )
    with op.batch_alter_table("logistics_order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_order_line_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_order_line_product_id"), ["product_id"], unique=False)

    op.create_table(
        "logistics_shipment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.Column("destination_site_id", sa.Uuid(), nullable=False),
        sa.Column("carrier_organization_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column(
            "planned_departure_at",
            supplyline.kernel.schema.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("planned_arrival_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "actual_departure_at",
            supplyline.kernel.schema.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("actual_arrival_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "carrier_organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_logistics_shipment_tenant_id_carrier_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_logistics_shipment_tenant_id_destination_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["logistics_order.tenant_id", "logistics_order.id"],
            name=op.f("fk_logistics_shipment_tenant_id_order_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "origin_site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_logistics_shipment_tenant_id_origin_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_logistics_shipment_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_shipment")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_logistics_shipment_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_logistics_shipment_tenant_id_number")),
    )
    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_carrier_organization_id"),
            ["carrier_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_destination_site_id"),
            ["destination_site_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_logistics_shipment_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "logistics_shipment_asset",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["registry_asset.tenant_id", "registry_asset.id"],
            name=op.f("fk_logistics_shipment_asset_tenant_id_asset_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["logistics_shipment.tenant_id", "logistics_shipment.id"],
            name=op.f("fk_logistics_shipment_asset_tenant_id_shipment_id"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", "line_no", name=op.f("pk_logistics_shipment_asset")),
    )
    with op.batch_alter_table("logistics_shipment_asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_shipment_asset_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "logistics_shipment_lot",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lot_id"],
            ["logistics_lot.tenant_id", "logistics_lot.id"],
            name=op.f("fk_logistics_shipment_lot_tenant_id_lot_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["logistics_shipment.tenant_id", "logistics_shipment.id"],
            name=op.f("fk_logistics_shipment_lot_tenant_id_shipment_id"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", "line_no", name=op.f("pk_logistics_shipment_lot")),
    )
    with op.batch_alter_table("logistics_shipment_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_shipment_lot_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "logistics_shipment_device",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("assigned_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unassigned_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["registry_device.tenant_id", "registry_device.id"],
            name=op.f("fk_logistics_shipment_device_tenant_id_device_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["logistics_shipment.tenant_id", "logistics_shipment.id"],
            name=op.f("fk_logistics_shipment_device_tenant_id_shipment_id"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", "line_no", name=op.f("pk_logistics_shipment_device")),
    )
    with op.batch_alter_table("logistics_shipment_device", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_shipment_device_device_id"), ["device_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("logistics_shipment_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_device_device_id"))

    op.drop_table("logistics_shipment_device")
    with op.batch_alter_table("logistics_shipment_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_lot_lot_id"))

    op.drop_table("logistics_shipment_lot")
    with op.batch_alter_table("logistics_shipment_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_asset_asset_id"))

    op.drop_table("logistics_shipment_asset")
    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_destination_site_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_shipment_carrier_organization_id"))

    op.drop_table("logistics_shipment")
    with op.batch_alter_table("logistics_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_order_line_product_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_order_line_lot_id"))

    op.drop_table("logistics_order_line")
    with op.batch_alter_table("logistics_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_order_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_order_organization_id"))

    op.drop_table("logistics_order")
    with op.batch_alter_table("logistics_inventory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_inventory_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_inventory_site_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_inventory_product_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_inventory_lot_id"))

    op.drop_table("logistics_inventory")
    with op.batch_alter_table("logistics_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_lot_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_lot_product_id"))

    op.drop_table("logistics_lot")
    with op.batch_alter_table("logistics_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_product_tenant_id"))

    op.drop_table("logistics_product")
